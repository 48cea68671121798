/**
 * PutObject, GetObject, HeadObject, DeleteObject. Bodies stream to the
 * staging area and are verified (signed SHA-256, Content-MD5, checksums)
 * before the atomic rename; GETs stream from the same open file whose size
 * and ETag the headers report.
 */
import type { StoredObject } from '../../storage/local-store';
import { checkReadConditions, checkWriteConditions, parseRange } from './conditions';
import { InvalidArgument, InvalidPartNumber } from './errors';
import { checksumHeader, metaFromRequest, objectHeaders, RESPONSE_OVERRIDES } from './object-headers';
import { openPayload } from './payload';
import { headerOne, queryOne, requireKey, type S3Handler, type S3Request, type S3Response } from './request';
import type { S3Deps } from './request';

export const putObject: S3Handler = async (req, deps) => {
  const { bucket, key } = requireKey(req);
  await deps.store.checkTarget(bucket, key);
  const meta = metaFromRequest(req.headers);
  const payload = openPayload(req.raw, req.auth.payload);
  const obj = await deps.store.writeObject(bucket, key, payload.stream, {
    meta,
    beforeCommit: async (staged, current) => {
      payload.verify(staged.md5);
      if (req.headers['if-match'] !== undefined || req.headers['if-none-match'] !== undefined) checkWriteConditions(req.headers, await current());
      const checksum = payload.checksum();
      return checksum ? { checksum } : undefined;
    },
  });
  deps.logger.debug({ bucket, key, size: obj.size, requestId: req.requestId }, 'object stored');
  return { headers: { etag: obj.etag, ...checksumHeader(obj.meta?.checksum) } };
};

/**
 * The byte range of part `n` (GetObject/HeadObject ?partNumber=n). An object
 * not assembled from parts is one part.
 */
function partRange(info: StoredObject, text: string): { range: { start: number; end: number }; count: number } | undefined {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new InvalidArgument('Part number must be an integer between 1 and 10000, inclusive', 'partNumber', text);
  const sizes = info.meta?.partSizes ?? [info.size];
  if (n > sizes.length) throw new InvalidPartNumber();
  if (!info.meta?.partSizes || sizes[n - 1] === 0) return undefined;
  const start = sizes.slice(0, n - 1).reduce((a, b) => a + b, 0);
  return { range: { start, end: start + sizes[n - 1]! - 1 }, count: sizes.length };
}

/** GetObject and HeadObject: the same headers, with or without the body. */
async function read(req: S3Request, deps: S3Deps, withBody: boolean): Promise<S3Response> {
  const { bucket, key } = requireKey(req);
  const opened = await deps.store.open(bucket, key);
  try {
    const info = opened.info;
    checkReadConditions(req.headers, info);
    const partNumber = queryOne(req.query, 'partNumber');
    const part = partNumber !== undefined ? partRange(info, partNumber) : undefined;
    const range = part ? part.range : parseRange(headerOne(req.headers, 'range'), info.size);
    const headers: Record<string, string | number> = objectHeaders(info);
    if (part) headers['x-amz-mp-parts-count'] = part.count;
    if (headerOne(req.headers, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED' && !range) Object.assign(headers, checksumHeader(info.meta?.checksum));
    for (const [param, name] of Object.entries(RESPONSE_OVERRIDES)) {
      const v = queryOne(req.query, param);
      if (v !== undefined) headers[name] = v;
    }
    if (range) {
      headers['content-range'] = `bytes ${range.start}-${range.end}/${info.size}`;
      headers['content-length'] = range.end - range.start + 1;
    } else {
      headers['content-length'] = info.size;
    }
    if (!withBody || (range === undefined && info.size === 0)) {
      await opened.close();
      return { status: range ? 206 : 200, headers, body: withBody ? Buffer.alloc(0) : undefined };
    }
    return { status: range ? 206 : 200, headers, body: opened.stream(range) };
  } catch (err) {
    await opened.close();
    throw err;
  }
}

export const getObject: S3Handler = (req, deps) => read(req, deps, true);
export const headObject: S3Handler = (req, deps) => read(req, deps, false);

export const deleteObject: S3Handler = async (req, deps) => {
  const { bucket, key } = requireKey(req);
  await deps.store.delete(bucket, key);
  return { status: 204 };
};
