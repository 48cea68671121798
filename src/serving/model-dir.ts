/**
 * The host directory mounted read-only at /opt/ml/model. It is filled in a
 * sibling temporary directory and renamed into place, so a directory that
 * exists is always complete (a restart reuses it).
 */
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { DataTransfer } from '../storage/transfer';
import { parseUri } from '../storage/uri';
import { ModelDataError } from './errors';
import type { ModelData } from './serving-model';

export interface PrepareOptions {
  /** ModelDataDownloadTimeoutInSeconds, in ms. Default: no limit. */
  timeoutMs?: number;
}

/** Whether `dir` holds a prepared model directory. */
export async function modelDirReady(dir: string): Promise<boolean> {
  return fsp.stat(dir).then((s) => s.isDirectory(), () => false);
}

/**
 * Downloads (and extracts) the model data into `dir`, unless `dir` already
 * exists. No data: an empty directory. Archive entries that would leave the
 * directory are refused (ModelDataError), as are locations outside the object
 * store.
 */
export async function prepareModelDir(transfer: DataTransfer, data: ModelData | undefined, dir: string, opts: PrepareOptions = {}): Promise<void> {
  if (await modelDirReady(dir)) return;
  const tmp = `${dir}.tmp-${randomBytes(4).toString('hex')}`;
  await fsp.mkdir(tmp, { recursive: true });
  try {
    if (data) {
      const work = fill(transfer, data, tmp);
      await (opts.timeoutMs === undefined ? work : withTimeout(work, opts.timeoutMs, data.uri));
    }
    // Readable by any user the image runs as (the mount is read-only anyway).
    await fsp.chmod(tmp, 0o755);
    await fsp.rename(tmp, dir);
  } catch (err) {
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    if (err instanceof ModelDataError) throw err;
    throw new ModelDataError(data?.uri ?? '(none)', (err as Error).message);
  }
}

async function fill(transfer: DataTransfer, data: ModelData, dest: string): Promise<void> {
  if (parseUri(data.uri).scheme !== 's3') throw new ModelDataError(data.uri, 'model data must be in the object store (s3://)');
  switch (data.kind) {
    case 'archive':
      await transfer.extractTarGz(await transfer.openRead(data.uri), dest);
      return;
    case 'prefix': {
      const objects = await transfer.listSource({ uri: data.uri, dataType: 'S3Prefix', allowEmpty: true });
      await transfer.download(objects, dest);
      return;
    }
    case 'object': {
      const objects = await transfer.listSource({ uri: data.uri, dataType: 'S3Prefix' });
      const exact = objects.filter((o) => o.uri === data.uri);
      if (exact.length !== 1) throw new ModelDataError(data.uri, 'no object at this location');
      await transfer.download([{ ...exact[0]!, relativePath: path.posix.basename(exact[0]!.key) }], dest);
      return;
    }
  }
}

function withTimeout<T>(work: Promise<T>, ms: number, uri: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ModelDataError(uri, `the download did not finish within ${Math.round(ms / 1000)} s (ModelDataDownloadTimeoutInSeconds)`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
