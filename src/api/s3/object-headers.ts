/**
 * Object metadata on the wire: what a PUT (or CreateMultipartUpload, or a
 * REPLACE copy) says about the object, and the headers GET/HEAD answer with.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ObjectMeta } from '../../storage/local-meta';
import type { StoredObject } from '../../storage/local-store';
import { headerOfAlgorithm, type ChecksumAlgorithm } from './checksums';
import { MetadataTooLarge } from './errors';
import { headerOne } from './request';

/** Content headers S3 stores with an object and returns on GET/HEAD. */
const STORED = ['content-encoding', 'content-disposition', 'content-language', 'cache-control', 'expires'] as const;
const USER_PREFIX = 'x-amz-meta-';
/** S3's limit on user metadata (names and values, in bytes). */
const MAX_USER_METADATA = 2048;

export type WrittenMeta = Omit<ObjectMeta, 'etag' | 'partsCount' | 'partSizes'>;

export function metaFromRequest(h: IncomingHttpHeaders): WrittenMeta {
  const meta: WrittenMeta = {};
  const contentType = headerOne(h, 'content-type');
  if (contentType) meta.contentType = contentType;
  const user: Record<string, string> = {};
  let userBytes = 0;
  for (const name of Object.keys(h)) {
    if (!name.startsWith(USER_PREFIX)) continue;
    const value = headerOne(h, name) ?? '';
    const short = name.slice(USER_PREFIX.length);
    user[short] = value;
    userBytes += Buffer.byteLength(short) + Buffer.byteLength(value);
  }
  if (userBytes > MAX_USER_METADATA) throw new MetadataTooLarge(userBytes, MAX_USER_METADATA);
  if (Object.keys(user).length) meta.userMetadata = user;
  const stored: Record<string, string> = {};
  for (const name of STORED) {
    let value = headerOne(h, name);
    // aws-chunked is the transfer framing, not the object's encoding.
    if (name === 'content-encoding' && value) value = value.split(',').map((s) => s.trim()).filter((s) => s && s !== 'aws-chunked').join(', ');
    if (value) stored[name] = value;
  }
  if (Object.keys(stored).length) meta.headers = stored;
  return meta;
}

/** RFC 7231 date, as Last-Modified carries it. */
export const httpDate = (d: Date): string => d.toUTCString();

/** The headers GET and HEAD answer with (without Content-Length/Range). */
export function objectHeaders(o: StoredObject): Record<string, string> {
  const out: Record<string, string> = {
    'content-type': o.contentType ?? 'binary/octet-stream',
    etag: o.etag,
    'last-modified': httpDate(o.lastModified),
    'accept-ranges': 'bytes',
  };
  for (const [k, v] of Object.entries(o.meta?.headers ?? {})) out[k] = v;
  for (const [k, v] of Object.entries(o.meta?.userMetadata ?? {})) out[USER_PREFIX + k] = v;
  return out;
}

/** The header that echoes a verified checksum (x-amz-checksum-crc32: ...). */
export function checksumHeader(c: { algorithm: string; value: string } | undefined): Record<string, string> {
  return c ? { [headerOfAlgorithm(c.algorithm as ChecksumAlgorithm)]: c.value } : {};
}

/** GET's response-* query parameters (presigned URLs use them) override the stored headers. */
export const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
};
