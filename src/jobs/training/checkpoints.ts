/**
 * CheckpointConfig (spec 1.6): S3Uri -> LocalPath once before the containers
 * start; LocalPath -> S3Uri while they run and once more at the end. Files
 * are uploaded as they are (no archive); a file removed locally is removed
 * from S3 too. Objects added to S3 after the start are not pulled.
 *
 * With several hosts every host has its own LocalPath directory and they all
 * sync to the one S3Uri, a later host winning a name clash (as on SageMaker,
 * distributed jobs should write distinct names).
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { ObjectStore } from '../../storage/object-store';
import type { DataTransfer } from '../../storage/transfer';
import { walkTree } from '../../storage/fs-tree';
import { parseUri } from '../../storage/uri';

/** How often a running job's checkpoints are uploaded. */
export const CHECKPOINT_SYNC_INTERVAL_MS = 3000;

const asPrefix = (uri: string): string => (uri.endsWith('/') ? uri : `${uri}/`);

export class CheckpointSync {
  /** relative path -> size:mtime of what S3 holds from us; undefined signature = unknown (upload again). */
  private known = new Map<string, string | undefined>();
  private initialised = false;

  constructor(
    private readonly transfer: DataTransfer,
    private readonly store: ObjectStore,
    private readonly uri: string,
    /** Each host's local checkpoint directory, in host order. */
    private readonly dirs: readonly string[],
  ) {}

  /** S3 -> every host's directory. */
  async restore(): Promise<number> {
    const objects = await this.transfer.listSource({ uri: asPrefix(this.uri), dataType: 'S3Prefix', allowEmpty: true });
    for (const dir of this.dirs) {
      await fsp.mkdir(dir, { recursive: true });
      if (objects.length) await this.transfer.download(objects, dir);
    }
    this.known = new Map(objects.map((o) => [o.relativePath, undefined]));
    const first = this.dirs[0];
    if (first) for (const [rel, sig] of await this.localFiles([first])) this.known.set(rel, sig.sig);
    this.initialised = true;
    return objects.length;
  }

  /** Uploads what changed since the last sync and deletes what disappeared. */
  async sync(): Promise<{ uploaded: number; deleted: number }> {
    if (!this.initialised) {
      // After a restart: what S3 holds now stands for what this job uploaded.
      const objects = await this.transfer.listSource({ uri: asPrefix(this.uri), dataType: 'S3Prefix', allowEmpty: true });
      this.known = new Map(objects.map((o) => [o.relativePath, undefined]));
      this.initialised = true;
    }
    const local = await this.localFiles(this.dirs);
    let uploaded = 0;
    let deleted = 0;
    for (const [rel, { abs, sig }] of local) {
      if (this.known.get(rel) === sig) continue;
      await this.transfer.uploadFile(abs, asPrefix(this.uri) + rel);
      this.known.set(rel, sig);
      uploaded++;
    }
    for (const rel of [...this.known.keys()]) {
      if (local.has(rel)) continue;
      await this.remove(rel);
      this.known.delete(rel);
      deleted++;
    }
    return { uploaded, deleted };
  }

  private async localFiles(dirs: readonly string[]): Promise<Map<string, { abs: string; sig: string }>> {
    const out = new Map<string, { abs: string; sig: string }>();
    for (const dir of dirs) {
      const exists = await fsp.stat(dir).then((s) => s.isDirectory(), () => false);
      if (!exists) continue;
      for await (const f of walkTree(dir)) {
        const st = await fsp.stat(f.absolutePath).catch(() => undefined);
        if (st) out.set(f.relativePath, { abs: f.absolutePath, sig: `${st.size}:${st.mtimeMs}:${dir}` });
      }
    }
    return out;
  }

  private async remove(rel: string): Promise<void> {
    const target = parseUri(asPrefix(this.uri) + rel);
    if (target.scheme === 's3') await this.store.delete(target.bucket, target.key);
    else await fsp.rm(path.resolve(target.path), { force: true });
  }
}
