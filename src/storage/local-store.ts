import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, type Stats } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  InvalidObjectKeyError,
  InvalidRangeError,
  NoSuchBucketError,
  NoSuchObjectError,
  ObjectKeyConflictError,
} from './errors';
import { errCode, lstatOrUndefined, siblingTemp, statOrUndefined } from './fs-util';
import { compareKeys, isFolderMarker, validateBucketName, validateKey, validatePrefix } from './keys';
import type { ObjectInfo, ObjectStore } from './object-store';

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
 * - ETags are `"<size hex>-<mtime ms hex>"`, not MD5s: no metadata is kept.
 */
export class LocalObjectStore implements ObjectStore {
  readonly kind = 'local' as const;
  readonly root: string;
  private readonly stagingDir: string;

  constructor(opts: { root: string }) {
    this.root = path.resolve(opts.root);
    this.stagingDir = path.join(this.root, STAGING_DIR);
  }

  async ensureBucket(bucket: string): Promise<void> {
    validateBucketName(bucket);
    await fsp.mkdir(path.join(this.root, bucket), { recursive: true });
  }

  async bucketExists(bucket: string): Promise<boolean> {
    validateBucketName(bucket);
    const st = await statOrUndefined(path.join(this.root, bucket));
    return st?.isDirectory() ?? false;
  }

  async *list(bucket: string, prefix: string): AsyncIterable<ObjectInfo> {
    validatePrefix(prefix);
    const bucketDir = await this.bucketDir(bucket);
    const dirKey = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    const segments = dirKey.split('/').slice(0, -1);
    // Keys with such segments cannot exist here, so nothing matches.
    if (segments.some((s) => s === '' || s === '.' || s.startsWith(RESERVED))) return;
    const startDir = path.join(bucketDir, ...segments);
    if (!(await isRealDirBelow(bucketDir, startDir))) return;
    yield* walk(startDir, dirKey, prefix);
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    const file = await this.existingFile(bucket, key);
    return file && toInfo(key, file.st);
  }

  async get(bucket: string, key: string, range?: { start: number; end?: number }): Promise<Readable> {
    const file = await this.existingFile(bucket, key);
    if (!file) throw new NoSuchObjectError(bucket, key);
    if (!range) return createReadStream(file.path);
    const size = file.st.size;
    if (range.start >= size) throw new InvalidRangeError(bucket, key, range.start, size);
    const end = range.end === undefined ? size - 1 : Math.min(range.end, size - 1);
    return createReadStream(file.path, { start: range.start, end });
  }

  async put(
    bucket: string,
    key: string,
    body: Readable | Buffer | string,
    opts?: { contentType?: string; size?: number },
  ): Promise<{ etag?: string }> {
    return this.writeVia(bucket, key, async (tmp) => {
      if (typeof body === 'string' || Buffer.isBuffer(body)) {
        await fsp.writeFile(tmp, body);
        return;
      }
      let written = 0;
      const count = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          written += chunk.length;
          cb(null, chunk);
        },
      });
      await pipeline(body, count, createWriteStream(tmp));
      if (opts?.size !== undefined && written !== opts.size) {
        throw new Error(`Body of s3://${bucket}/${key} had ${written} bytes, expected ${opts.size}`);
      }
    });
  }

  async putFile(bucket: string, key: string, filePath: string): Promise<{ etag?: string }> {
    return this.writeVia(bucket, key, (tmp) => fsp.copyFile(filePath, tmp));
  }

  async getToFile(bucket: string, key: string, filePath: string): Promise<void> {
    const file = await this.existingFile(bucket, key);
    if (!file) throw new NoSuchObjectError(bucket, key);
    await fsp.mkdir(path.dirname(filePath), { recursive: true });
    const tmp = siblingTemp(filePath);
    try {
      await fsp.copyFile(file.path, tmp);
      await fsp.rename(tmp, filePath);
    } finally {
      await fsp.rm(tmp, { force: true });
    }
  }

  async delete(bucket: string, key: string): Promise<void> {
    const bucketDir = await this.bucketDir(bucket);
    const file = this.pathOf(bucketDir, key);
    const st = await lstatOrUndefined(file);
    if (!st?.isFile() || !(await isRealDirBelow(bucketDir, path.dirname(file)))) return;
    await fsp.rm(file, { force: true });
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
  private pathOf(bucketDir: string, key: string): string {
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

  private async existingFile(bucket: string, key: string): Promise<{ path: string; st: Stats } | undefined> {
    const bucketDir = await this.bucketDir(bucket);
    const file = this.pathOf(bucketDir, key);
    const st = await lstatOrUndefined(file);
    if (!st?.isFile()) return undefined;
    if (!(await isRealDirBelow(bucketDir, path.dirname(file)))) return undefined;
    return { path: file, st };
  }

  /** Fills a staging file with `fill`, then renames it onto the object's path. */
  private async writeVia(bucket: string, key: string, fill: (tmp: string) => Promise<void>): Promise<{ etag?: string }> {
    const bucketDir = await this.bucketDir(bucket);
    const target = this.pathOf(bucketDir, key);
    await fsp.mkdir(this.stagingDir, { recursive: true });
    const tmp = path.join(this.stagingDir, randomUUID());
    try {
      await fill(tmp);
      for (let attempt = 0; ; attempt++) {
        await this.makeParents(bucketDir, key, path.dirname(target));
        try {
          await fsp.rename(tmp, target);
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
      const st = await fsp.stat(target);
      return { etag: etagOf(st) };
    } finally {
      await fsp.rm(tmp, { force: true });
    }
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

const STAGING_DIR = '.sagebox-tmp';
const RESERVED = '.sagebox-';
const MARKER = '.sagebox-folder.';
const MAX_NAME_BYTES = 255;

interface WalkItem {
  sortKey: string;
  key: string;
  kind: 'file' | 'marker' | 'dir';
  path: string;
}

/**
 * Depth-first in S3 byte order: a directory sorts as `name/` and a marker as
 * `name/` just before it, so `a-b` (0x2d) comes before everything under `a/` (0x2f).
 */
async function* walk(dir: string, keyPrefix: string, prefix: string): AsyncGenerator<ObjectInfo> {
  let entries;
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (errCode(err) === 'ENOENT' || errCode(err) === 'ENOTDIR') return;
    throw err;
  }
  const items: WalkItem[] = [];
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.name.startsWith(RESERVED)) {
      if (e.isFile() && e.name.startsWith(MARKER) && e.name.length > MARKER.length) {
        const name = e.name.slice(MARKER.length);
        items.push({ sortKey: `${name}/`, key: `${keyPrefix}${name}/`, kind: 'marker', path: p });
      }
    } else if (e.isFile()) {
      items.push({ sortKey: e.name, key: keyPrefix + e.name, kind: 'file', path: p });
    } else if (e.isDirectory()) {
      items.push({ sortKey: `${e.name}/`, key: `${keyPrefix}${e.name}/`, kind: 'dir', path: p });
    }
    // Symbolic links, sockets, devices: not objects.
  }
  items.sort((a, b) => compareKeys(a.sortKey, b.sortKey) || (a.kind === 'marker' ? -1 : b.kind === 'marker' ? 1 : 0));
  for (const item of items) {
    if (item.kind === 'dir') {
      if (item.key.startsWith(prefix) || prefix.startsWith(item.key)) yield* walk(item.path, item.key, prefix);
    } else if (item.key.startsWith(prefix)) {
      const st = await lstatOrUndefined(item.path);
      if (st?.isFile()) yield toInfo(item.key, st);
    }
  }
}

function toInfo(key: string, st: Stats): ObjectInfo {
  return { key, size: st.size, etag: etagOf(st), lastModified: st.mtime };
}

function etagOf(st: Stats): string {
  return `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
}

/** True when `dir` is a directory reached from `bucketDir` without passing a symbolic link. */
async function isRealDirBelow(bucketDir: string, dir: string): Promise<boolean> {
  if (dir === bucketDir) return true;
  try {
    const [realBucket, realDir] = await Promise.all([fsp.realpath(bucketDir), fsp.realpath(dir)]);
    return realDir === path.join(realBucket, path.relative(bucketDir, dir));
  } catch {
    return false;
  }
}
