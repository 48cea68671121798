import { createHash, randomUUID } from 'node:crypto';
import { constants as fsConstants, createReadStream, createWriteStream, type Stats } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  BucketNotEmptyError,
  InvalidBucketNameError,
  InvalidObjectKeyError,
  InvalidRangeError,
  NoSuchBucketError,
  NoSuchObjectError,
  ObjectKeyConflictError,
} from './errors';
import { errCode, lstatOrUndefined, siblingTemp, statOrUndefined } from './fs-util';
import { KeyLock } from './key-lock';
import { compareKeys, isFolderMarker, validateBucketName, validateKey, validatePrefix } from './keys';
import { LocalMetaIndex, type FileIdentity, type ObjectMeta } from './local-meta';
import { hasObjects, isRealDirBelow, MARKER, RESERVED, STAGING_DIR, UPLOADS_DIR, walk, type WalkedPrefix } from './local-walk';
import type { LocalFile, ObjectInfo, ObjectStore, PutFileOptions } from './object-store';

/** An object of the local store, with the S3 metadata kept for it. */
export interface StoredObject extends ObjectInfo {
  etag: string;
  lastModified: Date;
  /** Present when the store has metadata for this version of the file (it was written through the store). */
  meta?: ObjectMeta;
}

/** A body written to the staging area, not yet in place. */
export interface StagedBody {
  tmp: string;
  size: number;
  md5: Buffer;
}

/**
 * Runs with the key locked, after the body is staged and just before it
 * replaces the object; throw to refuse the write (bad digest, failed
 * condition). `current` reads the object being replaced. What it returns is
 * added to the metadata recorded (e.g. a checksum verified only now).
 */
export type BeforeCommit = (
  staged: StagedBody,
  current: () => Promise<StoredObject | undefined>,
) => void | Partial<ObjectMeta> | Promise<void | Partial<ObjectMeta>>;

export interface WriteOptions {
  meta?: Omit<ObjectMeta, 'etag' | 'partsCount' | 'partSizes'>;
  /** The body's expected length; a body of another length is refused. */
  size?: number;
  beforeCommit?: BeforeCommit;
}

/** An object opened for reading: the headers and the bytes come from the same file. */
export interface OpenedObject {
  info: StoredObject;
  /** Streams the object, or the inclusive byte range; closes the file when done. Call once. */
  stream(range?: { start: number; end: number }): Readable;
  /** Closes the file when the body is not streamed. */
  close(): Promise<void>;
}

/**
 * The embedded default store: `s3://bucket/key` is the plain file
 * `<root>/<bucket>/<key>`, so a person can browse and edit the data.
 *
 * - Writes go to `<root>/.sagebox-tmp/` first and are renamed into place
 *   (same file system, so readers see the old file or the whole new one).
 * - A folder marker `dir/name/` is the file `<root>/<bucket>/dir/.sagebox-folder.name`:
 *   beside the directory rather than inside it, so it never collides with an
 *   object `dir/name` and survives the directory being emptied.
 * - Key segments starting with `.sagebox-` are reserved; empty and '.' segments
 *   are refused (a file system cannot tell `a//b` or `a/./b` from `a/b`).
 * - Symbolic links inside a bucket are never followed (not listed, not read,
 *   not written through). A bucket directory itself may be a link, e.g. to another disk.
 * - Every write records the object's MD5 ETag, Content-Type and S3 metadata in
 *   `<root>/.sagebox-meta.sqlite` (local-meta.ts). A file with no matching
 *   record (written or edited by hand) gets the ETag `"<size hex>-<mtime ms hex>"`.
 */
export class LocalObjectStore implements ObjectStore {
  readonly kind = 'local' as const;
  readonly root: string;
  private readonly stagingDir: string;
  private readonly locks = new KeyLock();
  private metaIndex?: LocalMetaIndex;

  constructor(opts: { root: string }) {
    this.root = path.resolve(opts.root);
    this.stagingDir = path.join(this.root, STAGING_DIR);
  }

  /** The metadata index, opened on first use. */
  get meta(): LocalMetaIndex {
    this.metaIndex ??= new LocalMetaIndex(this.root);
    return this.metaIndex;
  }

  close(): void {
    this.metaIndex?.close();
    this.metaIndex = undefined;
  }

  async ensureBucket(bucket: string): Promise<void> {
    validateBucketName(bucket);
    const made = await fsp.mkdir(path.join(this.root, bucket), { recursive: true });
    if (made !== undefined) this.meta.recordBucket(bucket, Date.now());
  }

  /** Creates a bucket; false when it already exists. */
  async createBucket(bucket: string): Promise<boolean> {
    validateBucketName(bucket);
    await fsp.mkdir(this.root, { recursive: true });
    try {
      await fsp.mkdir(path.join(this.root, bucket));
    } catch (err) {
      if (errCode(err) === 'EEXIST') return false;
      throw err;
    }
    this.meta.recordBucket(bucket, Date.now());
    return true;
  }

  async bucketExists(bucket: string): Promise<boolean> {
    validateBucketName(bucket);
    const st = await statOrUndefined(path.join(this.root, bucket));
    return st?.isDirectory() ?? false;
  }

  /** Every bucket (a directory, or a link to one, with a valid bucket name), by name. */
  async listBuckets(): Promise<{ name: string; created: Date }[]> {
    const entries = await fsp.readdir(this.root).catch(() => [] as string[]);
    const out: { name: string; created: Date }[] = [];
    for (const name of entries) {
      try {
        validateBucketName(name);
      } catch (err) {
        if (err instanceof InvalidBucketNameError) continue;
        throw err;
      }
      const st = await statOrUndefined(path.join(this.root, name));
      if (!st?.isDirectory()) continue;
      out.push({ name, created: new Date(this.meta.bucketCreated(name) ?? (st.birthtimeMs || st.ctimeMs)) });
    }
    return out.sort((a, b) => compareKeys(a.name, b.name));
  }

  /**
   * Deletes an empty bucket and any uploads in progress in it. A bucket with
   * objects, or with files that are not objects (links, reserved names), is refused.
   */
  async deleteBucket(bucket: string): Promise<void> {
    const bucketDir = await this.bucketDir(bucket);
    if (await hasObjects(bucketDir)) throw new BucketNotEmptyError(bucket);
    if (!(await removeEmptyTree(bucketDir, false))) throw new BucketNotEmptyError(bucket, 'it holds files that are not objects (links or reserved names)');
    const link = await lstatOrUndefined(bucketDir);
    if (link?.isSymbolicLink()) await fsp.unlink(bucketDir);
    else await fsp.rmdir(bucketDir);
    for (const uploadId of this.meta.forgetBucket(bucket)) {
      await fsp.rm(path.join(this.root, UPLOADS_DIR, uploadId), { recursive: true, force: true });
    }
  }

  async *list(bucket: string, prefix: string): AsyncIterable<ObjectInfo> {
    for await (const e of this.listEntries(bucket, { prefix })) if (!('commonPrefix' in e)) yield e;
  }

  /**
   * Objects under `prefix` in S3 byte order, after `startAfter`; with
   * `rollUp`, the directories at the prefix's level come as common prefixes
   * (ListObjects with delimiter '/').
   */
  async *listEntries(bucket: string, opts: { prefix: string; startAfter?: string; rollUp?: boolean }): AsyncGenerator<StoredObject | WalkedPrefix> {
    const { prefix, startAfter } = opts;
    validatePrefix(prefix);
    const bucketDir = await this.bucketDir(bucket);
    const dirKey = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    const segments = dirKey.split('/').slice(0, -1);
    // Keys with such segments cannot exist here, so nothing matches.
    if (segments.some((s) => s === '' || s === '.' || s.startsWith(RESERVED))) return;
    const startDir = path.join(bucketDir, ...segments);
    // The prefix's own folder marker lives beside its directory, outside the walk.
    if (dirKey !== '' && prefix === dirKey && (startAfter === undefined || compareKeys(dirKey, startAfter) > 0)) {
      const marker = await this.existingFile(bucket, dirKey);
      if (marker) yield this.toStored(bucket, dirKey, marker.st);
    }
    if (!(await isRealDirBelow(bucketDir, startDir))) return;
    for await (const e of walk(startDir, dirKey, prefix, { startAfter, rollUp: opts.rollUp })) {
      yield 'commonPrefix' in e ? e : this.toStored(bucket, e.key, e.st);
    }
  }

  async head(bucket: string, key: string): Promise<StoredObject | undefined> {
    const file = await this.existingFile(bucket, key);
    return file && this.toStored(bucket, key, file.st);
  }

  async get(bucket: string, key: string, range?: { start: number; end?: number }): Promise<Readable> {
    const file = await this.existingFile(bucket, key);
    if (!file) throw new NoSuchObjectError(bucket, key);
    // 1 MiB reads: one threadpool round trip per MiB, not per 64 KiB (Pipe-mode streaming was bound by it).
    if (!range) return createReadStream(file.path, { highWaterMark: 1 << 20 });
    const size = file.st.size;
    if (range.start >= size) throw new InvalidRangeError(bucket, key, range.start, size);
    const end = range.end === undefined ? size - 1 : Math.min(range.end, size - 1);
    return createReadStream(file.path, { start: range.start, end });
  }

  async openFile(bucket: string, key: string): Promise<LocalFile> {
    const { fh, info } = await this.openHandle(bucket, key);
    return {
      size: info.size,
      read: async (buf, position) => (await fh.read(buf, 0, buf.length, position)).bytesRead,
      close: () => fh.close(),
    };
  }

  /** Opens an object so that what is reported about it and what is streamed are the same file. */
  async open(bucket: string, key: string): Promise<OpenedObject> {
    const { fh, info } = await this.openHandle(bucket, key);
    let handed = false;
    return {
      info,
      stream(range) {
        handed = true;
        return fh.createReadStream(range ? { start: range.start, end: range.end } : {});
      },
      close: async () => {
        if (!handed) {
          handed = true;
          await fh.close();
        }
      },
    };
  }

  async put(
    bucket: string,
    key: string,
    body: Readable | Buffer | string,
    opts?: { contentType?: string; size?: number },
  ): Promise<{ etag?: string }> {
    const o = await this.writeObject(bucket, key, body, { size: opts?.size, meta: opts?.contentType ? { contentType: opts.contentType } : undefined });
    return { etag: o.etag };
  }

  async putFile(bucket: string, key: string, filePath: string, opts: PutFileOptions = {}): Promise<{ etag?: string }> {
    const { md5, contentType } = opts;
    if (!md5 && !opts.opaqueEtag) return this.put(bucket, key, createReadStream(filePath), { contentType });
    // The ETag needs no hashing here: the bytes need not pass through this process. An immutable file on
    // the same file system becomes the object through a hard link (no copy); otherwise the kernel copies it.
    await this.checkTarget(bucket, key);
    const tmp = await this.stagingFile();
    try {
      const linked = opts.immutable === true && (await fsp.link(filePath, tmp).then(() => true, () => false));
      if (!linked) await fsp.copyFile(filePath, tmp);
      const st = await fsp.stat(tmp);
      const etag = md5 ? `"${md5.toString('hex')}"` : unhashedEtag(st);
      const o = await this.commitStaged(bucket, key, { tmp, size: st.size, md5: md5 ?? Buffer.alloc(0) }, { contentType, etag });
      return { etag: o.etag };
    } finally {
      await fsp.rm(tmp, { force: true });
    }
  }

  /** Writes an object with its S3 metadata; the ETag is the body's MD5. */
  async writeObject(bucket: string, key: string, body: Readable | Buffer | string, opts: WriteOptions = {}): Promise<StoredObject> {
    await this.checkTarget(bucket, key); // refuse a bad key before reading the body
    const staged = await this.stageBody(body, opts.size, `s3://${bucket}/${key}`);
    try {
      return await this.commitStaged(bucket, key, staged, { ...opts.meta, etag: `"${staged.md5.toString('hex')}"` }, opts.beforeCommit);
    } finally {
      await fsp.rm(staged.tmp, { force: true });
    }
  }

  /** Checks that `bucket` exists and that this store can hold `key` (before a body is read). */
  async checkTarget(bucket: string, key: string): Promise<void> {
    this.targetOf(await this.bucketDir(bucket), key);
  }

  /** A fresh path in the staging area (same file system as the objects). The caller removes it. */
  async stagingFile(): Promise<string> {
    await fsp.mkdir(this.stagingDir, { recursive: true });
    return path.join(this.stagingDir, randomUUID());
  }

  /** Writes a body to the staging area, hashing it on the way. */
  async stageBody(body: Readable | Buffer | string, expectedSize?: number, what = 'body'): Promise<StagedBody> {
    const tmp = await this.stagingFile();
    const md5 = createHash('md5');
    let size = 0;
    try {
      if (typeof body === 'string' || Buffer.isBuffer(body)) {
        const buf = Buffer.from(body);
        md5.update(buf);
        size = buf.length;
        await fsp.writeFile(tmp, buf);
      } else {
        const tap = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            size += chunk.length;
            md5.update(chunk);
            cb(null, chunk);
          },
        });
        await pipeline(body, tap, createWriteStream(tmp));
      }
      if (expectedSize !== undefined && size !== expectedSize) throw new Error(`Body of ${what} had ${size} bytes, expected ${expectedSize}`);
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw err;
    }
    return { tmp, size, md5: md5.digest() };
  }

  /**
   * Renames a staged file onto `bucket/key` and records its metadata, with
   * the key locked. The staged file is consumed on success.
   */
  async commitStaged(bucket: string, key: string, staged: StagedBody, meta: ObjectMeta, beforeCommit?: BeforeCommit): Promise<StoredObject> {
    const bucketDir = await this.bucketDir(bucket);
    const target = this.targetOf(bucketDir, key);
    return this.locks.run(`${bucket}\n${key}`, async () => {
      const extra = await beforeCommit?.(staged, () => this.head(bucket, key));
      if (extra) meta = { ...meta, ...extra };
      const st = await fsp.stat(staged.tmp);
      for (let attempt = 0; ; attempt++) {
        await this.makeParents(bucketDir, key, path.dirname(target));
        try {
          await fsp.rename(staged.tmp, target);
          break;
        } catch (err) {
          const code = errCode(err);
          // A concurrent delete pruned the parent we just made: make it again.
          if (code === 'ENOENT' && attempt < 3) continue;
          if (code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST') {
            // An empty directory left by hand may be replaced; a non-empty one holds other objects.
            if (attempt === 0 && (await fsp.rmdir(target).then(() => true, () => false))) continue;
            throw new ObjectKeyConflictError(key, `objects exist under '${key}/'; a directory tree cannot also hold a file there`);
          }
          throw err;
        }
      }
      this.meta.putObject(bucket, key, identity(st), meta);
      return { key, size: st.size, etag: meta.etag, lastModified: st.mtime, contentType: meta.contentType, meta };
    });
  }

  async getToFile(bucket: string, key: string, filePath: string): Promise<void> {
    const file = await this.existingFile(bucket, key);
    if (!file) throw new NoSuchObjectError(bucket, key);
    await fsp.mkdir(path.dirname(filePath), { recursive: true });
    const tmp = siblingTemp(filePath);
    try {
      await fsp.copyFile(file.path, tmp);
      await fsp.rename(tmp, filePath);
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw err;
    }
  }

  async delete(bucket: string, key: string): Promise<void> {
    const bucketDir = await this.bucketDir(bucket);
    const file = this.targetOf(bucketDir, key);
    await this.locks.run(`${bucket}\n${key}`, async () => {
      const st = await lstatOrUndefined(file);
      if (!st?.isFile() || !(await isRealDirBelow(bucketDir, path.dirname(file)))) return;
      await fsp.rm(file, { force: true });
      this.meta.deleteObject(bucket, key);
    });
    // Empty directories would block a later object of the same name; S3 has no directories.
    for (let dir = path.dirname(file); dir !== bucketDir && dir.startsWith(bucketDir); dir = path.dirname(dir)) {
      try {
        await fsp.rmdir(dir);
      } catch {
        break;
      }
    }
  }

  private async bucketDir(bucket: string): Promise<string> {
    validateBucketName(bucket);
    const dir = path.join(this.root, bucket);
    const st = await statOrUndefined(dir);
    if (!st?.isDirectory()) throw new NoSuchBucketError(bucket);
    return dir;
  }

  /** The file a key maps to, after the checks only this store needs. */
  private targetOf(bucketDir: string, key: string): string {
    validateKey(key);
    const marker = isFolderMarker(key);
    const segments = (marker ? key.slice(0, -1) : key).split('/');
    for (const s of segments) {
      if (s === '' || s === '.') throw new InvalidObjectKeyError(key, "has an empty or '.' segment, which a directory tree cannot hold");
      if (s.startsWith(RESERVED)) throw new InvalidObjectKeyError(key, `segments starting with '${RESERVED}' are reserved`);
      if (Buffer.byteLength(s) > MAX_NAME_BYTES) throw new InvalidObjectKeyError(key, `a segment is longer than ${MAX_NAME_BYTES} bytes, the file-name limit`);
    }
    if (marker && Buffer.byteLength(MARKER + segments[segments.length - 1]) > MAX_NAME_BYTES) {
      throw new InvalidObjectKeyError(key, `a folder marker's name must stay under ${MAX_NAME_BYTES - MARKER.length} bytes`);
    }
    if (marker) {
      const name = segments.pop() as string;
      return path.join(bucketDir, ...segments, MARKER + name);
    }
    return path.join(bucketDir, ...segments);
  }

  private async openHandle(bucket: string, key: string): Promise<{ fh: fsp.FileHandle; info: StoredObject }> {
    const file = await this.existingFile(bucket, key);
    if (!file) throw new NoSuchObjectError(bucket, key);
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(file.path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
    } catch (err) {
      if (errCode(err) === 'ENOENT' || errCode(err) === 'ELOOP') throw new NoSuchObjectError(bucket, key);
      throw err;
    }
    try {
      return { fh, info: this.toStored(bucket, key, await fh.stat()) };
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  private async existingFile(bucket: string, key: string): Promise<{ path: string; st: Stats } | undefined> {
    const bucketDir = await this.bucketDir(bucket);
    const file = this.targetOf(bucketDir, key);
    const st = await lstatOrUndefined(file);
    if (!st?.isFile()) return undefined;
    if (!(await isRealDirBelow(bucketDir, path.dirname(file)))) return undefined;
    return { path: file, st };
  }

  private toStored(bucket: string, key: string, st: Stats): StoredObject {
    const meta = this.meta.getObject(bucket, key, identity(st));
    if (meta) return { key, size: st.size, etag: meta.etag, lastModified: st.mtime, contentType: meta.contentType, meta };
    return { key, size: st.size, etag: unhashedEtag(st), lastModified: st.mtime };
  }

  private async makeParents(bucketDir: string, key: string, dir: string): Promise<void> {
    try {
      await fsp.mkdir(dir, { recursive: true });
    } catch (err) {
      const code = errCode(err);
      if (code === 'ENOTDIR' || code === 'EEXIST') {
        throw new ObjectKeyConflictError(key, 'an object exists at one of its parent paths; a directory tree cannot hold both');
      }
      throw err;
    }
    if (!(await isRealDirBelow(bucketDir, dir))) {
      throw new InvalidObjectKeyError(key, 'its path inside the bucket goes through a symbolic link');
    }
  }
}

const MAX_NAME_BYTES = 255;

/** The ETag of a file the store did not hash: opaque, and with a dash, which tells clients it is not an MD5. */
function unhashedEtag(st: Stats): string {
  return `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
}

function identity(st: Stats): FileIdentity {
  return { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
}

/** Removes the empty directories below `dir` (and `dir` itself when `self`); false when something else remains. */
async function removeEmptyTree(dir: string, self: boolean): Promise<boolean> {
  let clean = true;
  for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) clean = (await removeEmptyTree(path.join(dir, e.name), true)) && clean;
    else clean = false;
  }
  if (clean && self) await fsp.rmdir(dir);
  return clean;
}
