/**
 * What every S3 operation handler receives: the addressed bucket and key
 * (path-style `/<bucket>/<key>` or virtual-host `<bucket>.<base domain>/<key>`),
 * the decoded query, the headers, the authenticated caller and the body.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { LocalMultipartUploads } from '../../storage/local-multipart';
import type { LocalObjectStore } from '../../storage/local-store';
import type { S3Auth } from './auth';
import { InvalidArgument, InvalidURI } from './errors';

export interface S3Deps {
  store: LocalObjectStore;
  uploads: LocalMultipartUploads;
  region: string;
  accountId: string;
  logger: Logger;
  now: () => number;
}

export interface S3Request {
  requestId: string;
  method: string;
  bucket?: string;
  key?: string;
  query: Record<string, string | string[]>;
  headers: IncomingHttpHeaders;
  raw: IncomingMessage;
  auth: S3Auth;
}

/** What a handler answers; s3-service.ts writes it. */
export interface S3Response {
  status?: number;
  headers?: Record<string, string | number | undefined>;
  /** An XML document (string), bytes, or a stream (GetObject). */
  body?: string | Buffer | Readable;
}

export type S3Handler = (req: S3Request, deps: S3Deps) => Promise<S3Response>;

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new InvalidURI();
  }
}

/**
 * Finds the bucket and key a request addresses. With a base domain such as
 * `s3.localhost`, a Host of `<bucket>.s3.localhost[:port]` is virtual-host
 * style and the whole path is the key; any other Host is path-style.
 */
export function resolveTarget(rawPath: string, host: string | undefined, baseDomain: string | undefined): { bucket?: string; key?: string; virtualHost?: boolean } {
  const hostname = (host ?? '').replace(/:\d+$/, '').toLowerCase();
  if (baseDomain && hostname.endsWith(`.${baseDomain.toLowerCase()}`)) {
    const bucket = hostname.slice(0, -(baseDomain.length + 1));
    const key = decode(rawPath.slice(1));
    return { bucket, key: key === '' ? undefined : key, virtualHost: true };
  }
  const rest = rawPath.replace(/^\/+/, '');
  if (rest === '') return {};
  const slash = rest.indexOf('/');
  if (slash < 0) return { bucket: decode(rest) };
  const key = decode(rest.slice(slash + 1));
  return { bucket: decode(rest.slice(0, slash)), key: key === '' ? undefined : key };
}

export function queryOne(q: S3Request['query'], name: string): string | undefined {
  const v = q[name];
  return Array.isArray(v) ? v[0] : v;
}

export function headerOne(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** An integer query parameter within [min, max], or the default. */
export function intParam(q: S3Request['query'], name: string, dflt: number, min: number, max: number): number {
  const text = queryOne(q, name);
  if (text === undefined || text === '') return dflt;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgument(`Provided ${name} not an integer or within integer range`, name, text);
  return Math.min(n, max);
}

export function requireBucket(req: S3Request): string {
  if (!req.bucket) throw new InvalidArgument('This operation needs a bucket.');
  return req.bucket;
}

export function requireKey(req: S3Request): { bucket: string; key: string } {
  const bucket = requireBucket(req);
  if (req.key === undefined) throw new InvalidArgument('This operation needs an object key.');
  return { bucket, key: req.key };
}
