import { createReadStream, createWriteStream } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type BucketLocationConstraint,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { InvalidRangeError, NoSuchBucketError, NoSuchObjectError } from './errors';
import { siblingTemp } from './fs-util';
import { validateKey, validatePrefix } from './keys';
import type { ObjectInfo, ObjectStore, PutFileOptions } from './object-store';

export interface S3StoreOptions {
  /** e.g. http://127.0.0.1:9000; unset = AWS. */
  endpoint?: string;
  region: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Path-style addressing (bucket in the path); S3-compatible servers usually need it. */
  forcePathStyle?: boolean;
  /** Multipart part size; bodies larger than this go multipart. Default 8 MiB. */
  partSizeBytes?: number;
  /** Parts in flight per upload. Default 4. */
  queueSize?: number;
}

const DEFAULT_PART_SIZE = 8 * 1024 * 1024;

/** Any S3-compatible endpoint through the AWS SDK v3. */
export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3' as const;
  readonly client: S3Client;
  private readonly region: string;
  private readonly partSize: number;
  private readonly queueSize: number;

  constructor(opts: S3StoreOptions) {
    this.region = opts.region;
    this.partSize = Math.max(opts.partSizeBytes ?? DEFAULT_PART_SIZE, 5 * 1024 * 1024);
    this.queueSize = opts.queueSize ?? 4;
    this.client = new S3Client({
      region: opts.region,
      endpoint: opts.endpoint,
      credentials: opts.credentials,
      forcePathStyle: opts.forcePathStyle ?? false,
      // Default checksums wrap streamed bodies in aws-chunked framing, which
      // S3-compatible servers (s3rver) store verbatim: silent corruption.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async ensureBucket(bucket: string): Promise<void> {
    if (await this.bucketExists(bucket)) return;
    const location = this.region === 'us-east-1' ? undefined : { LocationConstraint: this.region as BucketLocationConstraint };
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: location }));
    } catch (err) {
      if (errName(err) !== 'BucketAlreadyOwnedByYou') throw err;
    }
  }

  async bucketExists(bucket: string): Promise<boolean> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: bucket }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async *list(bucket: string, prefix: string): AsyncIterable<ObjectInfo> {
    validatePrefix(prefix);
    let token: string | undefined;
    do {
      const page = await this.client
        .send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: token }))
        .catch((err: unknown) => this.rethrow(err, bucket));
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined) continue;
        yield { key: o.Key, size: o.Size ?? 0, etag: o.ETag, lastModified: o.LastModified };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    validateKey(key);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { key, size: out.ContentLength ?? 0, etag: out.ETag, lastModified: out.LastModified, contentType: out.ContentType };
    } catch (err) {
      // HEAD answers carry no body: a 404 for a missing bucket looks like a missing key.
      if (!isNotFound(err)) throw err;
      if (!(await this.bucketExists(bucket))) throw new NoSuchBucketError(bucket);
      return undefined;
    }
  }

  async get(bucket: string, key: string, range?: { start: number; end?: number }): Promise<Readable> {
    validateKey(key);
    const rangeHeader = range ? `bytes=${range.start}-${range.end ?? ''}` : undefined;
    const out = await this.client
      .send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: rangeHeader }))
      .catch((err: unknown) => this.rethrow(err, bucket, key, range?.start));
    if (out.Body instanceof Readable) return out.Body;
    throw new Error(`GetObject s3://${bucket}/${key} returned no readable body`);
  }

  async put(
    bucket: string,
    key: string,
    body: Readable | Buffer | string,
    opts?: { contentType?: string; size?: number },
  ): Promise<{ etag?: string }> {
    validateKey(key);
    if (typeof body === 'string' || Buffer.isBuffer(body)) {
      const out = await this.client
        .send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: Buffer.byteLength(body), ContentType: opts?.contentType }))
        .catch((err: unknown) => this.rethrow(err, bucket));
      return { etag: out.ETag };
    }
    if (opts?.size !== undefined && opts.size <= this.partSize) {
      return this.putStream(bucket, key, body, opts.size, opts.contentType);
    }
    return this.upload(bucket, key, body, opts?.contentType);
  }

  async putFile(bucket: string, key: string, filePath: string, opts?: PutFileOptions): Promise<{ etag?: string }> {
    validateKey(key);
    const { size } = await fsp.stat(filePath);
    const body = createReadStream(filePath);
    if (size <= this.partSize) return this.putStream(bucket, key, body, size, opts?.contentType);
    return this.upload(bucket, key, body, opts?.contentType);
  }

  async getToFile(bucket: string, key: string, filePath: string): Promise<void> {
    const body = await this.get(bucket, key);
    await fsp.mkdir(path.dirname(filePath), { recursive: true });
    const tmp = siblingTemp(filePath);
    try {
      await pipeline(body, createWriteStream(tmp));
      await fsp.rename(tmp, filePath);
    } finally {
      await fsp.rm(tmp, { force: true });
    }
  }

  async delete(bucket: string, key: string): Promise<void> {
    validateKey(key);
    await this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch((err: unknown) => this.rethrow(err, bucket));
  }

  /** One PutObject with a known length: streamed, never buffered. */
  private async putStream(bucket: string, key: string, body: Readable, size: number, contentType?: string): Promise<{ etag?: string }> {
    const out = await this.client
      .send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: size, ContentType: contentType }))
      .catch((err: unknown) => this.rethrow(err, bucket));
    return { etag: out.ETag };
  }

  /** lib-storage: a single PutObject when the body fits one part, else multipart (aborted on failure). */
  private async upload(bucket: string, key: string, body: Readable, contentType?: string): Promise<{ etag?: string }> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: bucket, Key: key, Body: body, ContentType: contentType },
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false,
    });
    const out = await upload.done().catch((err: unknown) => this.rethrow(err, bucket));
    return { etag: out.ETag };
  }

  /** The one place SDK errors become storage errors. */
  private rethrow(err: unknown, bucket: string, key?: string, rangeStart?: number): never {
    const name = errName(err);
    if (name === 'NoSuchBucket') throw new NoSuchBucketError(bucket);
    if (key !== undefined && (name === 'NoSuchKey' || name === 'NotFound')) throw new NoSuchObjectError(bucket, key);
    if (key !== undefined && rangeStart !== undefined && (name === 'InvalidRange' || httpStatus(err) === 416)) {
      throw new InvalidRangeError(bucket, key, rangeStart);
    }
    throw err;
  }
}

function errName(err: unknown): string | undefined {
  return err instanceof Error ? err.name : undefined;
}

function httpStatus(err: unknown): number | undefined {
  const meta = (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata;
  return meta?.httpStatusCode;
}

function isNotFound(err: unknown): boolean {
  const name = errName(err);
  return name === 'NotFound' || name === 'NoSuchKey' || name === 'NoSuchBucket' || httpStatus(err) === 404;
}
