/**
 * S3 authentication: SigV4 in the Authorization header or in a presigned
 * URL's query, checked by the shared SigV4Verifier (S3 signs the path as
 * sent, without double escaping). The x-amz-content-sha256 header decides how
 * the body is verified afterwards (payload.ts): a hex SHA-256 of the whole
 * body, UNSIGNED-PAYLOAD, or aws-chunked with per-chunk signatures and/or a
 * trailing checksum. Failures are answered with S3's own error codes.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { AuthScope, Credential, SigV4Verifier } from '../auth/sigv4';
import {
  AccessDenied,
  AuthorizationHeaderMalformed,
  AuthorizationQueryParametersError,
  InvalidAccessKeyId,
  InvalidArgument,
  InvalidRequest,
  NotImplemented,
  RequestTimeTooSkewed,
  SignatureDoesNotMatch,
} from './errors';
import type { PayloadMode } from './payload';
import { isSigV2, verifySigV2 } from './sigv2';

export interface S3Auth {
  scope: AuthScope;
  presigned: boolean;
  payload: PayloadMode;
}

export interface AuthInput {
  method: string;
  /** The raw (percent-encoded) path. */
  path: string;
  query: Record<string, string | string[]>;
  headers: IncomingHttpHeaders;
  /** Set for virtual-host requests (SigV2 signs the bucket as part of the resource). */
  virtualHostBucket?: string;
}

const HEX64 = /^[0-9a-fA-F]{64}$/;

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}

function hasBody(headers: IncomingHttpHeaders): boolean {
  const len = Number(headers['content-length'] ?? 0);
  return len > 0 || headers['transfer-encoding'] !== undefined;
}

function payloadMode(sha: string | undefined, presigned: boolean, headers: IncomingHttpHeaders): PayloadMode | 'empty' {
  if (sha === undefined) {
    if (presigned) return { kind: 'unsigned' };
    if (hasBody(headers)) throw new InvalidRequest('Missing required header for this request: x-amz-content-sha256');
    return 'empty';
  }
  if (sha === 'UNSIGNED-PAYLOAD') return { kind: 'unsigned' };
  if (HEX64.test(sha)) return { kind: 'sha256', hash: sha.toLowerCase() };
  if (sha === 'STREAMING-UNSIGNED-PAYLOAD-TRAILER') return { kind: 'chunked', trailer: true };
  if (sha === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD') return { kind: 'chunked', trailer: false };
  if (sha === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER') return { kind: 'chunked', trailer: true };
  if (sha.startsWith('STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD')) throw new NotImplemented('SigV4a (ECDSA) streaming signatures');
  throw new InvalidArgument('x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.', 'x-amz-content-sha256', sha);
}

/**
 * Verifies the request's signature (SigV4, or the legacy SigV2 that older
 * boto3 presigns with); resolves with who signed it and how to read the body.
 */
export async function authenticateS3(verifier: SigV4Verifier, credentials: readonly Credential[], req: AuthInput, now: () => number): Promise<S3Auth> {
  if (isSigV2(req)) {
    const accessKeyId = verifySigV2(req, credentials, now());
    return { scope: { accessKeyId, date: '', region: '', service: 's3' }, presigned: req.headers.authorization === undefined, payload: { kind: 'unsigned' } };
  }
  const authHeader = one(req.headers.authorization);
  const presigned = authHeader === undefined && req.query['X-Amz-Algorithm'] !== undefined;
  if (authHeader === undefined && !presigned) throw new AccessDenied('Access Denied: anonymous requests are not accepted; sign the request');
  const sha = one(req.headers['x-amz-content-sha256']);
  const mode = payloadMode(sha, presigned, req.headers);
  const result = await verifier
    .verify({ method: req.method, path: req.path, query: req.query, headers: req.headers, body: mode === 'empty' ? Buffer.alloc(0) : undefined, unsignedPayload: presigned })
    .catch((err: unknown) => {
      // The signer refuses some inputs outright (e.g. a presigned expiry over 7 days).
      throw presigned ? new AuthorizationQueryParametersError(String(err)) : new AuthorizationHeaderMalformed(String(err));
    });
  if (!result.ok) {
    switch (result.reason) {
      case 'missing':
        throw new AccessDenied();
      case 'incomplete':
        throw presigned ? new AuthorizationQueryParametersError(result.message) : new AuthorizationHeaderMalformed(result.message);
      case 'unknown-key':
        throw new InvalidAccessKeyId(result.scope.accessKeyId);
      case 'bad-signature':
        throw new SignatureDoesNotMatch(result.scope.accessKeyId);
      case 'expired': {
        if (presigned) throw new AccessDenied('Request has expired');
        const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
        const amzDate = one(req.headers['x-amz-date']) ?? '';
        throw new RequestTimeTooSkewed(amzDate, iso(now()));
      }
      case 'forbidden':
        throw new AccessDenied(`Access Denied: the key ${result.scope.accessKeyId} may not call ${result.scope.service}`);
    }
  }
  let payload: PayloadMode = mode === 'empty' ? { kind: 'unsigned' } : mode;
  if (payload.kind === 'chunked' && sha?.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD')) {
    const s = result.scope;
    payload = {
      ...payload,
      signing: { signingKey: result.signingKey, amzDate: result.amzDate, scope: `${s.date}/${s.region}/${s.service}/aws4_request`, seedSignature: result.signature },
    };
  }
  return { scope: result.scope, presigned, payload };
}
