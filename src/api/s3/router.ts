/**
 * Which S3 operation a request is: by method, by whether it names a bucket
 * and a key, and by its sub-resource query parameters (?uploads, ?uploadId,
 * ?delete, ?location, ?list-type=2, ...). Sub-resources sagebox does not
 * serve (ACLs, policies, tagging, ...) answer NotImplemented.
 */
import { createBucket, deleteBucket, getBucketLocation, getBucketVersioning, headBucket, listBuckets } from './buckets';
import { copyObject } from './copy-object';
import { deleteObjects } from './delete-objects';
import { MethodNotAllowed, NotImplemented } from './errors';
import { listObjectsV1, listObjectsV2 } from './list-objects';
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  listMultipartUploads,
  listParts,
  uploadPart,
  uploadPartCopy,
} from './multipart';
import { deleteObject, getObject, headObject, putObject } from './objects';
import type { S3Handler } from './request';

/** Bucket and object sub-resources of the S3 API that sagebox does not implement. */
const UNSUPPORTED = [
  'acl', 'policy', 'policyStatus', 'tagging', 'cors', 'lifecycle', 'website', 'logging', 'notification', 'replication',
  'encryption', 'object-lock', 'retention', 'legal-hold', 'requestPayment', 'accelerate', 'analytics', 'inventory',
  'metrics', 'intelligent-tiering', 'ownershipControls', 'publicAccessBlock', 'versions', 'restore', 'select', 'torrent',
  'attributes', 'session',
];

export interface Route {
  name: string;
  handler: S3Handler;
}

export function route(method: string, bucket: string | undefined, key: string | undefined, query: Record<string, unknown>, headers: Record<string, unknown>): Route {
  const has = (p: string): boolean => query[p] !== undefined;
  const r = (name: string, handler: S3Handler): Route => ({ name, handler });
  const unsupported = UNSUPPORTED.find(has);
  if (unsupported) throw new NotImplemented(`the '${unsupported}' sub-resource`);

  if (bucket === undefined) {
    if (method === 'GET') return r('ListBuckets', listBuckets);
    throw new MethodNotAllowed(method, 'SERVICE');
  }
  if (key === undefined) {
    switch (method) {
      case 'GET':
        if (has('location')) return r('GetBucketLocation', getBucketLocation);
        if (has('versioning')) return r('GetBucketVersioning', getBucketVersioning);
        if (has('uploads')) return r('ListMultipartUploads', listMultipartUploads);
        if (query['list-type'] === '2') return r('ListObjectsV2', listObjectsV2);
        return r('ListObjects', listObjectsV1);
      case 'HEAD':
        return r('HeadBucket', headBucket);
      case 'PUT':
        if (has('versioning')) throw new NotImplemented('bucket versioning');
        return r('CreateBucket', createBucket);
      case 'DELETE':
        return r('DeleteBucket', deleteBucket);
      case 'POST':
        if (has('delete')) return r('DeleteObjects', deleteObjects);
        throw new NotImplemented('POST to a bucket other than ?delete (browser form uploads)');
    }
    throw new MethodNotAllowed(method, 'BUCKET');
  }
  const copy = headers['x-amz-copy-source'] !== undefined;
  switch (method) {
    case 'GET':
      if (has('uploadId')) return r('ListParts', listParts);
      return r('GetObject', getObject);
    case 'HEAD':
      return r('HeadObject', headObject);
    case 'PUT':
      if (has('uploadId') || has('partNumber')) return copy ? r('UploadPartCopy', uploadPartCopy) : r('UploadPart', uploadPart);
      return copy ? r('CopyObject', copyObject) : r('PutObject', putObject);
    case 'DELETE':
      if (has('uploadId')) return r('AbortMultipartUpload', abortMultipartUpload);
      return r('DeleteObject', deleteObject);
    case 'POST':
      if (has('uploads')) return r('CreateMultipartUpload', createMultipartUpload);
      if (has('uploadId')) return r('CompleteMultipartUpload', completeMultipartUpload);
      throw new NotImplemented('POST to an object other than ?uploads or ?uploadId');
  }
  throw new MethodNotAllowed(method, 'OBJECT');
}
