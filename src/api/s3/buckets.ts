/**
 * ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation and
 * GetBucketVersioning (always unversioned). Buckets live in the configured
 * region; CreateBucket of a bucket you already own answers 200 in us-east-1
 * and BucketAlreadyOwnedByYou elsewhere, as S3 does.
 */
import { BucketAlreadyOwnedByYou, IllegalLocationConstraint, MalformedXML, NoSuchBucket } from './errors';
import { readSmallPayload } from './payload';
import { requireBucket, type S3Deps, type S3Handler } from './request';
import { child, parseXml, XmlParseError, xmlDocument } from './xml';

/** The canonical user id S3 shows as the owner: stable per account. */
export function ownerOf(deps: S3Deps): [string, [string, string][]] {
  return ['Owner', [['ID', ownerId(deps.accountId)], ['DisplayName', 'sagebox']]];
}
export const ownerId = (accountId: string): string => accountId.padStart(64, '0');

export const listBuckets: S3Handler = async (_req, deps) => {
  const buckets = await deps.store.listBuckets();
  return {
    body: xmlDocument('ListAllMyBucketsResult', [
      ownerOf(deps),
      ['Buckets', buckets.map((b) => ['Bucket', [['Name', b.name], ['CreationDate', b.created]]])],
    ]),
  };
};

export const createBucket: S3Handler = async (req, deps) => {
  const bucket = requireBucket(req);
  const body = await readSmallPayload(req.raw, req.auth.payload, 64 * 1024);
  if (body.length > 0) {
    let constraint: string | undefined;
    try {
      const doc = parseXml(body.toString('utf8'));
      if (doc.name !== 'CreateBucketConfiguration') throw new MalformedXML();
      constraint = child(doc, 'LocationConstraint')?.text.trim();
    } catch (err) {
      if (err instanceof XmlParseError) throw new MalformedXML();
      throw err;
    }
    if (constraint && constraint !== deps.region) throw new IllegalLocationConstraint(constraint, deps.region);
  }
  const created = await deps.store.createBucket(bucket);
  if (!created && deps.region !== 'us-east-1') throw new BucketAlreadyOwnedByYou(bucket);
  if (created) deps.logger.info({ bucket }, 'bucket created');
  return { headers: { location: `/${bucket}` } };
};

async function requireExisting(bucket: string, deps: S3Deps): Promise<void> {
  if (!(await deps.store.bucketExists(bucket))) throw new NoSuchBucket(bucket);
}

export const headBucket: S3Handler = async (req, deps) => {
  const bucket = requireBucket(req);
  await requireExisting(bucket, deps);
  return { headers: { 'x-amz-bucket-region': deps.region, 'x-amz-access-point-alias': 'false' } };
};

export const deleteBucket: S3Handler = async (req, deps) => {
  const bucket = requireBucket(req);
  await deps.store.deleteBucket(bucket);
  deps.logger.info({ bucket }, 'bucket deleted');
  return { status: 204 };
};

export const getBucketLocation: S3Handler = async (req, deps) => {
  await requireExisting(requireBucket(req), deps);
  // us-east-1 is the empty constraint, for historical reasons.
  return { body: xmlDocument('LocationConstraint', deps.region === 'us-east-1' ? '' : deps.region) };
};

export const getBucketVersioning: S3Handler = async (req, deps) => {
  await requireExisting(requireBucket(req), deps);
  return { body: xmlDocument('VersioningConfiguration', []) };
};
