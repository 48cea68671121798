import type { Readable } from 'node:stream';

/** One stored object, as a listing or a head request reports it. */
export interface ObjectInfo {
  key: string;
  size: number;
  etag?: string;
  lastModified?: Date;
  contentType?: string;
}

/** An object kept as a plain file, opened for positional reads (the local store). */
export interface LocalFile {
  size: number;
  /** Reads into `buf` from `position`; resolves with the bytes read (0 at the end). */
  read(buf: Buffer, position: number): Promise<number>;
  close(): Promise<void>;
}

/** How putFile may take a file in. */
export interface PutFileOptions {
  contentType?: string;
  /**
   * The file's MD5, when the caller computed it while writing the file; the
   * local store then does not read the file again to make the ETag.
   */
  md5?: Buffer;
  /**
   * The caller never changes the file again (it only deletes it), so a store
   * on the same file system may take it in as a hard link instead of a copy.
   */
  immutable?: boolean;
  /**
   * Without md5: an opaque ETag will do (the local store's form for files put
   * in place by hand, `"<size hex>-<mtime hex>"`), so the file is not read to
   * hash it. S3 gives large objects (multipart uploads) ETags that are not
   * their MD5 either, and the dash tells clients so.
   */
  opaqueEtag?: boolean;
}

/**
 * A bucket/key object store. Implementations: the embedded local directory
 * (`<data>/s3/<bucket>/<key>`) and any S3-compatible endpoint. Every
 * implementation passes test/object-store.conformance.ts.
 *
 * Keys are S3 keys ('a/b/c.csv'); a key that would escape the store (`..`
 * segments, a leading '/', NUL) is refused with InvalidObjectKeyError.
 */
export interface ObjectStore {
  readonly kind: 'local' | 's3';
  ensureBucket(bucket: string): Promise<void>;
  bucketExists(bucket: string): Promise<boolean>;
  /** Every object whose key starts with `prefix`, recursively, in ascending key order. */
  list(bucket: string, prefix: string): AsyncIterable<ObjectInfo>;
  head(bucket: string, key: string): Promise<ObjectInfo | undefined>;
  /** Streams an object; rejects with NoSuchObjectError when it is missing. */
  get(bucket: string, key: string, range?: { start: number; end?: number }): Promise<Readable>;
  /** Writes atomically: readers see the old object or the whole new one. Large bodies go multipart. */
  put(bucket: string, key: string, body: Readable | Buffer | string, opts?: { contentType?: string; size?: number }): Promise<{ etag?: string }>;
  putFile(bucket: string, key: string, filePath: string, opts?: PutFileOptions): Promise<{ etag?: string }>;
  getToFile(bucket: string, key: string, filePath: string): Promise<void>;
  /**
   * Only stores that keep objects as files: the object opened for positional
   * reads (no stream, no copy through chunks); NoSuchObjectError when missing.
   */
  openFile?(bucket: string, key: string): Promise<LocalFile>;
  delete(bucket: string, key: string): Promise<void>;
}
