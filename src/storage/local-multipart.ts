/**
 * S3 multipart uploads over the local store. Each part is a file
 * `<root>/.sagebox-uploads/<upload id>/<part number>`, written through the
 * staging area like any object; the upload and its parts are rows of the
 * metadata index. Completing concatenates the named parts into a staged file
 * and renames it into place, so the object appears whole or not at all.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { EntityTooSmallError, InvalidPartError, InvalidPartOrderError, NoSuchUploadError } from './errors';
import { errCode } from './fs-util';
import { KeyLock } from './key-lock';
import type { PartRecord, UploadRecord } from './local-meta';
import type { BeforeCommit, LocalObjectStore, StagedBody, StoredObject } from './local-store';
import { UPLOADS_DIR } from './local-walk';

/** S3's limits: every part but the last at least 5 MiB; part numbers 1-10,000. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
export const MAX_PART_NUMBER = 10_000;

const UPLOAD_ID_RE = /^[A-Za-z0-9_-]{16,128}$/;

export class LocalMultipartUploads {
  private readonly locks = new KeyLock();

  constructor(private readonly store: LocalObjectStore, private readonly opts: { minPartBytes?: number } = {}) {}

  async create(bucket: string, key: string, meta: UploadRecord['meta'], now = Date.now()): Promise<UploadRecord> {
    await this.store.checkTarget(bucket, key);
    const upload: UploadRecord = { uploadId: randomBytes(24).toString('base64url'), bucket, key, initiated: now, meta };
    await fsp.mkdir(this.dir(upload.uploadId), { recursive: true });
    this.store.meta.createUpload(upload);
    return upload;
  }

  /** The upload, or NoSuchUploadError (also for ids that are malformed or belong to another bucket/key). */
  get(uploadId: string, bucket?: string, key?: string): UploadRecord {
    const u = UPLOAD_ID_RE.test(uploadId) ? this.store.meta.getUpload(uploadId) : undefined;
    if (!u || (bucket !== undefined && u.bucket !== bucket) || (key !== undefined && u.key !== key)) throw new NoSuchUploadError(uploadId);
    return u;
  }

  /** Stores one part (replacing an earlier upload of the same number). */
  async uploadPart(
    upload: UploadRecord,
    partNumber: number,
    body: Readable | Buffer,
    opts: { size?: number; beforeCommit?: BeforeCommit } = {},
  ): Promise<PartRecord> {
    const staged = await this.store.stageBody(body, opts.size, `part ${partNumber} of upload ${upload.uploadId}`);
    try {
      await opts.beforeCommit?.(staged, async () => undefined);
      try {
        await fsp.rename(staged.tmp, path.join(this.dir(upload.uploadId), String(partNumber)));
      } catch (err) {
        if (errCode(err) === 'ENOENT') throw new NoSuchUploadError(upload.uploadId);
        throw err;
      }
      const part: PartRecord = { partNumber, size: staged.size, etag: `"${staged.md5.toString('hex')}"`, lastModified: Date.now() };
      // Aborted or completed while the part was being written: do not leave a row behind.
      if (!this.store.meta.getUpload(upload.uploadId)) throw new NoSuchUploadError(upload.uploadId);
      this.store.meta.putPart(upload.uploadId, part);
      return part;
    } finally {
      await fsp.rm(staged.tmp, { force: true });
    }
  }

  parts(upload: UploadRecord): PartRecord[] {
    return this.store.meta.listParts(upload.uploadId);
  }

  /** Uploads in progress in a bucket, ordered by key, then initiation time. */
  list(bucket: string): UploadRecord[] {
    return this.store.meta.listUploads(bucket);
  }

  /**
   * Assembles the object from the listed parts (ascending part numbers, ETags
   * as UploadPart returned them). The ETag is the MD5 of the parts' binary
   * MD5s followed by `-<number of parts>`, as S3 computes it.
   */
  async complete(upload: UploadRecord, list: { partNumber: number; etag: string }[], beforeCommit?: BeforeCommit): Promise<StoredObject> {
    return this.locks.run(upload.uploadId, async () => {
      this.get(upload.uploadId);
      const recorded = new Map(this.parts(upload).map((p) => [p.partNumber, p]));
      const chosen: PartRecord[] = [];
      let prev = 0;
      for (const item of list) {
        if (item.partNumber <= prev) throw new InvalidPartOrderError();
        prev = item.partNumber;
        const part = recorded.get(item.partNumber);
        if (!part) throw new InvalidPartError(item.partNumber, 'it was not uploaded');
        if (unquote(item.etag) !== unquote(part.etag)) throw new InvalidPartError(item.partNumber, `its ETag is ${part.etag}, not ${item.etag}`);
        chosen.push(part);
      }
      const min = this.opts.minPartBytes ?? MIN_PART_BYTES;
      chosen.slice(0, -1).forEach((p) => {
        if (p.size < min) throw new EntityTooSmallError(p.partNumber, p.size, min);
      });

      const tmp = await this.store.stagingFile();
      try {
        const digest = createHash('md5');
        let size = 0;
        const out = await fsp.open(tmp, 'w');
        try {
          for (const p of chosen) {
            digest.update(Buffer.from(unquote(p.etag), 'hex'));
            for await (const chunk of createReadStream(path.join(this.dir(upload.uploadId), String(p.partNumber)), { highWaterMark: 1 << 20 })) {
              await out.write(chunk as Buffer);
              size += (chunk as Buffer).length;
            }
          }
        } finally {
          await out.close();
        }
        const staged: StagedBody = { tmp, size, md5: digest.digest() };
        const etag = `"${staged.md5.toString('hex')}-${chosen.length}"`;
        const obj = await this.store.commitStaged(upload.bucket, upload.key, staged, { ...upload.meta, etag, partsCount: chosen.length, partSizes: chosen.map((p) => p.size) }, beforeCommit);
        await this.discard(upload.uploadId);
        return obj;
      } finally {
        await fsp.rm(tmp, { force: true });
      }
    });
  }

  async abort(upload: UploadRecord): Promise<void> {
    await this.locks.run(upload.uploadId, () => this.discard(upload.uploadId));
  }

  private async discard(uploadId: string): Promise<void> {
    this.store.meta.deleteUpload(uploadId);
    await fsp.rm(this.dir(uploadId), { recursive: true, force: true });
  }

  private dir(uploadId: string): string {
    return path.join(this.store.root, UPLOADS_DIR, uploadId);
  }
}

const unquote = (etag: string): string => etag.replace(/^"|"$/g, '').toLowerCase();
