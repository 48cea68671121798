/**
 * Feeds one Pipe-mode channel of one host: FIFOs `<name>_0`, `<name>_1`, ...
 * in a directory the container sees, one epoch each, for as many epochs as
 * the container reads.
 *
 * The epoch scheme (one reader per FIFO):
 *   1. `<name>_N` exists (N = 0 is made before the container starts).
 *   2. sagebox waits, without blocking, until a reader opens it (fifo.ts).
 *   3. It streams the epoch into it. The epoch is over when either
 *      - every byte is written: sagebox closes its end, the reader drains
 *        what the pipe still holds and reads EOF; or
 *      - the reader closes early: the next write fails with EPIPE (the kernel
 *        reports it at once, also while sagebox waits for room in the pipe).
 *   4. `<name>_(N+1)` is created, then `<name>_N` is removed (a reader still
 *      holding it keeps reading it), and the loop goes back to 2.
 * Epoch N+1 therefore exists as soon as N is fully written or abandoned, not
 * only after the reader has drained N: a reader that follows the contract
 * opens it after closing N anyway. A reader that opens `<name>_(N+1)` while
 * it still reads N gets N+1 concurrently (the contract forbids it; sagebox
 * does not police it).
 *
 * Restarts: the epoch and whether it was being written are persisted in
 * `stateFile` before each step. A feeder resumed after sagebox stopped while
 * waiting for a reader goes on waiting on the same FIFO; one resumed after it
 * stopped in the middle of writing an epoch cannot repair what the container
 * read (its reader saw an early EOF when sagebox's end closed), so it throws
 * a DataSourceError and the job fails with a ClientError saying so.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import { DataSourceError } from '../../storage/errors';
import { FileStore } from '../../storage/file-store';
import { enlargePipe, fifoWriter, isReaderGone, mkfifo, waitForReader } from './fifo';

export interface FeederLogger {
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
}

export interface PipeFeederOptions {
  /** Host directory the FIFOs are created in. */
  dir: string;
  /** FIFO base name: `<name>_<epoch>`. */
  name: string;
  /** Where the feeder persists its progress (a host path the container does not see). */
  stateFile: string;
  /** Writes one epoch into `out` (without ending it); must end promptly when `signal` aborts. */
  write(epoch: number, out: Writable, signal: AbortSignal): Promise<void>;
  log: FeederLogger;
  /** Added to every log line (job, host, channel). */
  fields: Record<string, unknown>;
  /** What the error says the data belongs to, e.g. "channel 'train'". */
  label: string;
}

interface FeederState {
  epoch: number;
  writing: boolean;
}

export type EpochEnd = 'complete' | 'closed-early' | 'aborted';

export function fifoPath(dir: string, name: string, epoch: number): string {
  return path.join(dir, `${name}_${epoch}`);
}

/** Creates epoch 0's FIFO (before the container starts) and a fresh state. */
export async function preparePipe(dir: string, name: string, stateFile: string): Promise<void> {
  await fsp.mkdir(dir, { recursive: true });
  await writeState(stateFile, { epoch: 0, writing: false });
  await mkfifo([fifoPath(dir, name, 0)]);
}

/** Runs epochs until `signal` aborts. Rejects with DataSourceError when the data cannot be streamed. */
export async function feedPipe(opts: PipeFeederOptions, signal: AbortSignal): Promise<void> {
  const state = (await readState(opts.stateFile)) ?? { epoch: 0, writing: false };
  if (state.writing) {
    throw new DataSourceError(
      fifoPath(opts.dir, opts.name, state.epoch),
      `Epoch ${state.epoch} of ${opts.label} was cut short: sagebox stopped while streaming it, and a Pipe-mode stream cannot be resumed`,
    );
  }
  let epoch = state.epoch;
  while (!signal.aborted) {
    const fifo = fifoPath(opts.dir, opts.name, epoch);
    await mkfifo([fifo]);
    if (epoch > 0) await fsp.rm(fifoPath(opts.dir, opts.name, epoch - 1), { force: true });
    const fd = await waitForReader(fifo, signal);
    if (fd === undefined) return;
    await enlargePipe(fd);
    await writeState(opts.stateFile, { epoch, writing: true });
    const started = performance.now();
    const { end, bytes } = await feedEpoch(fd, (out, s) => opts.write(epoch, out, s), signal);
    if (end === 'aborted') return; // state keeps writing: true, see above
    const seconds = (performance.now() - started) / 1000;
    opts.log.info({ ...opts.fields, epoch, bytes, seconds: Number(seconds.toFixed(3)), end }, end === 'complete' ? 'Pipe epoch streamed' : 'Pipe epoch closed early by the reader');
    epoch += 1;
    await writeState(opts.stateFile, { epoch, writing: false });
  }
}

/**
 * Writes one epoch into an open FIFO and closes it. A reader that goes away
 * ends the epoch ('closed-early'); a data problem rejects (after closing the
 * FIFO); an abort ends it at once ('aborted'). `write` must not end `out`.
 */
export async function feedEpoch(fd: number, write: (out: Writable, signal: AbortSignal) => Promise<void>, signal: AbortSignal): Promise<{ end: EpochEnd; bytes: number }> {
  const out = fifoWriter(fd);
  // Ends the writing at once when the reader leaves (the source may be waiting on the store).
  const local = new AbortController();
  const both = AbortSignal.any([signal, local.signal]);
  let readerGone = false;
  out.on('error', (err) => {
    if (isReaderGone(err)) readerGone = true;
    local.abort();
  });
  try {
    await write(out, both);
    await new Promise<void>((resolve, reject) => {
      out.once('error', reject);
      out.end(resolve);
    });
    return { end: 'complete', bytes: out.bytesWritten };
  } catch (err) {
    if (signal.aborted) return { end: 'aborted', bytes: out.bytesWritten };
    if (readerGone || isReaderGone(err)) return { end: 'closed-early', bytes: out.bytesWritten };
    throw err;
  } finally {
    local.abort();
    out.destroy();
  }
}

async function readState(file: string): Promise<FeederState | undefined> {
  try {
    return JSON.parse(await fsp.readFile(file, 'utf8')) as FeederState;
  } catch {
    return undefined;
  }
}

const files = new FileStore();

/** Atomically (a temporary sibling, then rename), so a restart reads the old state or the new one. */
async function writeState(file: string, state: FeederState): Promise<void> {
  await files.write(file, JSON.stringify(state));
}
