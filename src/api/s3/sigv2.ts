/**
 * S3's legacy signature (SigV2, HMAC-SHA1), in the Authorization header
 * (`AWS <key>:<sig>`) or a presigned URL (`AWSAccessKeyId`, `Expires`,
 * `Signature`). boto3 up to 1.3x still presigns S3 URLs this way by default,
 * so presigned URLs made by the SageMaker Python SDK's boto3 arrive like this.
 * The body is not signed (Content-MD5, when sent, is checked on arrival).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Credential } from '../auth/sigv4';
import { AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch } from './errors';

/** Query parameters that are part of the signed resource (with their decoded values). */
const SUB_RESOURCES = new Set([
  'acl', 'cors', 'delete', 'lifecycle', 'location', 'logging', 'notification', 'partNumber', 'policy', 'requestPayment',
  'restore', 'tagging', 'torrent', 'uploadId', 'uploads', 'versionId', 'versioning', 'versions', 'website',
  'response-cache-control', 'response-content-disposition', 'response-content-encoding', 'response-content-language',
  'response-content-type', 'response-expires',
]);

const MAX_SKEW_MS = 15 * 60 * 1000;

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}

export interface SigV2Input {
  method: string;
  /** The raw (percent-encoded) path. */
  path: string;
  query: Record<string, string | string[]>;
  headers: IncomingHttpHeaders;
  /** The bucket when it came from the Host (virtual-host style): it is signed as a path prefix. */
  virtualHostBucket?: string;
}

export function isSigV2(req: Pick<SigV2Input, 'headers' | 'query'>): boolean {
  const auth = one(req.headers.authorization);
  return auth !== undefined ? auth.startsWith('AWS ') : req.query.AWSAccessKeyId !== undefined && req.query.Signature !== undefined;
}

function stringToSign(req: SigV2Input, dateOrExpires: string): string {
  const amz = Object.keys(req.headers)
    .filter((h) => h.startsWith('x-amz-'))
    .sort()
    .map((h) => `${h}:${(one(req.headers[h]) ?? '').replace(/\s+/g, ' ').trim()}\n`)
    .join('');
  const subs = Object.keys(req.query)
    .filter((k) => SUB_RESOURCES.has(k))
    .sort()
    .map((k) => {
      const v = one(req.query[k]);
      return v === undefined || v === '' ? k : `${k}=${v}`;
    });
  const resource = (req.virtualHostBucket ? `/${req.virtualHostBucket}` : '') + req.path + (subs.length ? `?${subs.join('&')}` : '');
  return [req.method, one(req.headers['content-md5']) ?? '', one(req.headers['content-type']) ?? '', dateOrExpires].join('\n') + '\n' + amz + resource;
}

/** Verifies a SigV2 request; resolves with the access key id, or throws the S3 error. */
export function verifySigV2(req: SigV2Input, credentials: readonly Credential[], now: number): string {
  const auth = one(req.headers.authorization);
  let accessKeyId: string;
  let signature: string;
  let date: string;
  if (auth !== undefined) {
    const m = /^AWS ([^:\s]+):(\S+)$/.exec(auth.trim());
    if (!m) throw new AccessDenied('Malformed SigV2 Authorization header');
    accessKeyId = m[1]!;
    signature = m[2]!;
    // With x-amz-date the Date slot is empty: the header is signed among the x-amz-* ones.
    const amzDate = one(req.headers['x-amz-date']);
    date = amzDate !== undefined ? '' : (one(req.headers.date) ?? '');
    const when = Date.parse(amzDate ?? date);
    if (!Number.isFinite(when) || Math.abs(now - when) > MAX_SKEW_MS) throw new AccessDenied('Request time is missing or too skewed');
  } else {
    accessKeyId = one(req.query.AWSAccessKeyId) ?? '';
    signature = one(req.query.Signature) ?? '';
    date = one(req.query.Expires) ?? '';
    if (!/^\d+$/.test(date)) throw new AccessDenied('Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters');
    if (Number(date) * 1000 < now) throw new AccessDenied('Request has expired');
  }
  const cred = credentials.find((c) => c.accessKeyId === accessKeyId);
  if (!cred) throw new InvalidAccessKeyId(accessKeyId);
  const expected = createHmac('sha1', cred.secretAccessKey).update(stringToSign(req, date), 'utf8').digest('base64');
  const ok = expected.length === signature.length && timingSafeEqual(Buffer.from(expected), Buffer.from(signature));
  if (!ok) throw new SignatureDoesNotMatch(accessKeyId);
  if (cred.services && !cred.services.includes('s3')) throw new AccessDenied(`Access Denied: the key ${accessKeyId} may not call s3`);
  return accessKeyId;
}
