/**
 * Conditional requests and byte ranges, evaluated the way S3 (RFC 7232/7233)
 * does: If-Match, then If-Unmodified-Since (only without If-Match) fail with
 * 412; If-None-Match, then If-Modified-Since (only without If-None-Match)
 * give 304 on reads. Dates compare at one-second resolution, as HTTP dates
 * carry no more.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { StoredObject } from '../../storage/local-store';
import { InvalidRange, NotModified, PreconditionFailed } from './errors';
import { httpDate } from './object-headers';
import { headerOne } from './request';

const unquote = (etag: string): string => etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '');

/** True when the header's list (`"a", "b"` or `*`) names the object's ETag. */
export function etagMatches(list: string, etag: string): boolean {
  const want = unquote(etag);
  return list.split(',').some((e) => e.trim() === '*' || unquote(e) === want);
}

function dateOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

const seconds = (d: Date): number => Math.floor(d.getTime() / 1000) * 1000;

/**
 * Read conditions (GetObject, HeadObject) under a header prefix: '' for the
 * object itself, 'x-amz-copy-source-' for a copy's source (where the 304
 * cases are 412 too).
 */
export function checkReadConditions(h: IncomingHttpHeaders, o: StoredObject, prefix = ''): void {
  const ifMatch = headerOne(h, `${prefix}if-match`);
  const ifNoneMatch = headerOne(h, `${prefix}if-none-match`);
  const ifModifiedSince = dateOf(headerOne(h, `${prefix}if-modified-since`));
  const ifUnmodifiedSince = dateOf(headerOne(h, `${prefix}if-unmodified-since`));
  const modified = seconds(o.lastModified);
  const copy = prefix !== '';
  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, o.etag)) throw new PreconditionFailed(`${prefix}If-Match`);
  } else if (ifUnmodifiedSince !== undefined && modified > ifUnmodifiedSince) {
    throw new PreconditionFailed(`${prefix}If-Unmodified-Since`);
  }
  const notModified = (): Error =>
    copy ? new PreconditionFailed(ifNoneMatch !== undefined ? `${prefix}If-None-Match` : `${prefix}If-Modified-Since`) : new NotModified({ etag: o.etag, 'last-modified': httpDate(o.lastModified) });
  if (ifNoneMatch !== undefined) {
    if (etagMatches(ifNoneMatch, o.etag)) throw notModified();
  } else if (ifModifiedSince !== undefined && modified <= ifModifiedSince) {
    throw notModified();
  }
}

/** Conditional writes: If-None-Match: * (only when absent) and If-Match (only this version). */
export function checkWriteConditions(h: IncomingHttpHeaders, current: StoredObject | undefined): void {
  const ifNoneMatch = headerOne(h, 'if-none-match');
  const ifMatch = headerOne(h, 'if-match');
  if (ifNoneMatch !== undefined && current && etagMatches(ifNoneMatch, current.etag)) throw new PreconditionFailed('If-None-Match');
  if (ifMatch !== undefined && (!current || !etagMatches(ifMatch, current.etag))) throw new PreconditionFailed('If-Match');
}

/**
 * The inclusive byte range a Range header asks for; undefined for no header
 * or one S3 ignores (malformed, several ranges). Unsatisfiable: InvalidRange.
 */
export function parseRange(text: string | undefined, size: number): { start: number; end: number } | undefined {
  if (text === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(text.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) throw new InvalidRange(text, size);
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  if (start >= size) throw new InvalidRange(text, size);
  return { start, end: m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1) };
}
