/**
 * Writes the bytes of one Pipe-mode epoch: records (an S3 object, or the attributes
 * of one augmented-manifest line) turned into one byte stream, with gzip
 * decompressed in flight and RecordIO framing applied per part.
 *
 * Memory stays bounded whatever the data size: objects are streamed chunk by
 * chunk, at most `readAhead` further objects are opened ahead (to hide request
 * latency; an opened stream holds one read buffer, or a socket's window), and
 * the consumer's backpressure pauses everything. The one buffer is for a
 * gzip object wrapped in RecordIO: the record header needs the decompressed
 * length, so up to `gzipBufferBytes` of decompressed data is held; a bigger
 * object is decompressed twice instead (once to count, once to send).
 */
import { pipeline } from 'node:stream';
import type { Readable, Writable } from 'node:stream';
import * as zlib from 'node:zlib';
import { DataSourceError } from '../../storage/errors';
import { isReaderGone } from './fifo';
import { recordHeader, recordPadding, RECORDIO_MAX_PAYLOAD } from './recordio';

/** One piece of a record: an object's bytes, or literal bytes (an augmented-manifest value). */
export type Part = { kind: 'object'; uri: string; size?: number } | { kind: 'bytes'; data: Buffer };

export interface EpochStreamOptions {
  /** CompressionType Gzip: every object part is gunzipped (literal parts are not). */
  gzip: boolean;
  /** RecordWrapperType RecordIO: every part becomes one record. */
  recordIO: boolean;
  open(uri: string): Promise<Readable>;
  /** An object's size, asked only when RecordIO needs it and the listing did not give it. */
  size(uri: string): Promise<number>;
  /** Objects opened ahead of the one being sent. Default 2. */
  readAhead?: number;
  /** Decompressed bytes held to frame a gzip object as one record before counting twice. Default 16 MiB. */
  gzipBufferBytes?: number;
}

export const DEFAULT_READ_AHEAD = 2;
export const DEFAULT_GZIP_BUFFER_BYTES = 16 * 1024 * 1024;
/** Parts looked at ahead of the current one (literal parts are small; this bounds them too). */
const MAX_QUEUED_PARTS = 64;

interface Opened {
  part: ObjectPart;
  stream: Readable;
  /** Known for uncompressed RecordIO parts. */
  size?: number;
}

/**
 * Writes the epoch into `out` (which it leaves open). Objects are piped
 * (`Readable.pipe`: one listener call per chunk, the source paused while `out`
 * is full), which costs far less per chunk than async iteration. Aborting
 * `signal` destroys whatever is open so the call ends promptly even when a
 * source stalls. Problems with the data (a missing object, bad gzip, an
 * object that changed size) reject as DataSourceError naming the object.
 */
export async function writeEpoch(parts: Iterable<Part>, opts: EpochStreamOptions, out: Writable, signal: AbortSignal): Promise<void> {
  const live = new Set<Readable>();
  const track = (s: Readable): Readable => {
    live.add(s);
    s.once('close', () => live.delete(s));
    // An object opened ahead may fail before anything listens: keep that from crashing the process; pump() finds it in `errored`.
    s.on('error', () => undefined);
    if (signal.aborted) s.destroy();
    return s;
  };
  const onAbort = (): void => {
    for (const s of live) s.destroy();
  };
  signal.addEventListener('abort', onAbort, { once: true });

  const openPart = async (part: ObjectPart): Promise<Opened> => {
    const size = opts.recordIO && !opts.gzip ? (part.size ?? (await opts.size(part.uri))) : undefined;
    const stream = track(await opts.open(part.uri));
    return { part, stream, size };
  };
  const ahead = Math.max(0, opts.readAhead ?? DEFAULT_READ_AHEAD);
  const queue: { part: Part; opened?: Promise<Opened> }[] = [];
  const it = parts[Symbol.iterator]();
  let exhausted = false;
  let openedInQueue = 0; // queue entries with `opened`
  const fill = (): void => {
    while (!exhausted && queue.length < MAX_QUEUED_PARTS && openedInQueue <= ahead) {
      const r = it.next();
      if (r.done) {
        exhausted = true;
        break;
      }
      const entry: { part: Part; opened?: Promise<Opened> } = { part: r.value };
      if (r.value.kind === 'object') {
        entry.opened = openPart(r.value);
        entry.opened.catch(() => undefined); // surfaced when it is awaited; never unhandled when abandoned
        openedInQueue += 1;
      }
      queue.push(entry);
    }
  };

  try {
    for (;;) {
      if (signal.aborted) throw abortError(signal);
      fill();
      const next = queue.shift();
      if (!next) return;
      if (next.opened) openedInQueue -= 1;
      if (next.part.kind === 'bytes') {
        const data = next.part.data;
        if (opts.recordIO) await write(out, recordHeader(data.length), signal);
        if (data.length) await write(out, data, signal);
        if (opts.recordIO && data.length % 4) await write(out, recordPadding(data.length), signal);
        continue;
      }
      const part = next.part;
      let opened: Opened;
      try {
        opened = await next.opened!;
      } catch (err) {
        throw asDataError(part.uri, err, signal, out);
      }
      try {
        if (opts.gzip && opts.recordIO) await gzipRecord(opened, opts, out, signal, track);
        else if (opts.gzip) await pump(gunzip(opened.stream, track), out, signal);
        else if (opts.recordIO) await sizedRecord(opened, out, signal);
        else await pump(opened.stream, out, signal);
      } catch (err) {
        throw asDataError(part.uri, err, signal, out);
      } finally {
        opened.stream.destroy();
      }
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    for (const q of queue) void q.opened?.then((o) => o.stream.destroy(), () => undefined);
    for (const s of live) s.destroy();
  }
}

type ObjectPart = Extract<Part, { kind: 'object' }>;

/** Writes one buffer, waiting for room when `out` is full. */
function write(out: Writable, buf: Buffer, signal: AbortSignal): Promise<void> {
  if (out.write(buf)) return Promise.resolve();
  return settleOn(out, signal, (done) => {
    out.once('drain', done);
    return () => out.off('drain', done);
  });
}

/** Pipes `src` into `out` without ending it; `onChunk` sees every chunk (after it was written). */
function pump(src: Readable, out: Writable, signal: AbortSignal, onChunk?: (chunk: Buffer) => void): Promise<void> {
  return settleOn(out, signal, (done, fail) => {
    const onClose = (): void => fail(src.errored ?? new Error('the source closed before its end'));
    if (src.errored || src.destroyed) {
      onClose();
      return () => undefined;
    }
    if (onChunk) src.on('data', onChunk);
    src.once('end', done);
    src.once('error', fail);
    src.once('close', onClose);
    src.pipe(out, { end: false });
    return () => {
      src.unpipe(out);
      if (onChunk) src.off('data', onChunk);
      src.off('end', done);
      src.off('error', fail);
      src.off('close', onClose);
      src.on('error', () => undefined); // a late error of a source being discarded
    };
  });
}

/**
 * Runs `start` until it calls done or fail; also settles (rejecting) when
 * `out` fails or closes, or on abort. The cleanup `start` returns runs either way.
 */
function settleOn(out: Writable, signal: AbortSignal, start: (done: () => void, fail: (err: unknown) => void) => () => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    let cleanup: (() => void) | undefined;
    const finish = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      out.off('error', onOutError);
      out.off('close', onOutClose);
      signal.removeEventListener('abort', onAbort);
      cleanup?.();
      if (err === undefined) resolve();
      else reject(err);
    };
    const onOutError = (err: unknown): void => finish(err);
    const onOutClose = (): void => finish(Object.assign(new Error('the pipe was closed'), { code: 'EPIPE' }));
    const onAbort = (): void => finish(abortError(signal));
    out.once('error', onOutError);
    out.once('close', onOutClose);
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) return finish(abortError(signal));
    if (out.destroyed) return finish(Object.assign(new Error('the pipe was closed'), { code: 'EPIPE' }));
    cleanup = start(() => finish(), (err) => finish(err));
    if (settled) cleanup();
  });
}

async function sizedRecord(o: Opened, out: Writable, signal: AbortSignal): Promise<void> {
  const size = o.size!;
  await write(out, recordHeader(size), signal);
  let sent = 0;
  await pump(o.stream, out, signal, (chunk) => {
    sent += chunk.length;
    if (sent > size) o.stream.destroy(changed(o.part.uri, size, 'more'));
  });
  if (sent !== size) throw changed(o.part.uri, size, sent);
  if (size % 4) await write(out, recordPadding(size), signal);
}

/** A gzip object as one record: buffered when small, else counted in a first pass and sent in a second. */
async function gzipRecord(o: Opened, opts: EpochStreamOptions, out: Writable, signal: AbortSignal, track: (s: Readable) => Readable): Promise<void> {
  const limit = opts.gzipBufferBytes ?? DEFAULT_GZIP_BUFFER_BYTES;
  const held: Buffer[] = [];
  let total = 0;
  let overflow = false;
  for await (const chunk of gunzip(o.stream, track)) {
    total += (chunk as Buffer).length;
    if (!overflow && total <= limit) held.push(chunk as Buffer);
    else {
      overflow = true;
      held.length = 0;
    }
  }
  if (total > RECORDIO_MAX_PAYLOAD) throw new DataSourceError(o.part.uri, `${o.part.uri} decompresses to ${total} bytes, more than one RecordIO record can hold (${RECORDIO_MAX_PAYLOAD})`);
  await write(out, recordHeader(total), signal);
  if (!overflow) for (const chunk of held) await write(out, chunk, signal);
  else {
    const again = gunzip(track(await opts.open(o.part.uri)), track);
    let sent = 0;
    await pump(again, out, signal, (chunk) => {
      sent += chunk.length;
      if (sent > total) again.destroy(changed(o.part.uri, total, 'more'));
    });
    if (sent !== total) throw changed(o.part.uri, total, sent);
  }
  if (total % 4) await write(out, recordPadding(total), signal);
}

function changed(uri: string, expected: number, read: number | 'more'): DataSourceError {
  return new DataSourceError(uri, `${uri} changed while it was streamed: expected ${expected} bytes, read ${read}`);
}

function gunzip(source: Readable, track: (s: Readable) => Readable): Readable {
  const gz = zlib.createGunzip({ chunkSize: 64 * 1024 });
  track(gz);
  return pipeline(source, gz, () => undefined);
}

function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('The epoch was aborted'), { name: 'AbortError', cause: signal.reason });
}

/** Errors of the writing side (the reader went away) and aborts pass through; the rest becomes a DataSourceError naming the object. */
function asDataError(uri: string, err: unknown, signal: AbortSignal, out: Writable): unknown {
  if (signal.aborted || err instanceof DataSourceError || out.destroyed || isReaderGone(err)) return err;
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.code === 'string' && e.code.startsWith('Z_')) return new DataSourceError(uri, `${uri} is not valid gzip data (CompressionType Gzip): ${e.message}`);
  return new DataSourceError(uri, `Streaming ${uri} failed: ${e?.message ?? String(err)}`);
}
