/**
 * One class per storage failure, each with a literal `name` so callers (the
 * S3/SageMaker wire layer, job runners) can map them without string matching.
 */

export class StorageError extends Error {
  override readonly name: string = 'StorageError';
}

export class NoSuchBucketError extends StorageError {
  override readonly name = 'NoSuchBucketError';
  constructor(readonly bucket: string) {
    super(`The bucket '${bucket}' does not exist`);
  }
}

export class NoSuchObjectError extends StorageError {
  override readonly name = 'NoSuchObjectError';
  constructor(readonly bucket: string, readonly key: string) {
    // bucket '' is the host file system (file:// URIs): key is then the path.
    super(bucket === '' ? `No file ${key}` : `No object s3://${bucket}/${key}`);
  }
}

/** A key the store refuses: empty, leading '/', NUL, `..` segments (it would escape the store). */
export class InvalidObjectKeyError extends StorageError {
  override readonly name: string = 'InvalidObjectKeyError';
  constructor(readonly key: string, readonly reason: string) {
    super(`Invalid object key ${JSON.stringify(key)}: ${reason}`);
  }
}

/**
 * The local store keeps objects as plain files, so an object 'a/b' and an
 * object under 'a/b/' cannot both exist there (a path is a file or a directory).
 */
export class ObjectKeyConflictError extends InvalidObjectKeyError {
  override readonly name = 'ObjectKeyConflictError';
}

export class InvalidBucketNameError extends StorageError {
  override readonly name = 'InvalidBucketNameError';
  constructor(readonly bucket: string, readonly reason: string) {
    super(`Invalid bucket name ${JSON.stringify(bucket)}: ${reason}`);
  }
}

export class InvalidUriError extends StorageError {
  override readonly name = 'InvalidUriError';
  constructor(readonly uri: string, readonly reason: string) {
    super(`Invalid URI ${JSON.stringify(uri)}: ${reason}`);
  }
}

/** A byte range that starts at or past the end of the object (S3: 416 InvalidRange). */
export class InvalidRangeError extends StorageError {
  override readonly name = 'InvalidRangeError';
  constructor(readonly bucket: string, readonly key: string, readonly start: number, readonly size?: number) {
    super(`Range starting at ${start} is not satisfiable for s3://${bucket}/${key}${size === undefined ? '' : ` (${size} bytes)`}`);
  }
}

/**
 * A data source (channel, processing input, transform input, manifest) that
 * cannot be used. `failureReason` is the text a job's FailureReason carries.
 */
export class DataSourceError extends StorageError {
  override readonly name = 'DataSourceError';
  constructor(readonly uri: string, message: string) {
    super(message);
  }
  get failureReason(): string {
    return `ClientError: ${this.message}`;
  }
}

/** A relative path that would land outside the destination directory of a download. */
export class UnsafePathError extends StorageError {
  override readonly name = 'UnsafePathError';
  constructor(readonly relativePath: string, readonly destDir: string, reason: string) {
    super(`Refusing to write ${JSON.stringify(relativePath)} under ${destDir}: ${reason}`);
  }
}

/** A tar entry that is absolute, climbs with `..`, links outside the destination, or is a special file. */
export class UnsafeArchiveEntryError extends StorageError {
  override readonly name = 'UnsafeArchiveEntryError';
  constructor(readonly entryPath: string, readonly reason: string) {
    super(`Refusing archive entry ${JSON.stringify(entryPath)}: ${reason}`);
  }
}

/** DeleteBucket on a bucket that still holds objects. */
export class BucketNotEmptyError extends StorageError {
  override readonly name = 'BucketNotEmptyError';
  constructor(readonly bucket: string, detail = 'it holds objects') {
    super(`The bucket '${bucket}' is not empty: ${detail}`);
  }
}

/** A multipart upload id that is unknown, completed or aborted. */
export class NoSuchUploadError extends StorageError {
  override readonly name = 'NoSuchUploadError';
  constructor(readonly uploadId: string) {
    super(`The multipart upload '${uploadId}' does not exist: it may have been aborted or completed`);
  }
}

/** CompleteMultipartUpload named a part that was not uploaded, or with another ETag. */
export class InvalidPartError extends StorageError {
  override readonly name = 'InvalidPartError';
  constructor(readonly partNumber: number, reason: string) {
    super(`Part ${partNumber}: ${reason}`);
  }
}

/** CompleteMultipartUpload listed parts out of ascending order. */
export class InvalidPartOrderError extends StorageError {
  override readonly name = 'InvalidPartOrderError';
  constructor() {
    super('The list of parts was not in ascending order. Parts must be ordered by part number.');
  }
}

/** A part other than the last smaller than the 5 MiB S3 requires. */
export class EntityTooSmallError extends StorageError {
  override readonly name = 'EntityTooSmallError';
  constructor(readonly partNumber: number, readonly size: number, readonly minSize: number) {
    super(`Part ${partNumber} is ${size} bytes: every part but the last must be at least ${minSize} bytes`);
  }
}
