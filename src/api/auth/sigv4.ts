/**
 * SigV4 verification. The canonical request is built by
 * @smithy/signature-v4 (the AWS SDK's own signer code) over exactly the
 * headers the client says it signed; we only parse, look up the key, hash and
 * compare.
 *
 * Header-signed requests (every SDK call, InvokeEndpoint among them) are
 * verified synchronously: the SDK's canonical-request builder through its
 * base class, then SHA-256 and HMAC from node:crypto with signing keys cached
 * per key and day. The signer's own sign() spends several times as long in
 * promise chains, a per-call HMAC for its key cache and request clones, on
 * the hot path of every request. Presigned URLs (S3 only, rare) still go
 * through the signer's presign().
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createScope, getCanonicalHeaders, SignatureV4, SignatureV4Base } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/protocol-http';
import { Hash } from '@smithy/hash-node';
import type { HeaderBag, HttpRequest as SmithyRequest } from '@smithy/types';

/** Node's native SHA-256 (the pure-JS one costs ~20 ms per MB of body). */
const Sha256 = Hash.bind(null, 'sha256');

export interface Credential {
  accessKeyId: string;
  secretAccessKey: string;
  /**
   * The signing names (services) this key may call; undefined = every service.
   * The container-only key is limited to ['s3', 'sts'] this way.
   */
  services?: readonly string[];
}

export interface SignedRequest {
  method: string;
  /** The raw path as received (still percent-encoded), without the query string. */
  path: string;
  /** Decoded query parameters. */
  query: Record<string, string | string[]>;
  /** Lower-cased header names. */
  headers: Record<string, string | string[] | undefined>;
  /** The body, when the payload hash is not given in x-amz-content-sha256. */
  body?: Buffer;
  /**
   * The payload is not part of the signature (S3 presigned URLs): the
   * canonical request carries UNSIGNED-PAYLOAD unless a signed
   * x-amz-content-sha256 header says otherwise.
   */
  unsignedPayload?: boolean;
}

export interface AuthScope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

export type AuthFailure =
  | { reason: 'missing' }
  | { reason: 'incomplete'; message: string }
  | { reason: 'unknown-key'; scope: AuthScope }
  | { reason: 'bad-signature'; scope: AuthScope }
  | { reason: 'expired'; scope: AuthScope; message: string }
  /** A valid signature by a key whose service allow-list does not name this service. */
  | { reason: 'forbidden'; scope: AuthScope };

export interface AuthSuccess {
  ok: true;
  scope: AuthScope;
  presigned: boolean;
  /** What streaming payloads (S3 aws-chunked) chain their chunk signatures from. */
  signature: string;
  amzDate: string;
  /** The derived SigV4 signing key (S3's aws-chunked payloads chain from it); cached per key and day. */
  signingKey: Buffer;
}

export type AuthResult = AuthSuccess | ({ ok: false } & AuthFailure);

const MAX_SKEW_MS = 15 * 60 * 1000;
const UNSIGNED_BODY = Object.freeze({ unsigned: true });

interface Parsed {
  scope: AuthScope;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  presigned: boolean;
  expiresSeconds?: number;
}

function header(h: SignedRequest['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
}
function queryOne(q: SignedRequest['query'], name: string): string | undefined {
  const v = q[name];
  return Array.isArray(v) ? v[0] : v;
}

function parseCredential(cred: string): AuthScope | undefined {
  const parts = cred.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request') return undefined;
  const [accessKeyId, date, region, service] = parts as [string, string, string, string];
  return { accessKeyId, date, region, service };
}

/** Reads the credential scope without verifying anything (used to route by service). */
export function peekScope(req: Pick<SignedRequest, 'headers' | 'query'>): AuthScope | undefined {
  const auth = header(req.headers, 'authorization');
  const m = auth && /Credential=([^,\s]+)/.exec(auth);
  if (m?.[1]) return parseCredential(m[1]);
  const qc = queryOne(req.query, 'X-Amz-Credential');
  return qc ? parseCredential(qc) : undefined;
}

function parse(req: SignedRequest): Parsed | AuthFailure {
  const auth = header(req.headers, 'authorization');
  if (auth) {
    if (!auth.startsWith('AWS4-HMAC-SHA256 ')) return { reason: 'incomplete', message: `Unsupported Authorization header: only AWS4-HMAC-SHA256 (SigV4) is accepted.` };
    const fields: Record<string, string> = {};
    for (const part of auth.slice('AWS4-HMAC-SHA256 '.length).split(',')) {
      const i = part.indexOf('=');
      if (i > 0) fields[part.slice(0, i).trim()] = part.slice(i + 1).trim();
    }
    const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((k) => !fields[k]);
    if (missing.length) return { reason: 'incomplete', message: `Authorization header requires '${missing.join("', '")}' parameter(s). Authorization=${auth.split(',')[0]}` };
    const scope = parseCredential(fields.Credential!);
    if (!scope) return { reason: 'incomplete', message: `Credential should be scoped to a valid region, service and aws4_request terminator. Credential=${fields.Credential}` };
    const amzDate = header(req.headers, 'x-amz-date');
    if (!amzDate) return { reason: 'incomplete', message: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header." };
    return { scope, signedHeaders: fields.SignedHeaders!.split(';'), signature: fields.Signature!, amzDate, presigned: false };
  }
  const alg = queryOne(req.query, 'X-Amz-Algorithm');
  if (alg) {
    const cred = queryOne(req.query, 'X-Amz-Credential');
    const signedHeaders = queryOne(req.query, 'X-Amz-SignedHeaders');
    const signature = queryOne(req.query, 'X-Amz-Signature');
    const amzDate = queryOne(req.query, 'X-Amz-Date');
    if (alg !== 'AWS4-HMAC-SHA256' || !cred || !signedHeaders || !signature || !amzDate) {
      return { reason: 'incomplete', message: 'Presigned URL requires X-Amz-Algorithm=AWS4-HMAC-SHA256, X-Amz-Credential, X-Amz-Date, X-Amz-SignedHeaders and X-Amz-Signature.' };
    }
    const scope = parseCredential(cred);
    if (!scope) return { reason: 'incomplete', message: `Credential should be scoped to a valid region, service and aws4_request terminator. Credential=${cred}` };
    const expires = Number(queryOne(req.query, 'X-Amz-Expires') ?? '900');
    return { scope, signedHeaders: signedHeaders.split(';'), signature, amzDate, presigned: true, expiresSeconds: expires };
  }
  return { reason: 'missing' };
}

/** An instant in ISO 8601 basic form, as X-Amz-Date has it (20261122T163000Z). */
function toAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]|\.\d+/g, '');
}

/** The last date converted: under load, requests signed in the same second come one after another. */
let lastDate = { text: '', ms: NaN };

/** Milliseconds of an ISO 8601 basic date; NaN unless it is well-formed and a real instant (no month 13). */
function amzDateToMs(d: string): number {
  if (d === lastDate.text) return lastDate.ms;
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(d);
  if (!m) return NaN;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  if (toAmzDate(ms) !== d) return NaN;
  lastDate = { text: d, ms };
  return ms;
}

/** The SDK signer's canonical request (path normalisation and escaping, query, headers), reached through its base class. */
class CanonicalForm extends SignatureV4Base {
  constructor(uriEscapePath: boolean) {
    super({ service: 'sagebox', region: 'sagebox', credentials: { accessKeyId: '', secretAccessKey: '' }, sha256: Sha256, uriEscapePath });
  }

  of(request: SmithyRequest, canonicalHeaders: HeaderBag, payloadHash: string): string {
    return this.createCanonicalRequest(request, canonicalHeaders, payloadHash);
  }
}

/** S3 signs the path as sent; every other service normalises and escapes it once more. */
const CANONICAL = { s3: new CanonicalForm(false), other: new CanonicalForm(true) };
const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

const safeEq = (a: string, b: string): boolean => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** The SigV4 signing key: HMAC chain over date, region, service. */
export function signingKeyFor(secret: string, scope: AuthScope): Buffer {
  const kDate = createHmac('sha256', `AWS4${secret}`).update(scope.date).digest();
  const kRegion = createHmac('sha256', kDate).update(scope.region).digest();
  const kService = createHmac('sha256', kRegion).update(scope.service).digest();
  return createHmac('sha256', kService).update('aws4_request').digest();
}

export class SigV4Verifier {
  private readonly keys: Map<string, Credential>;
  /** One signer per key/region/service (presigned URLs): each caches its derived signing keys per day. */
  private readonly signers = new Map<string, SignatureV4>();
  /** Derived signing keys per secret, day, region and service (header-signed requests). */
  private readonly signingKeys = new Map<string, Buffer>();

  private signingKey(secret: string, scope: AuthScope): Buffer {
    const k = `${secret}\u0000${scope.date}\u0000${scope.region}\u0000${scope.service}`;
    let key = this.signingKeys.get(k);
    if (!key) {
      key = signingKeyFor(secret, scope);
      if (this.signingKeys.size > 1000) this.signingKeys.clear();
      this.signingKeys.set(k, key);
    }
    return key;
  }

  private signerFor(scope: AuthScope, secret: string): SignatureV4 {
    const k = `${scope.accessKeyId}\u0000${scope.region}\u0000${scope.service}`;
    let signer = this.signers.get(k);
    if (!signer) {
      signer = new SignatureV4({
        credentials: { accessKeyId: scope.accessKeyId, secretAccessKey: secret },
        region: scope.region,
        service: scope.service,
        sha256: Sha256,
        uriEscapePath: scope.service !== 's3',
        applyChecksum: false,
      });
      if (this.signers.size > 1000) this.signers.clear();
      this.signers.set(k, signer);
    }
    return signer;
  }

  constructor(credentials: readonly Credential[], private readonly now: () => number = Date.now) {
    this.keys = new Map(credentials.map((c) => [c.accessKeyId, c]));
  }

  async verify(req: SignedRequest): Promise<AuthResult> {
    const p = parse(req);
    if ('reason' in p) return { ok: false, ...p };
    const credential = this.keys.get(p.scope.accessKeyId);
    if (credential === undefined) return { ok: false, reason: 'unknown-key', scope: p.scope };
    const secret = credential.secretAccessKey;
    const signedAt = amzDateToMs(p.amzDate);
    if (!Number.isFinite(signedAt)) return { ok: false, reason: 'incomplete', message: `X-Amz-Date must be in the ISO8601 basic format yyyyMMdd'T'HHmmss'Z': ${p.amzDate}` };
    const now = this.now();
    if (p.presigned) {
      if (now > signedAt + (p.expiresSeconds ?? 900) * 1000) {
        return { ok: false, reason: 'expired', scope: p.scope, message: 'Request has expired' };
      }
    } else if (Math.abs(now - signedAt) > MAX_SKEW_MS) {
      return {
        ok: false,
        reason: 'expired',
        scope: p.scope,
        message: `Signature expired: ${p.amzDate} is now earlier than ${toAmzDate(now - MAX_SKEW_MS)} (${toAmzDate(now)} - 15 min.)`,
      };
    }

    const headers: Record<string, string> = {};
    for (const h of p.signedHeaders) {
      const v = header(req.headers, h);
      if (v !== undefined) headers[h] = v;
    }
    const signable = new Set(p.signedHeaders);
    let expected: string | undefined;
    if (!p.presigned) {
      // What the signer's sign() does, step by step: the generated headers go, x-amz-date is the signing date,
      // the payload hash is the signed x-amz-content-sha256 or the body's SHA-256.
      delete headers.authorization;
      delete headers.date;
      headers['x-amz-date'] = p.amzDate;
      const payloadHash = headers['x-amz-content-sha256'] ?? sha256Hex(req.body ?? '');
      const request = { method: req.method, protocol: 'http:', hostname: '', path: req.path, query: req.query, headers } as SmithyRequest;
      const canonical = (p.scope.service === 's3' ? CANONICAL.s3 : CANONICAL.other).of(request, getCanonicalHeaders(request, undefined, signable), payloadHash);
      // The scope is the signing date's day with the credential's region and service, as the signer makes it.
      const day = { ...p.scope, date: p.amzDate.slice(0, 8) };
      const stringToSign = `AWS4-HMAC-SHA256\n${p.amzDate}\n${createScope(day.date, day.region, day.service)}\n${sha256Hex(canonical)}`;
      expected = createHmac('sha256', this.signingKey(secret, day)).update(stringToSign).digest('hex');
    } else {
      const signer = this.signerFor(p.scope, secret);
      const query = { ...req.query };
      const hostHeader = header(req.headers, 'host') ?? 'localhost';
      const signingDate = new Date(signedAt);
      delete query['X-Amz-Signature'];
      // A body that is neither bytes nor a string makes the signer use UNSIGNED-PAYLOAD.
      const body = req.unsignedPayload ? UNSIGNED_BODY : undefined;
      const request = new HttpRequest({ method: req.method, hostname: hostHeader, path: req.path, query, headers, body });
      // presign() recomputes the X-Amz-* query members itself.
      for (const k of ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders']) delete request.query[k];
      const signed = await signer.presign(request, {
        signingDate,
        expiresIn: p.expiresSeconds,
        signableHeaders: signable,
        unhoistableHeaders: new Set(Object.keys(headers)),
      });
      expected = queryOne(signed.query as SignedRequest['query'], 'X-Amz-Signature');
    }
    if (!expected || !safeEq(expected, p.signature)) return { ok: false, reason: 'bad-signature', scope: p.scope };
    if (credential.services && !credential.services.includes(p.scope.service)) return { ok: false, reason: 'forbidden', scope: p.scope };
    return { ok: true, scope: p.scope, presigned: p.presigned, signature: p.signature, amzDate: p.amzDate, signingKey: this.signingKey(secret, p.scope) };
  }
}
