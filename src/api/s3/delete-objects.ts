/**
 * DeleteObjects (POST /<bucket>?delete): up to 1000 keys in one XML body;
 * each key is reported Deleted (also when it did not exist, as in S3) or as
 * an Error entry; Quiet mode reports only the errors.
 */
import { InternalError, MalformedXML, NoSuchBucket, toS3Error } from './errors';
import { readSmallPayload } from './payload';
import { requireBucket, type S3Handler } from './request';
import { child, childrenNamed, parseXml, XmlParseError, xmlDocument, type XmlNode } from './xml';

const MAX_KEYS = 1000;

export const deleteObjects: S3Handler = async (req, deps) => {
  const bucket = requireBucket(req);
  const body = await readSmallPayload(req.raw, req.auth.payload, 2 * 1024 * 1024);
  let keys: string[];
  let quiet: boolean;
  try {
    const doc = parseXml(body.toString('utf8'));
    if (doc.name !== 'Delete') throw new MalformedXML();
    quiet = child(doc, 'Quiet')?.text.trim().toLowerCase() === 'true';
    keys = childrenNamed(doc, 'Object').map((o) => {
      const key = child(o, 'Key');
      if (!key) throw new MalformedXML();
      return key.text;
    });
  } catch (err) {
    if (err instanceof XmlParseError) throw new MalformedXML();
    throw err;
  }
  if (keys.length === 0 || keys.length > MAX_KEYS) throw new MalformedXML();
  if (!(await deps.store.bucketExists(bucket))) throw new NoSuchBucket(bucket);

  const results: XmlNode[] = [];
  for (const key of keys) {
    try {
      await deps.store.delete(bucket, key);
      if (!quiet) results.push(['Deleted', [['Key', key]]]);
    } catch (err) {
      const e = toS3Error(err);
      if (!e) deps.logger.error({ err, bucket, key }, 'DeleteObjects failed on a key');
      const s3err = e ?? new InternalError();
      results.push(['Error', [['Key', key], ['Code', s3err.code], ['Message', s3err.message]]]);
    }
  }
  deps.logger.debug({ bucket, keys: keys.length, requestId: req.requestId }, 'objects deleted');
  return { body: xmlDocument('DeleteResult', results) };
};
