import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InvalidUriError } from './errors';

export type ParsedUri =
  | { scheme: 's3'; bucket: string; key: string }
  | { scheme: 'file'; path: string };

/**
 * The locations a SageMaker request may name:
 * - `s3://bucket/key`: the key is taken literally (no percent-decoding), as the AWS CLI does;
 * - `https://bucket.s3.region.amazonaws.com/key` and the path-style
 *   `https://s3.region.amazonaws.com/bucket/key`: the key is percent-decoded;
 * - `file:///abs/path` (local mode): an absolute host path.
 */
export function parseUri(uri: string): ParsedUri {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(uri)?.[1]?.toLowerCase();
  if (scheme === 's3') return { scheme: 's3', ...parseS3Scheme(uri) };
  if (scheme === 'https' || scheme === 'http') return { scheme: 's3', ...parseS3Url(uri) };
  if (scheme === 'file') return { scheme: 'file', path: parseFileUri(uri) };
  throw new InvalidUriError(uri, 'expected s3://bucket/key, https://bucket.s3.region.amazonaws.com/key or file:///path');
}

/** Like parseUri, but only object-store locations are accepted. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const parsed = parseUri(uri);
  if (parsed.scheme !== 's3') throw new InvalidUriError(uri, 'expected an s3:// URI');
  return { bucket: parsed.bucket, key: parsed.key };
}

export function formatS3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

export function formatFileUri(absolutePath: string): string {
  return pathToFileURL(absolutePath).href;
}

function parseS3Scheme(uri: string): { bucket: string; key: string } {
  if (uri.slice(0, 5).toLowerCase() !== 's3://') throw new InvalidUriError(uri, "expected 's3://' followed by a bucket");
  const rest = uri.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const key = slash === -1 ? '' : rest.slice(slash + 1);
  if (bucket === '') throw new InvalidUriError(uri, 'the bucket name is empty');
  return { bucket, key };
}

// bucket.s3.amazonaws.com, bucket.s3.us-west-2.amazonaws.com, bucket.s3-us-west-2.amazonaws.com,
// bucket.s3.dualstack.us-west-2.amazonaws.com, and the same without "bucket." (path style); .cn too.
const S3_HOST_RE = /^(?:(.+)\.)?s3(?:[.-](?:dualstack\.)?[a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?$/;

function parseS3Url(uri: string): { bucket: string; key: string } {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new InvalidUriError(uri, 'not a valid URL');
  }
  const match = S3_HOST_RE.exec(url.hostname);
  if (!match) throw new InvalidUriError(uri, 'not an Amazon S3 URL (expected https://bucket.s3.region.amazonaws.com/key)');
  const rawPath = url.pathname.replace(/^\//, '');
  let bucket = match[1];
  let rawKey = rawPath;
  if (bucket === undefined) {
    const slash = rawPath.indexOf('/');
    bucket = slash === -1 ? rawPath : rawPath.slice(0, slash);
    rawKey = slash === -1 ? '' : rawPath.slice(slash + 1);
  }
  if (bucket === '') throw new InvalidUriError(uri, 'no bucket name in the URL');
  try {
    return { bucket: decodeURIComponent(bucket), key: decodeURIComponent(rawKey) };
  } catch {
    throw new InvalidUriError(uri, 'bad percent-encoding in the key');
  }
}

function parseFileUri(uri: string): string {
  let p: string;
  try {
    p = fileURLToPath(new URL(uri));
  } catch (err) {
    throw new InvalidUriError(uri, `file URIs must name an absolute path, as file:///abs/path (${(err as Error).message})`);
  }
  if (!path.isAbsolute(p)) throw new InvalidUriError(uri, 'file URIs must name an absolute path, as file:///abs/path');
  // Keep a trailing slash: it tells a directory prefix from a file.
  return p;
}
