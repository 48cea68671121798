/**
 * What the data-heavy benchmarks share (bench/lib.ts has the server and the
 * statistics): size knobs from the environment, temporary directories that
 * are removed on exit or interrupt, large input files written fast, the S3
 * client for the server, job polling, and timing of shell commands.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { credentials, exec, region, sleep } from './lib';

export const GiB = 1024 * 1024 * 1024;
export const MiB = 1024 * 1024;

/** A positive number from the environment, or the default. */
/** Whether a comma-separated environment filter lets `value` through (an unset one lets everything through). */
export function envAllows(name: string, value: string): boolean {
  const raw = process.env[name];
  return !raw || raw.split(',').includes(value);
}

export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got '${raw}'`);
  return n;
}

export const fmtBytes = (n: number): string => (n >= 1000 * MiB ? `${(n / GiB).toFixed(2)} GiB` : `${(n / MiB).toFixed(1)} MiB`);

// Cleanup that must run even when the benchmark fails or is interrupted (GB-sized data).
const cleanups: Array<() => Promise<void> | void> = [];
let interrupted = false;

/** Registers a cleanup; returns a function that runs it now (once) and unregisters it. */
export function onCleanup(fn: () => Promise<void> | void): () => Promise<void> {
  let done = false;
  const run = async (): Promise<void> => {
    if (done) return;
    done = true;
    const i = cleanups.indexOf(run);
    if (i >= 0) cleanups.splice(i, 1);
    await fn();
  };
  cleanups.push(run);
  return run;
}

async function runCleanups(): Promise<void> {
  for (const fn of [...cleanups].reverse()) await Promise.resolve(fn()).catch((e) => console.error('cleanup failed:', e));
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${sig}: removing temporary data`);
    void runCleanups().finally(() => process.exit(130));
  });
}

/** A fresh temporary directory, removed by the returned function (and on interrupt). */
export function tempDir(prefix: string): { dir: string; remove: () => Promise<void> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const remove = onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  return { dir, remove };
}

/** Writes `bytes` of incompressible data (a random 4 MiB block repeated). */
export async function writeDataFile(file: string, bytes: number, block = randomBytes(4 * MiB)): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fh = await fs.promises.open(file, 'w');
  try {
    let left = bytes;
    while (left > 0) {
      const n = Math.min(left, block.length);
      await fh.write(block, 0, n);
      left -= n;
    }
  } finally {
    await fh.close();
  }
}

/** An S3 client for a sagebox server (path style, the default test credentials). */
export function s3Client(endpoint: string, creds = credentials): S3Client {
  return new S3Client({ endpoint, region, credentials: creds, forcePathStyle: true });
}

/** Creates a bucket through the S3 API (so the store records it), then returns its directory in the local store. */
export async function createBucket(url: string, dataDir: string, bucket: string): Promise<string> {
  const s3 = s3Client(url);
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    s3.destroy();
  }
  return path.join(dataDir, 's3', bucket);
}

/** Flushes dirty pages of the file system holding `dir`, so one measurement does not pay for the previous one's writeback. */
export async function syncFs(dir: string): Promise<void> {
  await exec('sync', ['-f', dir]);
}

/** Runs a command and returns its wall time in ms; rejects with its stderr on failure. */
export async function timed(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<number> {
  const t = performance.now();
  await exec(cmd, args, { env: opts.env ?? process.env, maxBuffer: 64 * MiB });
  return performance.now() - t;
}

/** Polls `read` every `everyMs` until `status` is `ok`; throws on Failed or Stopped. */
export async function pollUntil<T>(read: () => Promise<T>, status: (r: T) => string | undefined, opts: { everyMs: number; ok: string; what: string; reason?: (r: T) => string | undefined; timeoutMs?: number }): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 3_600_000);
  for (;;) {
    const r = await read();
    const s = status(r);
    if (s === opts.ok) return r;
    if (s && ['Failed', 'Stopped'].includes(s)) throw new Error(`${opts.what}: ${s}: ${opts.reason?.(r) ?? ''}`);
    if (Date.now() > deadline) throw new Error(`${opts.what}: still ${s} after ${opts.timeoutMs} ms`);
    await sleep(opts.everyMs);
  }
}

/** Waits until a path is gone (the job engine removes a job's work directory after the terminal status). */
export async function waitGone(p: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (fs.existsSync(p)) {
    if (Date.now() > deadline) throw new Error(`${p} still exists after ${timeoutMs} ms`);
    await sleep(50);
  }
}

export function printReducedNote(knobs: Record<string, [number, number]>): void {
  const reduced = Object.entries(knobs).filter(([, [v, d]]) => v !== d);
  if (reduced.length) console.log(`NOTE: reduced/changed size (${reduced.map(([k, [v, d]]) => `${k}=${v}, default ${d}`).join('; ')})`);
}
