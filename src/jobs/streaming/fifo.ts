/**
 * Named pipes (FIFOs) for Pipe and FastFile modes, without ever blocking
 * Node's event loop or its threadpool.
 *
 * Opening a FIFO for writing blocks until a reader opens it. Instead of a
 * blocking open (which would hold a threadpool thread for as long as the
 * container takes, forever if it never reads), sagebox opens with
 * O_WRONLY|O_NONBLOCK: the kernel answers at once, ENXIO while no reader has
 * the FIFO open. It polls that (a few microseconds a try) until a reader
 * appears or the caller aborts, so an abandoned pipe holds nothing and never
 * delays shutdown. The descriptor it gets is wrapped in a net.Socket: libuv
 * writes to it from the event loop (epoll), honours backpressure, and reports
 * EPIPE when the reader closes its end. O_RDWR would never block, but the
 * reader would then never see EOF, so it is not used.
 */
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { promisify } from 'node:util';
import { lstatOrUndefined } from '../../storage/fs-util';
import { sleep } from '../../util/sleep';

const run = promisify(execFile);
/** Stay well below the kernel's argument-size limit when creating many FIFOs in one `mkfifo` call. */
const MAX_ARG_BYTES = 64 * 1024;

/**
 * Creates FIFOs (mode 0644: any container user may read) with coreutils'
 * `mkfifo`, Node having no binding for mkfifo(3). Paths that already are
 * FIFOs are kept, so a resumed job can call it again.
 */
export async function mkfifo(paths: readonly string[]): Promise<void> {
  const missing: string[] = [];
  for (const p of paths) if (!(await isFifo(p))) missing.push(p);
  await createFifos(missing);
}

/** Creates FIFOs at paths known not to be FIFOs yet (mkfifo fails on a path that exists). */
export async function createFifos(missing: readonly string[]): Promise<void> {
  for (let i = 0; i < missing.length; ) {
    const batch: string[] = [];
    let bytes = 0;
    while (i < missing.length && (batch.length === 0 || bytes + missing[i]!.length < MAX_ARG_BYTES)) {
      bytes += missing[i]!.length + 1;
      batch.push(missing[i++]!);
    }
    await run('mkfifo', ['-m', '0644', '--', ...batch]);
  }
}

export async function isFifo(p: string): Promise<boolean> {
  return (await lstatOrUndefined(p))?.isFIFO() ?? false;
}

/**
 * One non-blocking attempt to open a FIFO's write end: the descriptor when a
 * reader has it open, undefined when none has (ENXIO) or the path is gone
 * (ENOENT) or is no longer a FIFO. Synchronous on purpose: with O_NONBLOCK
 * the call returns at once, and sweeps over many FIFOs stay cheap.
 */
export function tryOpenWriter(p: string): number | undefined {
  let fd: number;
  try {
    fd = fs.openSync(p, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENXIO' || code === 'ENOENT' || code === 'ELOOP') return undefined;
    throw err;
  }
  // The path may have been replaced by a regular file since it was a FIFO: never write into that.
  if (!fs.fstatSync(fd).isFIFO()) {
    fs.closeSync(fd);
    return undefined;
  }
  return fd;
}

export interface WaitOptions {
  /** First delay between tries, doubled up to maxIntervalMs. */
  intervalMs?: number;
  maxIntervalMs?: number;
}

/** Polls until a reader opens the FIFO; undefined when `signal` aborts first (nothing is left open). */
export async function waitForReader(p: string, signal: AbortSignal, opts: WaitOptions = {}): Promise<number | undefined> {
  let delay = opts.intervalMs ?? 5;
  const max = opts.maxIntervalMs ?? 50;
  while (!signal.aborted) {
    const fd = tryOpenWriter(p);
    if (fd !== undefined) return fd;
    await sleep(delay, signal);
    delay = Math.min(max, delay * 2);
  }
  return undefined;
}

/**
 * A writable stream over a FIFO's write end; destroying it closes the
 * descriptor. Up to 1 MiB is queued in it, so reading the next chunk of the
 * source overlaps with the reader draining the pipe.
 */
export function fifoWriter(fd: number): net.Socket {
  return new net.Socket({ fd, readable: false, writable: true, writableHighWaterMark: 1024 * 1024 } as net.SocketConstructorOpts);
}

/** Bytes asked for a FIFO's kernel buffer (the default is 64 KiB; 1 MiB is what an unprivileged process may set). */
export const PIPE_BUFFER_BYTES = 1024 * 1024;
let perlMissing = false;

/**
 * Enlarges the kernel buffer of the pipe behind `fd` (F_SETPIPE_SZ), which
 * cuts the writer's wake-ups per MiB sixteenfold and roughly doubles Pipe-mode
 * throughput on a busy machine. Node has no fcntl, so a one-line `perl`
 * (perl-base is part of every Debian and Ubuntu system) does it on an
 * inherited copy of the descriptor. Best effort: without perl, or when the
 * kernel refuses (per-user pipe memory limits), the pipe keeps its size.
 */
export async function enlargePipe(fd: number, bytes = PIPE_BUFFER_BYTES): Promise<boolean> {
  if (perlMissing) return false;
  return new Promise<boolean>((resolve) => {
    // 1031 = F_SETPIPE_SZ on Linux.
    const child = spawn('perl', ['-e', `fcntl(STDOUT, 1031, ${Math.floor(bytes)}) or exit 1`], { stdio: ['ignore', fd, 'ignore'] });
    child.once('error', (err) => {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') perlMissing = true;
      resolve(false);
    });
    child.once('exit', (code) => resolve(code === 0));
  });
}

/** True for the errors a write gets once the reader has closed its end. */
export function isReaderGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EPIPE' || code === 'ECONNRESET';
}
