/**
 * What the local store keeps beside its plain files: each object's S3 ETag
 * (an MD5), Content-Type, user metadata and checksum, bucket creation times,
 * and the state of multipart uploads. One SQLite file in the store's root
 * (`<root>/.sagebox-meta.sqlite`), so the metadata stays with the data.
 *
 * An object row records the size, mtime and inode of the file it describes.
 * When the file no longer matches (replaced or edited by hand), the row is
 * ignored and the store falls back to what the file alone tells.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';

/** S3 metadata of one object, as the S3 API and the ObjectStore write it. */
export interface ObjectMeta {
  /** Quoted, as S3 sends it: `"<md5 hex>"` or `"<md5 of part md5s>-<parts>"`. */
  etag: string;
  contentType?: string;
  /** x-amz-meta-* members: names lower-cased, without the prefix. */
  userMetadata?: Record<string, string>;
  /** Content-Encoding, Content-Disposition, Content-Language, Cache-Control, Expires, keyed lower-case. */
  headers?: Record<string, string>;
  /** A checksum the writer sent and the server verified, e.g. { algorithm: 'CRC32', value: 'base64' }. */
  checksum?: { algorithm: string; value: string };
  /** Set for objects assembled by CompleteMultipartUpload. */
  partsCount?: number;
  /** Their part sizes, in order (GetObject/HeadObject with partNumber). */
  partSizes?: number[];
}

/** Identifies one version of a file. */
export interface FileIdentity {
  size: number;
  mtimeMs: number;
  ino: number;
}

export interface UploadRecord {
  uploadId: string;
  bucket: string;
  key: string;
  /** Epoch ms. */
  initiated: number;
  meta: Omit<ObjectMeta, 'etag' | 'partsCount' | 'partSizes'>;
}

export interface PartRecord {
  partNumber: number;
  size: number;
  /** Quoted MD5 hex. */
  etag: string;
  /** Epoch ms. */
  lastModified: number;
}

export const META_DB_FILE = '.sagebox-meta.sqlite';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS objects (
  bucket TEXT NOT NULL, key TEXT NOT NULL,
  size INTEGER NOT NULL, mtime_ms REAL NOT NULL, ino INTEGER NOT NULL,
  etag TEXT NOT NULL, content_type TEXT, extra TEXT,
  PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS buckets (name TEXT PRIMARY KEY, created_ms INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS uploads (
  upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key TEXT NOT NULL,
  initiated_ms INTEGER NOT NULL, meta TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads (bucket, key, initiated_ms);
CREATE TABLE IF NOT EXISTS parts (
  upload_id TEXT NOT NULL, part_number INTEGER NOT NULL,
  size INTEGER NOT NULL, etag TEXT NOT NULL, last_modified_ms INTEGER NOT NULL,
  PRIMARY KEY (upload_id, part_number)
) WITHOUT ROWID;
`;

function prepare(db: Database.Database) {
  return {
    getObject: db.prepare('SELECT size, mtime_ms, ino, etag, content_type, extra FROM objects WHERE bucket = ? AND key = ?'),
    putObject: db.prepare(
      'INSERT OR REPLACE INTO objects (bucket, key, size, mtime_ms, ino, etag, content_type, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    deleteObject: db.prepare('DELETE FROM objects WHERE bucket = ? AND key = ?'),
    deleteBucketObjects: db.prepare('DELETE FROM objects WHERE bucket = ?'),
    getBucket: db.prepare('SELECT created_ms FROM buckets WHERE name = ?').pluck(),
    putBucket: db.prepare('INSERT OR IGNORE INTO buckets (name, created_ms) VALUES (?, ?)'),
    deleteBucket: db.prepare('DELETE FROM buckets WHERE name = ?'),
    putUpload: db.prepare('INSERT INTO uploads (upload_id, bucket, key, initiated_ms, meta) VALUES (?, ?, ?, ?, ?)'),
    getUpload: db.prepare('SELECT upload_id, bucket, key, initiated_ms, meta FROM uploads WHERE upload_id = ?'),
    listUploads: db.prepare('SELECT upload_id, bucket, key, initiated_ms, meta FROM uploads WHERE bucket = ? ORDER BY key, initiated_ms, upload_id'),
    deleteUpload: db.prepare('DELETE FROM uploads WHERE upload_id = ?'),
    deleteParts: db.prepare('DELETE FROM parts WHERE upload_id = ?'),
    putPart: db.prepare('INSERT OR REPLACE INTO parts (upload_id, part_number, size, etag, last_modified_ms) VALUES (?, ?, ?, ?, ?)'),
    listParts: db.prepare('SELECT part_number, size, etag, last_modified_ms FROM parts WHERE upload_id = ? ORDER BY part_number'),
    bucketUploads: db.prepare('SELECT upload_id FROM uploads WHERE bucket = ?').pluck(),
  };
}

interface ObjectRow {
  size: number;
  mtime_ms: number;
  ino: number;
  etag: string;
  content_type: string | null;
  extra: string | null;
}

const matches = (row: ObjectRow, id: FileIdentity): boolean => row.size === id.size && row.mtime_ms === id.mtimeMs && row.ino === id.ino;

function toMeta(row: ObjectRow): ObjectMeta {
  const meta: ObjectMeta = { etag: row.etag };
  if (row.content_type !== null) meta.contentType = row.content_type;
  if (row.extra) Object.assign(meta, JSON.parse(row.extra) as Partial<ObjectMeta>);
  return meta;
}

export class LocalMetaIndex {
  private readonly db: Database.Database;
  private readonly stmts: ReturnType<typeof prepare>;

  constructor(root: string) {
    fs.mkdirSync(root, { recursive: true });
    this.db = new Database(path.join(root, META_DB_FILE));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.stmts = prepare(this.db);
  }

  close(): void {
    this.db.close();
  }

  /** The metadata of `bucket/key` when it describes the file `id` identifies. */
  getObject(bucket: string, key: string, id: FileIdentity): ObjectMeta | undefined {
    const row = this.stmts.getObject.get(bucket, key) as ObjectRow | undefined;
    return row && matches(row, id) ? toMeta(row) : undefined;
  }

  putObject(bucket: string, key: string, id: FileIdentity, meta: ObjectMeta): void {
    const { etag, contentType, ...rest } = meta;
    const extra = Object.values(rest).some((v) => v !== undefined) ? JSON.stringify(rest) : null;
    this.stmts.putObject.run(bucket, key, id.size, id.mtimeMs, id.ino, etag, contentType ?? null, extra);
  }

  deleteObject(bucket: string, key: string): void {
    this.stmts.deleteObject.run(bucket, key);
  }

  bucketCreated(bucket: string): number | undefined {
    return this.stmts.getBucket.get(bucket) as number | undefined;
  }

  recordBucket(bucket: string, createdMs: number): void {
    this.stmts.putBucket.run(bucket, createdMs);
  }

  /** Forgets a bucket with its objects and uploads; returns the upload ids whose parts the caller removes. */
  forgetBucket(bucket: string): string[] {
    return this.db.transaction(() => {
      const uploads = this.stmts.bucketUploads.all(bucket) as string[];
      for (const id of uploads) {
        this.stmts.deleteParts.run(id);
        this.stmts.deleteUpload.run(id);
      }
      this.stmts.deleteBucketObjects.run(bucket);
      this.stmts.deleteBucket.run(bucket);
      return uploads;
    })();
  }

  createUpload(u: UploadRecord): void {
    this.stmts.putUpload.run(u.uploadId, u.bucket, u.key, u.initiated, JSON.stringify(u.meta));
  }

  getUpload(uploadId: string): UploadRecord | undefined {
    const row = this.stmts.getUpload.get(uploadId) as UploadRow | undefined;
    return row && toUpload(row);
  }

  /** Uploads in progress in a bucket, ordered by key, then initiation time. */
  listUploads(bucket: string): UploadRecord[] {
    return (this.stmts.listUploads.all(bucket) as UploadRow[]).map(toUpload);
  }

  deleteUpload(uploadId: string): void {
    this.db.transaction(() => {
      this.stmts.deleteParts.run(uploadId);
      this.stmts.deleteUpload.run(uploadId);
    })();
  }

  putPart(uploadId: string, part: PartRecord): void {
    this.stmts.putPart.run(uploadId, part.partNumber, part.size, part.etag, part.lastModified);
  }

  listParts(uploadId: string): PartRecord[] {
    return (this.stmts.listParts.all(uploadId) as { part_number: number; size: number; etag: string; last_modified_ms: number }[]).map((r) => ({
      partNumber: r.part_number,
      size: r.size,
      etag: r.etag,
      lastModified: r.last_modified_ms,
    }));
  }
}

interface UploadRow {
  upload_id: string;
  bucket: string;
  key: string;
  initiated_ms: number;
  meta: string;
}

function toUpload(r: UploadRow): UploadRecord {
  return { uploadId: r.upload_id, bucket: r.bucket, key: r.key, initiated: r.initiated_ms, meta: JSON.parse(r.meta) as UploadRecord['meta'] };
}
