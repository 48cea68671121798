/**
 * CopyObject (PUT with x-amz-copy-source): the source's bytes stream into a
 * new object; its metadata is copied (x-amz-metadata-directive COPY, the
 * default) or taken from the request (REPLACE). The source may be guarded by
 * x-amz-copy-source-if-* conditions.
 */
import type { OpenedObject } from '../../storage/local-store';
import { checkReadConditions } from './conditions';
import { InvalidArgument, InvalidRequest } from './errors';
import { metaFromRequest, type WrittenMeta } from './object-headers';
import { headerOne, requireKey, type S3Deps, type S3Handler, type S3Request } from './request';
import { xmlDocument } from './xml';

/** Parses x-amz-copy-source: `[/]<bucket>/<key>[?versionId=...]`, URL-encoded. */
export function parseCopySource(value: string): { bucket: string; key: string } {
  const q = value.indexOf('?');
  let text: string;
  try {
    text = decodeURIComponent(q < 0 ? value : value.slice(0, q));
  } catch {
    throw new InvalidArgument('Copy Source must mention the source bucket and key: sourcebucket/sourcekey', 'x-amz-copy-source', value);
  }
  text = text.replace(/^\//, '');
  const slash = text.indexOf('/');
  if (slash <= 0 || slash === text.length - 1) {
    throw new InvalidArgument('Copy Source must mention the source bucket and key: sourcebucket/sourcekey', 'x-amz-copy-source', value);
  }
  return { bucket: text.slice(0, slash), key: text.slice(slash + 1) };
}

/** Opens the copy source and checks its conditions; the caller closes or streams it. */
export async function openCopySource(req: S3Request, deps: S3Deps): Promise<{ bucket: string; key: string; opened: OpenedObject }> {
  const source = parseCopySource(headerOne(req.headers, 'x-amz-copy-source') ?? '');
  const opened = await deps.store.open(source.bucket, source.key);
  try {
    checkReadConditions(req.headers, opened.info, 'x-amz-copy-source-');
  } catch (err) {
    await opened.close();
    throw err;
  }
  return { ...source, opened };
}

export const copyObject: S3Handler = async (req, deps) => {
  const { bucket, key } = requireKey(req);
  await deps.store.checkTarget(bucket, key);
  const directive = (headerOne(req.headers, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') throw new InvalidArgument('Unknown metadata directive.', 'x-amz-metadata-directive', directive);
  const source = await openCopySource(req, deps);
  let meta: WrittenMeta;
  try {
    if (source.bucket === bucket && source.key === key && directive === 'COPY') {
      throw new InvalidRequest(
        "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
      );
    }
    const src = source.opened.info.meta;
    meta =
      directive === 'REPLACE'
        ? metaFromRequest(req.headers)
        : { contentType: source.opened.info.contentType, userMetadata: src?.userMetadata, headers: src?.headers, checksum: src?.partsCount ? undefined : src?.checksum };
  } catch (err) {
    await source.opened.close();
    throw err;
  }
  const body = source.opened.stream();
  const obj = await deps.store.writeObject(bucket, key, body, { meta, size: source.opened.info.size }).finally(() => body.destroy());
  deps.logger.debug({ from: `${source.bucket}/${source.key}`, bucket, key, requestId: req.requestId }, 'object copied');
  return {
    body: xmlDocument('CopyObjectResult', [
      ['LastModified', obj.lastModified],
      ['ETag', obj.etag],
    ]),
  };
};
