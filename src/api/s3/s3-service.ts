/**
 * The S3 REST API over the embedded local store, as a RawService that
 * authenticates itself (it must hash streamed bodies as they arrive). This
 * is the one place S3 responses and errors are written: XML bodies with
 * x-amz-request-id, errors as S3's <Error> document (HEAD: status only).
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Credential, SigV4Verifier } from '../auth/sigv4';
import type { RawService } from '../registry';
import { splitUrl } from '../server';
import { authenticateS3 } from './auth';
import { AccessDenied, InternalError, S3Error, toS3Error } from './errors';
import { resolveTarget, headerOne, type S3Deps, type S3Request, type S3Response } from './request';
import { route } from './router';
import { element, escapeXml } from './xml';

export interface S3ServiceOptions {
  verifier: SigV4Verifier;
  /** The same keys the verifier holds (SigV2 requests are checked here). */
  credentials: readonly Credential[];
  /** Virtual-host base domain: `<bucket>.<baseDomain>` addresses a bucket. */
  baseDomain?: string;
}

export function createS3Service(deps: S3Deps, opts: S3ServiceOptions): RawService {
  return {
    selfAuth: true,
    async handle(request: FastifyRequest, reply: FastifyReply, ctx: { requestId: string }): Promise<void> {
      reply.hijack();
      await serve(request, reply.raw, ctx.requestId, deps, opts);
    },
  };
}

async function serve(request: FastifyRequest, res: ServerResponse, requestId: string, deps: S3Deps, opts: S3ServiceOptions): Promise<void> {
  const raw = request.raw;
  const method = raw.method ?? 'GET';
  const started = process.hrtime.bigint();
  let op = 'unknown';
  let target: { bucket?: string; key?: string; virtualHost?: boolean } = {};
  try {
    const { path, query } = splitUrl(raw.url ?? '/');
    target = resolveTarget(path, headerOne(raw.headers, 'host'), opts.baseDomain);
    const virtualHostBucket = target.virtualHost ? target.bucket : undefined;
    const auth = await authenticateS3(opts.verifier, opts.credentials, { method, path, query, headers: raw.headers, virtualHostBucket }, deps.now);
    const owner = headerOne(raw.headers, 'x-amz-expected-bucket-owner');
    if (owner !== undefined && owner !== deps.accountId) throw new AccessDenied();
    const r = route(method, target.bucket, target.key, query, raw.headers);
    op = r.name;
    const req: S3Request = { requestId, method, bucket: target.bucket, key: target.key, query, headers: raw.headers, raw, auth };
    const out = await r.handler(req, deps);
    await send(res, out, requestId, method);
    log(deps, 'debug', { op, bucket: target.bucket, key: target.key, status: out.status ?? 200, requestId, ms: msSince(started) });
  } catch (err) {
    const e = toS3Error(err);
    if (!e) deps.logger.error({ err, op, bucket: target.bucket, key: target.key, requestId }, 'unexpected error while serving an S3 request');
    const s3err = e ?? new InternalError();
    if (s3err.status >= 500 || s3err.status === 403) log(deps, s3err.status >= 500 ? 'error' : 'info', { op, bucket: target.bucket, key: target.key, code: s3err.code, requestId });
    sendError(res, s3err, requestId, method === 'HEAD');
    // A body the handler did not read (or stopped reading) is drained, so the connection stays usable.
    if (!raw.readableEnded) {
      raw.unpipe();
      raw.resume();
    }
  }
}

const msSince = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e6;

function log(deps: S3Deps, level: 'debug' | 'info' | 'error', fields: Record<string, unknown>): void {
  deps.logger[level](fields, 's3 request');
}

function baseHeaders(requestId: string): Record<string, string> {
  return { 'x-amz-request-id': requestId, 'x-amz-id-2': randomBytes(24).toString('base64'), server: 'sagebox' };
}

async function send(res: ServerResponse, out: S3Response, requestId: string, method: string): Promise<void> {
  const headers: Record<string, string | number> = baseHeaders(requestId);
  for (const [k, v] of Object.entries(out.headers ?? {})) if (v !== undefined) headers[k] = v;
  const status = out.status ?? 200;
  const body = out.body;
  if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (typeof body === 'string') headers['content-type'] ??= 'application/xml';
    if (bytes !== undefined || headers['content-length'] === undefined) headers['content-length'] ??= bytes?.length ?? 0;
    res.writeHead(status, headers);
    res.end(method === 'HEAD' ? undefined : bytes);
    return;
  }
  res.writeHead(status, headers);
  try {
    await pipeline(body, res);
  } catch {
    // The client went away mid-body, or the file could not be read: the response cannot be repaired.
    res.destroy();
  }
}

function sendError(res: ServerResponse, e: S3Error, requestId: string, head: boolean): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string | number> = { ...baseHeaders(requestId), ...e.headers };
  if (e.status === 304 || head) {
    headers['content-length'] = 0;
    res.writeHead(e.status, headers);
    res.end();
    return;
  }
  const fields = Object.entries(e.fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => element(k, String(v)))
    .join('');
  const xml =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${escapeXml(e.code)}</Code><Message>${escapeXml(e.message)}</Message>${fields}` +
    `<RequestId>${escapeXml(requestId)}</RequestId><HostId>${escapeXml(headers['x-amz-id-2'] as string)}</HostId></Error>`;
  const bytes = Buffer.from(xml, 'utf8');
  headers['content-type'] = 'application/xml';
  headers['content-length'] = bytes.length;
  res.writeHead(e.status, headers);
  res.end(bytes);
}
