/**
 * The bytes of one Pipe-mode epoch: records (an S3 object, or the attributes
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
import type { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { DataSourceError, StorageError } from '../../storage/errors';
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
  part: Extract<Part, { kind: 'object' }>;
  stream: Readable;
  /** Known for uncompressed RecordIO parts. */
  size?: number;
}

/**
 * Yields the epoch's bytes. Aborting `signal` destroys whatever is open so
 * the generator ends promptly even when a source stalls. Problems with the
 * data (a missing object, bad gzip, an object that changed size) are thrown
 * as DataSourceError naming the object.
 */
export async function* epochChunks(parts: Iterable<Part>, opts: EpochStreamOptions, signal: AbortSignal): AsyncGenerator<Buffer> {
  const live = new Set<Readable>();
  const track = (s: Readable): Readable => {
    live.add(s);
    s.once('close', () => live.delete(s));
    if (signal.aborted) s.destroy();
    return s;
  };
  const onAbort = (): void => {
    for (const s of live) s.destroy();
  };
  signal.addEventListener('abort', onAbort, { once: true });

  const openPart = async (part: Extract<Part, { kind: 'object' }>): Promise<Opened> => {
    const size = opts.recordIO && !opts.gzip ? (part.size ?? (await opts.size(part.uri))) : undefined;
    const stream = track(await opts.open(part.uri));
    return { part, stream, size };
  };
  const ahead = Math.max(0, opts.readAhead ?? DEFAULT_READ_AHEAD);
  const queue: { part: Part; opened?: Promise<Opened> }[] = [];
  const it = parts[Symbol.iterator]();
  let exhausted = false;
  const fill = (): void => {
    while (!exhausted && queue.length < MAX_QUEUED_PARTS && queue.filter((q) => q.opened).length <= ahead) {
      const r = it.next();
      if (r.done) {
        exhausted = true;
        break;
      }
      const entry: { part: Part; opened?: Promise<Opened> } = { part: r.value };
      if (r.value.kind === 'object') {
        entry.opened = openPart(r.value);
        entry.opened.catch(() => undefined); // surfaced when it is awaited; never unhandled when abandoned
      }
      queue.push(entry);
    }
  };

  try {
    for (;;) {
      if (signal.aborted) return;
      fill();
      const next = queue.shift();
      if (!next) return;
      if (next.part.kind === 'bytes') {
        const data = next.part.data;
        if (opts.recordIO) yield recordHeader(data.length);
        if (data.length) yield data;
        if (opts.recordIO && data.length % 4) yield recordPadding(data.length);
        continue;
      }
      const part = next.part;
      let opened: Opened;
      try {
        opened = await next.opened!;
      } catch (err) {
        throw asDataError(part.uri, err, signal);
      }
      try {
        if (opts.gzip && opts.recordIO) yield* gzipRecord(opened, opts, signal, track);
        else if (opts.gzip) yield* readAll(gunzip(opened.stream, track));
        else if (opts.recordIO) yield* sizedRecord(opened);
        else yield* readAll(opened.stream);
      } catch (err) {
        throw asDataError(part.uri, err, signal);
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

async function* readAll(stream: Readable): AsyncGenerator<Buffer> {
  for await (const chunk of stream) yield chunk as Buffer;
}

async function* sizedRecord(o: Opened): AsyncGenerator<Buffer> {
  const size = o.size!;
  yield recordHeader(size);
  let sent = 0;
  for await (const chunk of o.stream) {
    sent += (chunk as Buffer).length;
    if (sent > size) break;
    yield chunk as Buffer;
  }
  if (sent !== size) throw new DataSourceError(o.part.uri, `${o.part.uri} changed while it was streamed: expected ${size} bytes, read ${sent > size ? 'more' : sent}`);
  if (size % 4) yield recordPadding(size);
}

/** A gzip object as one record: buffered when small, else counted in a first pass and sent in a second. */
async function* gzipRecord(o: Opened, opts: EpochStreamOptions, signal: AbortSignal, track: (s: Readable) => Readable): AsyncGenerator<Buffer> {
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
  yield recordHeader(total);
  if (!overflow) yield* held;
  else {
    if (signal.aborted) return;
    let sent = 0;
    for await (const chunk of gunzip(track(await opts.open(o.part.uri)), track)) {
      sent += (chunk as Buffer).length;
      if (sent > total) break;
      yield chunk as Buffer;
    }
    if (sent !== total) throw new DataSourceError(o.part.uri, `${o.part.uri} changed while it was streamed (decompressed size ${total}, then ${sent > total ? 'more' : sent})`);
  }
  if (total % 4) yield recordPadding(total);
}

function gunzip(source: Readable, track: (s: Readable) => Readable): Readable {
  const gz = zlib.createGunzip({ chunkSize: 64 * 1024 });
  track(gz);
  return pipeline(source, gz, () => undefined);
}

function asDataError(uri: string, err: unknown, signal: AbortSignal): unknown {
  if (signal.aborted || err instanceof DataSourceError) return err;
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.code === 'string' && e.code.startsWith('Z_')) return new DataSourceError(uri, `${uri} is not valid gzip data (CompressionType Gzip): ${e.message}`);
  if (err instanceof StorageError) return new DataSourceError(uri, `Streaming ${uri} failed: ${err.message}`);
  return new DataSourceError(uri, `Streaming ${uri} failed: ${e?.message ?? String(err)}`);
}
