import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { forEachLimit } from './concurrency';
import { DataSourceError, NoSuchBucketError, NoSuchObjectError, UnsafePathError } from './errors';
import { FileStore } from './file-store';
import { walkTree, type TreeFile } from './fs-tree';
import { compareKeys, isFolderMarker, joinKey } from './keys';
import { parseManifest } from './manifest';
import type { LocalFile, ObjectStore, PutFileOptions } from './object-store';
import { extractTarGz, packTarGz } from './tar-gz';
import { formatFileUri, formatS3Uri, parseUri, type ParsedUri } from './uri';

/** The S3DataType values the platform copies itself (AugmentedManifestFile is Pipe-only). */
export type S3DataType = 'S3Prefix' | 'ManifestFile';

/** One object of a data source, and where it lands below a channel directory. */
export interface SourceObject {
  uri: string;
  scheme: 's3' | 'file';
  /** '' for file:// sources. */
  bucket: string;
  /** The S3 key, or the absolute path for file:// sources. */
  key: string;
  size: number;
  /** '/'-separated path below the destination directory. */
  relativePath: string;
}

export interface ListSourceOptions {
  uri: string;
  dataType: S3DataType;
  /**
   * SageMaker fails a training channel whose S3Prefix matches nothing
   * ("ClientError: No objects found under S3 URL ..."), so the default is to
   * throw DataSourceError; true returns an empty list instead.
   */
  allowEmpty?: boolean;
}

export interface TransferStats {
  files: number;
  bytes: number;
  seconds: number;
}

/** Pino-compatible subset; the default logs nothing. */
export interface TransferLogger {
  info(fields: Record<string, unknown>, msg: string): void;
}

export interface DataTransferOptions {
  files?: FileStore;
  logger?: TransferLogger;
  /** Transfers in flight for download/uploadDir unless a call says otherwise. Default 8. */
  concurrency?: number;
  /** Told about every finished download/uploadDir (server metrics). */
  onTransfer?: (stats: TransferStats) => void;
}

/**
 * The one way training, processing, transform and endpoints move data: by
 * URI. `s3://` (and S3 https URLs) go to the ObjectStore given here, `file://`
 * to the host file system.
 */
export class DataTransfer {
  private readonly files: FileStore;
  private readonly log: TransferLogger;
  private readonly concurrency: number;
  private readonly onTransfer: (stats: TransferStats) => void;

  constructor(private readonly store: ObjectStore, opts: DataTransferOptions = {}) {
    this.files = opts.files ?? new FileStore();
    this.log = opts.logger ?? { info: () => undefined };
    this.concurrency = opts.concurrency ?? 8;
    this.onTransfer = opts.onTransfer ?? (() => undefined);
  }

  /** The store takes a file in without reading it when its MD5 is given (the local store): worth computing on the way. */
  get takesKnownMd5(): boolean {
    return this.store.kind === 'local';
  }

  /**
   * The objects of a data source. S3Prefix: every object whose key starts with
   * the prefix, folder markers skipped, relativePath = the key after the
   * prefix (see relativeToPrefix). ManifestFile: the listed objects, in
   * manifest order, relativePath = the manifest entry. file://: a file, or
   * every file below a directory.
   */
  async listSource(opts: ListSourceOptions): Promise<SourceObject[]> {
    const objects = opts.dataType === 'ManifestFile' ? await this.listManifest(opts.uri) : await this.listPrefix(opts.uri);
    if (objects.length === 0 && !opts.allowEmpty) {
      const what = opts.dataType === 'ManifestFile' ? `the manifest file ${opts.uri} lists no objects` : `no objects found under ${sourceLabel(opts.uri)} '${opts.uri}'`;
      throw new DataSourceError(opts.uri, `${capitalize(what)}. Check that the location exists and holds data.`);
    }
    return objects;
  }

  /**
   * ShardedByS3Key: objects sorted by key (S3 byte order), then dealt
   * round-robin, object i to host i mod hostCount. Each host gets about 1/n of
   * the objects (not bytes); with more hosts than objects some get none.
   * hostIndex is 0-based (algo-1 is 0).
   */
  shard(objects: readonly SourceObject[], hostIndex: number, hostCount: number): SourceObject[] {
    if (!Number.isInteger(hostCount) || hostCount < 1) throw new RangeError(`hostCount must be a positive integer, got ${hostCount}`);
    if (!Number.isInteger(hostIndex) || hostIndex < 0 || hostIndex >= hostCount) {
      throw new RangeError(`hostIndex must be in [0, ${hostCount - 1}], got ${hostIndex}`);
    }
    return sortedByKey(objects).filter((_, i) => i % hostCount === hostIndex);
  }

  /**
   * Streams the objects into destDir, keeping their relative paths. Every path
   * is checked before anything is written: one that would leave destDir, or
   * two objects landing on one path (or on a file and a folder of the same name), refuse the whole set.
   */
  async download(objects: readonly SourceObject[], destDir: string, opts: { concurrency?: number } = {}): Promise<TransferStats> {
    const root = path.resolve(destDir);
    const plan = objects.map((o) => ({ o, dest: safeDestination(root, o.relativePath) }));
    checkCollisions(root, plan);
    const started = performance.now();
    const bytes = plan.reduce((sum, p) => sum + p.o.size, 0);
    this.log.info({ destDir: root, files: plan.length, bytes }, 'Downloading');
    await fsp.mkdir(root, { recursive: true });
    await forEachLimit(plan, opts.concurrency ?? this.concurrency, ({ o, dest }) => this.downloadObject(o, dest));
    const stats = { files: plan.length, bytes, seconds: (performance.now() - started) / 1000 };
    this.onTransfer(stats);
    this.log.info({ destDir: root, ...stats }, 'Downloaded');
    return stats;
  }

  /** Writes one object to the file `dest`, atomically (a temporary sibling, then rename); creates its directory. */
  async downloadObject(o: SourceObject, dest: string): Promise<void> {
    if (o.scheme === 's3') await this.store.getToFile(o.bucket, o.key, dest);
    else await this.files.copyIn(o.key, dest);
  }

  /**
   * Uploads every file below `dir` to `uri`: key = the URI's key + '/' +
   * relative path (exactly one '/'). Symbolic links are skipped unless
   * followSymlinks; big files go multipart through the store.
   */
  async uploadDir(
    dir: string,
    uri: string,
    opts: { followSymlinks?: boolean; concurrency?: number } = {},
  ): Promise<TransferStats & { skippedSymlinks: string[] }> {
    const target = parseUri(uri);
    const started = performance.now();
    const skippedSymlinks: string[] = [];
    const files: TreeFile[] = [];
    for await (const f of walkTree(dir, { followSymlinks: opts.followSymlinks ?? false, onSymlink: (rel) => skippedSymlinks.push(rel) })) {
      files.push(f);
    }
    const bytes = files.reduce((sum, f) => sum + f.size, 0);
    this.log.info({ dir, uri, files: files.length, bytes, skippedSymlinks: skippedSymlinks.length }, 'Uploading');
    await forEachLimit(files, opts.concurrency ?? this.concurrency, async (f) => {
      if (target.scheme === 's3') await this.store.putFile(target.bucket, joinKey(target.key, f.relativePath), f.absolutePath);
      else await this.files.copyIn(f.absolutePath, path.join(target.path, ...f.relativePath.split('/')));
    });
    const stats = { files: files.length, bytes, seconds: (performance.now() - started) / 1000 };
    this.onTransfer(stats);
    this.log.info({ dir, uri, ...stats }, 'Uploaded');
    return { ...stats, skippedSymlinks };
  }

  /**
   * Uploads one file; a URI ending in '/' (or a bare bucket) gets the file's basename appended.
   * `opts` (a known MD5 or an opaque ETag, an immutable file) let the store skip reading or copying it.
   */
  async uploadFile(filePath: string, uri: string, opts?: Pick<PutFileOptions, 'md5' | 'immutable' | 'opaqueEtag'>): Promise<{ uri: string; bytes: number }> {
    const target = parseUri(uri);
    const st = await this.files.stat(filePath);
    if (!st) throw new NoSuchObjectError('', filePath);
    const size = st.size;
    const base = path.basename(filePath);
    if (target.scheme === 's3') {
      const key = target.key === '' || target.key.endsWith('/') ? target.key + base : target.key;
      await this.store.putFile(target.bucket, key, filePath, opts);
      this.log.info({ file: filePath, uri: formatS3Uri(target.bucket, key), bytes: size }, 'Uploaded file');
      return { uri: formatS3Uri(target.bucket, key), bytes: size };
    }
    const dest = target.path.endsWith('/') ? path.join(target.path, base) : target.path;
    await this.files.copyIn(filePath, dest);
    return { uri: formatFileUri(dest), bytes: size };
  }

  /** The object as a plain file for positional reads, when the store keeps objects as files; else undefined. */
  async openLocalFile(uri: string): Promise<LocalFile | undefined> {
    const target = parseUri(uri);
    if (target.scheme !== 's3' || !this.store.openFile) return undefined;
    return this.store.openFile(target.bucket, target.key);
  }

  async openRead(uri: string, range?: { start: number; end?: number }): Promise<Readable> {
    const target = parseUri(uri);
    return target.scheme === 's3' ? this.store.get(target.bucket, target.key, range) : this.files.openRead(target.path, range);
  }

  async writeObject(uri: string, body: Readable | Buffer | string, opts?: { contentType?: string }): Promise<void> {
    const target = parseUri(uri);
    if (target.scheme === 's3') await this.store.put(target.bucket, target.key, body, opts);
    else await this.files.write(target.path, body);
  }

  /** The size of the object (or regular file) a URI names; NoSuchObjectError when there is none. */
  async sizeOf(uri: string): Promise<number> {
    const target = parseUri(uri);
    if (target.scheme === 'file') {
      const st = await this.files.stat(target.path);
      if (!st) throw new NoSuchObjectError('', target.path);
      return st.size;
    }
    const info = await this.store.head(target.bucket, target.key);
    if (!info) throw new NoSuchObjectError(target.bucket, target.key);
    return info.size;
  }

  /** Whether the URI names an existing object (or, for s3://bucket with no key, bucket). */
  async exists(uri: string): Promise<boolean> {
    const target = parseUri(uri);
    if (target.scheme === 'file') return this.files.exists(target.path);
    if (target.key === '') return this.store.bucketExists(target.bucket);
    try {
      return (await this.store.head(target.bucket, target.key)) !== undefined;
    } catch (err) {
      if (err instanceof NoSuchBucketError) return false;
      throw err;
    }
  }

  packTarGz(dir: string, destFile: string): Promise<{ entries: number; bytes: number }> {
    return packTarGz(dir, destFile);
  }

  extractTarGz(source: string | Readable, destDir: string): Promise<{ entries: number }> {
    return extractTarGz(source, destDir);
  }

  private async listPrefix(uri: string): Promise<SourceObject[]> {
    const target = parseUri(uri);
    const out: SourceObject[] = [];
    if (target.scheme === 'file') {
      for await (const f of this.files.list(target.path)) {
        out.push({ uri: formatFileUri(f.path), scheme: 'file', bucket: '', key: f.path, size: f.size, relativePath: f.relativePath });
      }
      return out;
    }
    try {
      for await (const o of this.store.list(target.bucket, target.key)) {
        if (isFolderMarker(o.key)) continue;
        out.push({
          uri: formatS3Uri(target.bucket, o.key),
          scheme: 's3',
          bucket: target.bucket,
          key: o.key,
          size: o.size,
          relativePath: relativeToPrefix(target.key, o.key),
        });
      }
    } catch (err) {
      if (err instanceof NoSuchBucketError) throw new DataSourceError(uri, `The bucket '${target.bucket}' of ${uri} does not exist`);
      throw err;
    }
    return out;
  }

  private async listManifest(uri: string): Promise<SourceObject[]> {
    let text: string;
    try {
      text = (await buffer(await this.openRead(uri))).toString('utf8');
    } catch (err) {
      if (err instanceof NoSuchObjectError || err instanceof NoSuchBucketError) {
        throw new DataSourceError(uri, `The manifest file ${uri} does not exist`);
      }
      throw err;
    }
    const manifest = parseManifest(text, uri);
    const prefix = parseUri(manifest.prefix);
    const objects: (SourceObject | undefined)[] = new Array(manifest.entries.length);
    await forEachLimit(manifest.entries, 16, async (entry, i) => {
      objects[i] = await this.statEntry(prefix, entry);
    });
    const missing = manifest.entries.filter((_, i) => objects[i] === undefined);
    if (missing.length > 0) {
      const shown = missing.slice(0, 3).map((e) => JSON.stringify(manifest.prefix + e)).join(', ');
      throw new DataSourceError(uri, `${missing.length} object(s) listed in the manifest file ${uri} do not exist: ${shown}${missing.length > 3 ? ', ...' : ''}`);
    }
    return objects as SourceObject[];
  }

  private async statEntry(prefix: ParsedUri, entry: string): Promise<SourceObject | undefined> {
    if (prefix.scheme === 'file') {
      const p = prefix.path + entry;
      const st = await this.files.stat(p);
      return st && { uri: formatFileUri(p), scheme: 'file', bucket: '', key: p, size: st.size, relativePath: entry };
    }
    const key = prefix.key + entry;
    const info = await this.store.head(prefix.bucket, key).catch((err: unknown) => {
      if (err instanceof NoSuchBucketError) return undefined;
      throw err;
    });
    return info && { uri: formatS3Uri(prefix.bucket, key), scheme: 's3', bucket: prefix.bucket, key, size: info.size, relativePath: entry };
  }
}

/** The objects in key order (S3 byte order), ties by URI: the order of ShardedByS3Key and of shuffles. */
export function sortedByKey(objects: readonly SourceObject[]): SourceObject[] {
  return [...objects].sort((a, b) => compareKeys(a.key, b.key) || compareKeys(a.uri, b.uri));
}

/**
 * Where an object found under an S3Prefix lands:
 * - the key after the prefix, leading '/' removed (`data/train` + `data/train/a.csv` -> `a.csv`);
 * - a prefix naming one object exactly yields its basename (`data/x.csv` -> `x.csv`);
 * - a prefix ending mid-name keeps that name whole (`data/tr` + `data/train.csv` -> `train.csv`),
 *   where the SageMaker SDK's local mode would produce `ain.csv`.
 */
export function relativeToPrefix(prefix: string, key: string): string {
  if (key === prefix) return path.posix.basename(key);
  const rest = key.slice(prefix.length);
  if (prefix === '' || prefix.endsWith('/') || rest.startsWith('/')) return rest.replace(/^\/+/, '');
  return prefix.slice(prefix.lastIndexOf('/') + 1) + rest;
}

function safeDestination(root: string, relativePath: string): string {
  if (relativePath === '' || relativePath.includes('\0')) throw new UnsafePathError(relativePath, root, 'empty or contains NUL');
  if (path.isAbsolute(relativePath)) throw new UnsafePathError(relativePath, root, 'absolute path');
  const dest = path.resolve(root, relativePath);
  if (!dest.startsWith(root + path.sep)) throw new UnsafePathError(relativePath, root, 'it would be written outside the destination');
  return dest;
}

function checkCollisions(root: string, plan: readonly { o: SourceObject; dest: string }[]): void {
  const byDest = new Map<string, SourceObject>();
  for (const p of plan) {
    const other = byDest.get(p.dest);
    if (other) throw new DataSourceError(p.o.uri, `${other.uri} and ${p.o.uri} would both be written to '${p.o.relativePath}'`);
    byDest.set(p.dest, p.o);
  }
  for (const p of plan) {
    for (let dir = path.dirname(p.dest); dir !== root; dir = path.dirname(dir)) {
      const other = byDest.get(dir);
      if (other) throw new DataSourceError(p.o.uri, `${p.o.uri} needs '${other.relativePath}' to be a folder, but ${other.uri} is written there`);
    }
  }
}

function sourceLabel(uri: string): string {
  return uri.startsWith('file:') ? 'the path' : 'S3 URL';
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
