/**
 * Multipart uploads: CreateMultipartUpload, UploadPart, UploadPartCopy,
 * CompleteMultipartUpload, AbortMultipartUpload, ListParts and
 * ListMultipartUploads, over src/storage/local-multipart.ts.
 */
import { MAX_PART_NUMBER } from '../../storage/local-multipart';
import { compareKeys } from '../../storage/keys';
import { ownerOf } from './buckets';
import { checkWriteConditions, parseRange } from './conditions';
import { openCopySource } from './copy-object';
import { InvalidArgument, InvalidRange, MalformedXML, NoSuchBucket } from './errors';
import { checksumHeader, metaFromRequest } from './object-headers';
import { openPayload, readSmallPayload } from './payload';
import { headerOne, intParam, queryOne, requireBucket, requireKey, type S3Handler, type S3Request } from './request';
import { child, childrenNamed, parseXml, XmlParseError, xmlDocument, type XmlNode } from './xml';

function partNumberOf(req: S3Request): number {
  const text = queryOne(req.query, 'partNumber') ?? '';
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PART_NUMBER) {
    throw new InvalidArgument(`Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`, 'partNumber', text);
  }
  return n;
}

const uploadIdOf = (req: S3Request): string => queryOne(req.query, 'uploadId') ?? '';

export const createMultipartUpload: S3Handler = async (req, deps) => {
  const { bucket, key } = requireKey(req);
  const upload = await deps.uploads.create(bucket, key, metaFromRequest(req.headers), deps.now());
  deps.logger.debug({ bucket, key, uploadId: upload.uploadId }, 'multipart upload started');
  return {
    body: xmlDocument('InitiateMultipartUploadResult', [
      ['Bucket', bucket],
      ['Key', key],
      ['UploadId', upload.uploadId],
    ]),
  };
};

export const uploadPart: S3Handler = async (req, deps) => {
  const { bucket, key } = requireKey(req);
  const partNumber = partNumberOf(req);
  const upload = deps.uploads.get(uploadIdOf(req), bucket, key);
  const payload = openPayload(req.raw, req.auth.payload);
  const part = await deps.uploads.uploadPart(upload, partNumber, payload.stream, { beforeCommit: (staged) => payload.verify(staged.md5) });
  return { headers: { etag: part.etag, ...checksumHeader(payload.checksum()) } };
};

export const uploadPartCopy: S3Handler = async (req, deps) => {
  const { bucket, key } = requireKey(req);
  const partNumber = partNumberOf(req);
  const upload = deps.uploads.get(uploadIdOf(req), bucket, key);
  const source = await openCopySource(req, deps);
  let range: { start: number; end: number } | undefined;
  try {
    const rangeText = headerOne(req.headers, 'x-amz-copy-source-range');
    if (rangeText !== undefined) {
      range = parseRange(rangeText, source.opened.info.size);
      // A copy range must lie inside the source, and be well formed.
      if (!range || !/^bytes=\d+-\d+$/.test(rangeText.trim()) || Number(rangeText.split('-')[1]) >= source.opened.info.size) {
        throw new InvalidRange(rangeText, source.opened.info.size);
      }
    }
  } catch (err) {
    await source.opened.close();
    throw err;
  }
  const body = source.opened.stream(range);
  const part = await deps.uploads.uploadPart(upload, partNumber, body).finally(() => body.destroy());
  return {
    body: xmlDocument('CopyPartResult', [
      ['LastModified', new Date(part.lastModified)],
      ['ETag', part.etag],
    ]),
  };
};

export const completeMultipartUpload: S3Handler = async (req, deps) => {
  const { bucket, key } = requireKey(req);
  const upload = deps.uploads.get(uploadIdOf(req), bucket, key);
  const body = await readSmallPayload(req.raw, req.auth.payload, 4 * 1024 * 1024);
  let parts: { partNumber: number; etag: string }[];
  try {
    const doc = parseXml(body.toString('utf8'));
    if (doc.name !== 'CompleteMultipartUpload') throw new MalformedXML();
    parts = childrenNamed(doc, 'Part').map((p) => {
      const n = Number(child(p, 'PartNumber')?.text.trim());
      const etag = child(p, 'ETag')?.text.trim();
      if (!Number.isInteger(n) || etag === undefined) throw new MalformedXML();
      return { partNumber: n, etag };
    });
  } catch (err) {
    if (err instanceof XmlParseError) throw new MalformedXML();
    throw err;
  }
  if (parts.length === 0) throw new MalformedXML();
  const obj = await deps.uploads.complete(upload, parts, async (_staged, current) => {
    if (req.headers['if-match'] !== undefined || req.headers['if-none-match'] !== undefined) checkWriteConditions(req.headers, await current());
  });
  deps.logger.debug({ bucket, key, parts: parts.length, size: obj.size, requestId: req.requestId }, 'multipart upload completed');
  const host = headerOne(req.headers, 'host') ?? 'localhost';
  return {
    body: xmlDocument('CompleteMultipartUploadResult', [
      ['Location', `http://${host}/${bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`],
      ['Bucket', bucket],
      ['Key', key],
      ['ETag', obj.etag],
    ]),
  };
};

export const abortMultipartUpload: S3Handler = async (req, deps) => {
  const { bucket, key } = requireKey(req);
  await deps.uploads.abort(deps.uploads.get(uploadIdOf(req), bucket, key));
  return { status: 204 };
};

export const listParts: S3Handler = async (req, deps) => {
  const { bucket, key } = requireKey(req);
  const upload = deps.uploads.get(uploadIdOf(req), bucket, key);
  const marker = intParam(req.query, 'part-number-marker', 0, 0, MAX_PART_NUMBER);
  const max = intParam(req.query, 'max-parts', 1000, 0, 1000);
  const after = deps.uploads.parts(upload).filter((p) => p.partNumber > marker);
  const page = after.slice(0, max);
  const truncated = after.length > page.length;
  const owner = ownerOf(deps);
  return {
    body: xmlDocument('ListPartsResult', [
      ['Bucket', bucket],
      ['Key', key],
      ['UploadId', upload.uploadId],
      ['Initiator', owner[1]],
      owner,
      ['StorageClass', 'STANDARD'],
      ['PartNumberMarker', marker],
      ['NextPartNumberMarker', page.length ? page[page.length - 1]!.partNumber : marker],
      ['MaxParts', max],
      ['IsTruncated', truncated],
      ...page.map((p): XmlNode => ['Part', [['PartNumber', p.partNumber], ['LastModified', new Date(p.lastModified)], ['ETag', p.etag], ['Size', p.size]]]),
    ]),
  };
};

export const listMultipartUploads: S3Handler = async (req, deps) => {
  const bucket = requireBucket(req);
  if (!(await deps.store.bucketExists(bucket))) throw new NoSuchBucket(bucket);
  const prefix = queryOne(req.query, 'prefix') ?? '';
  const delimiter = queryOne(req.query, 'delimiter') || undefined;
  const keyMarker = queryOne(req.query, 'key-marker') ?? '';
  const uploadIdMarker = queryOne(req.query, 'upload-id-marker') ?? '';
  const max = intParam(req.query, 'max-uploads', 1000, 0, 1000);
  const items: ({ kind: 'upload'; key: string; uploadId: string; initiated: number } | { kind: 'prefix'; prefix: string })[] = [];
  let truncated = false;
  let passedIdMarker = false;
  for (const u of deps.uploads.list(bucket)) {
    if (!u.key.startsWith(prefix)) continue;
    const cmp = compareKeys(u.key, keyMarker);
    // After the marker: later keys, or the marker key's uploads listed after upload-id-marker.
    if (keyMarker && cmp < 0) continue;
    if (keyMarker && cmp === 0) {
      if (!uploadIdMarker || !passedIdMarker) {
        passedIdMarker ||= u.uploadId === uploadIdMarker;
        continue;
      }
    }
    const i = delimiter ? u.key.indexOf(delimiter, prefix.length) : -1;
    const last = items[items.length - 1];
    if (i >= 0) {
      const cp = u.key.slice(0, i + delimiter!.length);
      if (last?.kind === 'prefix' && last.prefix === cp) continue;
      if (items.length === max) {
        truncated = true;
        break;
      }
      items.push({ kind: 'prefix', prefix: cp });
    } else {
      if (items.length === max) {
        truncated = true;
        break;
      }
      items.push({ kind: 'upload', key: u.key, uploadId: u.uploadId, initiated: u.initiated });
    }
  }
  const lastUpload = [...items].reverse().find((x) => x.kind === 'upload') as { key: string; uploadId: string } | undefined;
  const owner = ownerOf(deps);
  return {
    body: xmlDocument('ListMultipartUploadsResult', [
      ['Bucket', bucket],
      ['KeyMarker', keyMarker],
      ['UploadIdMarker', uploadIdMarker],
      truncated ? ['NextKeyMarker', lastUpload?.key ?? ''] : undefined,
      truncated ? ['NextUploadIdMarker', lastUpload?.uploadId ?? ''] : undefined,
      ['Prefix', prefix],
      delimiter !== undefined ? ['Delimiter', delimiter] : undefined,
      ['MaxUploads', max],
      ['IsTruncated', truncated],
      ...items.map((x): XmlNode =>
        x.kind === 'prefix'
          ? ['CommonPrefixes', [['Prefix', x.prefix]]]
          : ['Upload', [['Key', x.key], ['UploadId', x.uploadId], ['Initiator', owner[1]], owner, ['StorageClass', 'STANDARD'], ['Initiated', new Date(x.initiated)]]],
      ),
    ]),
  };
};
