/**
 * ListObjectsV2 and ListObjects (v1): prefix, delimiter, start-after /
 * marker, continuation tokens, max-keys (at most 1000) and encoding-type=url.
 * With delimiter '/' the store rolls whole directories up into common
 * prefixes without walking them; other delimiters group keys as they come.
 */
import { compareKeys } from '../../storage/keys';
import type { StoredObject } from '../../storage/local-store';
import { InvalidArgument } from './errors';
import { intParam, queryOne, requireBucket, type S3Deps, type S3Handler, type S3Request } from './request';
import { ownerOf } from './buckets';
import { xmlDocument, type XmlNode } from './xml';

const MAX_KEYS = 1000;

interface Page {
  contents: StoredObject[];
  prefixes: string[];
  truncated: boolean;
  /** The last key or common prefix returned: where the next page starts after. */
  last?: string;
}

/** One page of a listing: at most `maxKeys` keys and common prefixes together. */
export async function listPage(
  deps: S3Deps,
  bucket: string,
  opts: { prefix: string; delimiter?: string; startAfter?: string; maxKeys: number },
): Promise<Page> {
  const { prefix, delimiter, startAfter, maxKeys } = opts;
  const page: Page = { contents: [], prefixes: [], truncated: false };
  let count = 0;
  const add = (item: StoredObject | string): boolean => {
    if (count === maxKeys) {
      page.truncated = true;
      return false;
    }
    count++;
    if (typeof item === 'string') {
      page.prefixes.push(item);
      page.last = item;
    } else {
      page.contents.push(item);
      page.last = item.key;
    }
    return true;
  };
  const entries = deps.store.listEntries(bucket, { prefix, startAfter, rollUp: delimiter === '/' });
  try {
    for await (const e of entries) {
      let ok: boolean;
      if ('commonPrefix' in e) {
        if (e.commonPrefix === page.last) continue;
        ok = add(e.commonPrefix);
      } else if (delimiter) {
        const i = e.key.indexOf(delimiter, prefix.length);
        if (i < 0) {
          ok = add(e);
        } else {
          const cp = e.key.slice(0, i + delimiter.length);
          // Keys of a group already returned (or one start-after points into) are skipped together.
          if (cp === page.last || (startAfter !== undefined && compareKeys(cp, startAfter) <= 0)) continue;
          ok = add(cp);
        }
      } else {
        ok = add(e);
      }
      if (!ok) break;
    }
  } finally {
    await entries.return(undefined);
  }
  if (maxKeys === 0) page.truncated = false;
  return page;
}

function encodingOf(req: S3Request): ((s: string) => string) | undefined {
  const enc = queryOne(req.query, 'encoding-type');
  if (enc === undefined || enc === '') return undefined;
  if (enc.toLowerCase() !== 'url') throw new InvalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', enc);
  // As S3 does: percent-encode, but leave '/' readable.
  return (s) => encodeURIComponent(s).replace(/%2F/g, '/');
}

function contentsXml(o: StoredObject, enc: (s: string) => string, owner?: XmlNode): XmlNode {
  return [
    'Contents',
    [
      ['Key', enc(o.key)],
      ['LastModified', o.lastModified],
      ['ETag', o.etag],
      ...(o.meta?.checksum ? ([['ChecksumAlgorithm', o.meta.checksum.algorithm]] as XmlNode[]) : []),
      ['Size', o.size],
      owner,
      ['StorageClass', 'STANDARD'],
    ],
  ];
}

const TOKEN_TAG = 'sbx1:';
const encodeToken = (last: string): string => Buffer.from(TOKEN_TAG + last, 'utf8').toString('base64url');
function decodeToken(token: string): string {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  if (!text.startsWith(TOKEN_TAG)) throw new InvalidArgument('The continuation token provided is incorrect', 'continuation-token', token);
  return text.slice(TOKEN_TAG.length);
}

/** The parameters ListObjects v1 and v2 share. */
function listParams(req: Parameters<S3Handler>[0]) {
  const enc = encodingOf(req);
  return {
    bucket: requireBucket(req),
    enc,
    e: enc ?? ((s: string) => s),
    prefix: queryOne(req.query, 'prefix') ?? '',
    delimiter: queryOne(req.query, 'delimiter') || undefined,
    maxKeys: intParam(req.query, 'max-keys', MAX_KEYS, 0, MAX_KEYS),
  };
}

export const listObjectsV2: S3Handler = async (req, deps) => {
  const { bucket, enc, e, prefix, delimiter, maxKeys } = listParams(req);
  const token = queryOne(req.query, 'continuation-token');
  const startAfterParam = queryOne(req.query, 'start-after') || undefined;
  const startAfter = token ? decodeToken(token) : startAfterParam;
  const fetchOwner = queryOne(req.query, 'fetch-owner') === 'true';
  const page = await listPage(deps, bucket, { prefix, delimiter, startAfter, maxKeys });
  const owner = fetchOwner ? (ownerOf(deps) as XmlNode) : undefined;
  return {
    body: xmlDocument('ListBucketResult', [
      ['Name', bucket],
      ['Prefix', e(prefix)],
      delimiter !== undefined ? ['Delimiter', e(delimiter)] : undefined,
      ['MaxKeys', maxKeys],
      enc ? ['EncodingType', 'url'] : undefined,
      ['KeyCount', page.contents.length + page.prefixes.length],
      ['IsTruncated', page.truncated],
      token ? ['ContinuationToken', token] : undefined,
      page.truncated && page.last !== undefined ? ['NextContinuationToken', encodeToken(page.last)] : undefined,
      startAfterParam !== undefined ? ['StartAfter', e(startAfterParam)] : undefined,
      ...page.contents.map((o) => contentsXml(o, e, owner)),
      ...page.prefixes.map((p): XmlNode => ['CommonPrefixes', [['Prefix', e(p)]]]),
    ]),
  };
};

export const listObjectsV1: S3Handler = async (req, deps) => {
  const { bucket, enc, e, prefix, delimiter, maxKeys } = listParams(req);
  const marker = queryOne(req.query, 'marker') ?? '';
  const page = await listPage(deps, bucket, { prefix, delimiter, startAfter: marker || undefined, maxKeys });
  const owner = ownerOf(deps) as XmlNode;
  return {
    body: xmlDocument('ListBucketResult', [
      ['Name', bucket],
      ['Prefix', e(prefix)],
      ['Marker', e(marker)],
      // S3 sends NextMarker only with a delimiter; clients otherwise continue from the last key.
      page.truncated && delimiter !== undefined && page.last !== undefined ? ['NextMarker', e(page.last)] : undefined,
      ['MaxKeys', maxKeys],
      delimiter !== undefined ? ['Delimiter', e(delimiter)] : undefined,
      ['IsTruncated', page.truncated],
      enc ? ['EncodingType', 'url'] : undefined,
      ...page.contents.map((o) => contentsXml(o, e, owner)),
      ...page.prefixes.map((p): XmlNode => ['CommonPrefixes', [['Prefix', e(p)]]]),
    ]),
  };
};
