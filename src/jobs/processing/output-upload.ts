/**
 * Processing outputs: which host directories go to which URI, the upload at
 * the end of the job, and the Continuous mode watcher that uploads files
 * while the job runs. Keys are S3Uri + '/' + the path relative to LocalPath;
 * symbolic links are never followed (spec 2.3).
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { walkTree } from '../../storage/fs-tree';
import { lstatOrUndefined } from '../../storage/fs-util';
import { joinKey } from '../../storage/keys';
import type { DataTransfer } from '../../storage/transfer';
import { formatFileUri, formatS3Uri, parseUri } from '../../storage/uri';
import { sleep } from '../../util/sleep';
import type { ProcessingJobDoc } from './describe';
import { hostPathOf, type HostLayout } from './host-layout';
import { normalised } from './staging';

export interface OutputTarget {
  name: string;
  host: string;
  dir: string;
  uri: string;
  mode: 'EndOfJob' | 'Continuous';
}

export function outputTargets(doc: ProcessingJobDoc, layouts: HostLayout[]): OutputTarget[] {
  const targets: OutputTarget[] = [];
  for (const layout of layouts) {
    for (const o of doc.ProcessingOutputConfig?.Outputs ?? []) {
      const s3 = o.S3Output;
      if (o.AppManaged || !s3?.LocalPath || !s3.S3Uri) continue;
      targets.push({
        name: o.OutputName ?? '',
        host: layout.host,
        dir: hostPathOf(layout, normalised(s3.LocalPath)),
        uri: s3.S3Uri,
        mode: s3.S3UploadMode === 'Continuous' ? 'Continuous' : 'EndOfJob',
      });
    }
  }
  return targets;
}

/** The URI of one file of an output: the output's URI joined with the file's relative path. */
export function fileUri(outputUri: string, relativePath: string): string {
  const t = parseUri(outputUri);
  if (t.scheme === 's3') return formatS3Uri(t.bucket, joinKey(t.key, relativePath));
  return formatFileUri(path.join(t.path, ...relativePath.split('/')));
}

/** Uploads every output directory (end of job; Continuous outputs get this last pass too). */
export async function uploadOutputs(transfer: DataTransfer, targets: OutputTarget[]): Promise<void> {
  for (const t of targets) {
    if (!(await isDir(t.dir))) continue;
    await transfer.uploadDir(t.dir, t.uri);
  }
}

export interface ContinuousOptions {
  /** How often the directories are scanned. */
  pollMs?: number;
  /** A file is uploaded once its size and mtime have not changed for this long. */
  settleMs?: number;
  now?: () => number;
  onError?: (err: unknown, target: OutputTarget, relativePath: string) => void;
}

interface Seen {
  sig: string;
  changedAt: number;
  uploaded?: string;
}

/**
 * Watches Continuous outputs by scanning them: a file is uploaded once it has
 * been left alone for `settleMs` (closed, in practice), and again whenever it
 * changes after that. Resolves when `signal` aborts.
 */
export async function watchContinuous(transfer: DataTransfer, targets: OutputTarget[], signal: AbortSignal, opts: ContinuousOptions = {}): Promise<void> {
  const watched = targets.filter((t) => t.mode === 'Continuous');
  if (watched.length === 0) return;
  const pollMs = opts.pollMs ?? 250;
  const settleMs = opts.settleMs ?? 600;
  const now = opts.now ?? Date.now;
  const seen = new Map<string, Seen>();
  while (!signal.aborted) {
    for (const t of watched) {
      if (signal.aborted) break;
      if (!(await isDir(t.dir))) continue;
      try {
        for await (const f of walkTree(t.dir)) {
          const st = await fs.stat(f.absolutePath).catch(() => undefined);
          if (!st) continue;
          const key = `${t.host}\0${t.dir}\0${f.relativePath}`;
          const sig = `${st.size}:${st.mtimeMs}`;
          const s = seen.get(key);
          if (!s || s.sig !== sig) {
            seen.set(key, { sig, changedAt: now(), uploaded: s?.uploaded });
            continue;
          }
          if (s.uploaded === sig || now() - s.changedAt < settleMs) continue;
          try {
            await transfer.uploadFile(f.absolutePath, fileUri(t.uri, f.relativePath));
            s.uploaded = sig;
          } catch (err) {
            opts.onError?.(err, t, f.relativePath);
          }
        }
      } catch (err) {
        // A directory changing under the walk (a file removed mid-scan): try again next round.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') opts.onError?.(err, t, '');
      }
    }
    await sleep(pollMs, signal);
  }
}

async function isDir(p: string): Promise<boolean> {
  return (await lstatOrUndefined(p))?.isDirectory() ?? false;
}
