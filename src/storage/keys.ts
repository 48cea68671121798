import { InvalidBucketNameError, InvalidObjectKeyError } from './errors';

/**
 * Rules every store applies to keys. S3 itself allows almost anything; the
 * narrower rule keeps a key from escaping a directory when it becomes a path
 * (local store, downloads).
 */
export function validateKey(key: string): void {
  if (key.length === 0) throw new InvalidObjectKeyError(key, 'the key is empty');
  if (Buffer.byteLength(key) > 1024) throw new InvalidObjectKeyError(key, 'longer than 1024 bytes');
  if (key.includes('\0')) throw new InvalidObjectKeyError(key, 'contains NUL');
  if (key.startsWith('/')) throw new InvalidObjectKeyError(key, "starts with '/'");
  if (key.split('/').some((s) => s === '..')) throw new InvalidObjectKeyError(key, "has a '..' segment");
}

/** A prefix may be empty or end mid-segment, but must not climb out either. */
export function validatePrefix(prefix: string): void {
  if (prefix.length === 0) return;
  validateKey(prefix);
}

/** S3 "folder" markers: zero-byte objects whose key ends in '/' (console "Create folder"). */
export function isFolderMarker(key: string): boolean {
  return key.endsWith('/');
}

/** Joins a key prefix and a relative path with exactly one '/'. An empty prefix yields the path. */
export function joinKey(prefix: string, relativePath: string): string {
  const rel = relativePath.replace(/^\/+/, '');
  if (prefix === '') return rel;
  return prefix.endsWith('/') ? prefix + rel : `${prefix}/${rel}`;
}

/** S3's listing order: ascending by the UTF-8 bytes of the key. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IPV4_RE = /^\d{1,3}(\.\d{1,3}){3}$/;

/** The general-purpose bucket naming rules of S3 (3-63 chars, lowercase, digits, '.', '-'). */
export function validateBucketName(bucket: string): void {
  if (bucket.length < 3 || bucket.length > 63) throw new InvalidBucketNameError(bucket, 'must be 3 to 63 characters long');
  if (!BUCKET_RE.test(bucket)) {
    throw new InvalidBucketNameError(bucket, 'use lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit');
  }
  if (bucket.includes('..')) throw new InvalidBucketNameError(bucket, 'must not contain two adjacent dots');
  if (IPV4_RE.test(bucket)) throw new InvalidBucketNameError(bucket, 'must not look like an IP address');
  if (bucket.startsWith('xn--') || bucket.startsWith('sthree-')) throw new InvalidBucketNameError(bucket, 'uses a reserved prefix');
  if (bucket.endsWith('-s3alias') || bucket.endsWith('--ol-s3')) throw new InvalidBucketNameError(bucket, 'uses a reserved suffix');
}
