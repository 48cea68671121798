/**
 * Packing records into requests (BatchStrategy, MaxPayloadInMB), spec 4.3:
 * - SingleRecord: one record per request, its payload alone (framing and
 *   padding stripped).
 * - MultiRecord: consecutive records, framed as in the object, greedily
 *   packed while the body stays within the limit.
 * A record that alone exceeds the limit fails its object. Pure over async
 * iterables; no request is built before the previous one was taken.
 */
import type { InputRecord } from './records';

export type BatchStrategy = 'MultiRecord' | 'SingleRecord';

export interface Batch {
  /** 0-based position in the object's sequence of requests. */
  index: number;
  body: Buffer;
  /** The records' own bytes, for JoinSource Input (the unfiltered input record). */
  inputs: Buffer[];
  /** How many records the request carries. */
  records: number;
  /** 0-based number of the first record in the object. */
  firstRecord: number;
}

/** A record larger than MaxPayloadInMB. */
export class RecordTooLargeError extends Error {
  override readonly name = 'RecordTooLargeError';
  constructor(readonly record: number, readonly bytes: number, readonly limitBytes: number) {
    super(`record ${record + 1} is ${bytes} bytes, more than MaxPayloadInMB allows (${limitBytes} bytes)`);
  }
}

/** A record after the input filter: what is sent, and the original for joining. */
export interface PreparedRecord extends InputRecord {
  original: Buffer;
}

/** Records come in groups (see readRecords). `limitBytes` undefined = no limit (MaxPayloadInMB 0). */
export async function* batches(groups: AsyncIterable<PreparedRecord[]>, strategy: BatchStrategy, limitBytes: number | undefined): AsyncGenerator<Batch> {
  let index = 0;
  let n = 0;
  if (strategy === 'SingleRecord') {
    for await (const group of groups) {
      for (const r of group) {
        if (limitBytes !== undefined && r.payload.length > limitBytes) throw new RecordTooLargeError(n, r.payload.length, limitBytes);
        yield { index: index++, body: r.payload, inputs: [r.original], records: 1, firstRecord: n++ };
      }
    }
    return;
  }
  let pending: PreparedRecord[] = [];
  let size = 0;
  let first = 0;
  const flush = (): Batch => {
    const b: Batch = { index: index++, body: pending.length === 1 ? pending[0]!.framed : Buffer.concat(pending.map((p) => p.framed), size), inputs: pending.map((p) => p.original), records: pending.length, firstRecord: first };
    pending = [];
    size = 0;
    return b;
  };
  for await (const group of groups) {
    for (const r of group) {
      const len = r.framed.length;
      if (limitBytes !== undefined && len > limitBytes) throw new RecordTooLargeError(n, len, limitBytes);
      if (pending.length && limitBytes !== undefined && size + len > limitBytes) yield flush();
      if (!pending.length) first = n;
      pending.push(r);
      size += len;
      n++;
    }
  }
  if (pending.length) yield flush();
}

const NL = 10;
const CR = 13;

/** Records (non-blank lines) in a run of whole lines; a final line without newline counts. */
function countLines(buf: Buffer): { records: number; blank: boolean } {
  let records = 0;
  let blank = false;
  let start = 0;
  while (start < buf.length) {
    let nl = buf.indexOf(NL, start);
    if (nl < 0) nl = buf.length;
    const len = nl - start - (nl > start && buf[nl - 1] === CR ? 1 : 0);
    if (len > 0) records++;
    else blank = true;
    start = nl + 1;
  }
  return { records, blank };
}

/** The lines of `buf` without the blank ones (rare: only batches that hold some pay for this). */
function withoutBlankLines(buf: Buffer): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  while (start < buf.length) {
    let nl = buf.indexOf(NL, start);
    const end = nl < 0 ? buf.length : nl + 1;
    const line = buf.subarray(start, end);
    let len = line.length;
    if (len && line[len - 1] === NL) len--;
    if (len && line[len - 1] === CR) len--;
    if (len > 0) parts.push(line);
    start = end;
    if (nl < 0) break;
  }
  return Buffer.concat(parts);
}

/**
 * SplitType Line with MultiRecord and no DataProcessing: the requests are cut
 * straight from the object's bytes at the last line end within the limit, the
 * same greedy packing as batches() over readRecords() but without an object
 * per line (a 1 GB file has millions of lines; those objects were most of the
 * transform's CPU time, in the garbage collector). Blank lines are dropped as
 * readRecords drops them.
 */
class LineCutter {
  private index = 0;
  /** Records cut so far. */
  n = 0;
  constructor(readonly limitBytes: number) {}

  /**
   * Cuts one request off the front of `window` (`final`: nothing follows it).
   * `more` when the window holds no line end within the limit and may still
   * grow; a line that cannot fit fails with RecordTooLargeError.
   */
  cut(window: Buffer, final: boolean): { batch?: Batch; rest: Buffer; more?: boolean } {
    const limit = this.limitBytes;
    let end: number;
    if (window.length <= limit && final) end = window.length;
    else {
      const nl = window.lastIndexOf(NL, limit - 1);
      if (nl < 0) {
        // The first line alone is over the limit: report its whole length, as the general splitter does.
        const first = window.indexOf(NL);
        if (first < 0 && !final) return { rest: window, more: true };
        throw new RecordTooLargeError(this.n, first < 0 ? window.length : first + 1, limit);
      }
      end = nl + 1;
    }
    let body = window.subarray(0, end);
    const { records, blank } = countLines(body);
    if (blank) body = withoutBlankLines(body);
    const rest = window.subarray(end);
    if (records === 0) return { rest };
    const batch: Batch = { index: this.index++, body, inputs: [], records, firstRecord: this.n };
    this.n += records;
    return { batch, rest };
  }
}

/** Line batches from a byte stream (any source: a remote store, gunzip). */
export async function* lineBatches(source: AsyncIterable<Buffer | string>, limitBytes: number): AsyncGenerator<Batch> {
  const cutter = new LineCutter(limitBytes);
  let pending: Buffer[] = [];
  let size = 0;
  let waitingForLineEnd = false;
  for await (const chunk of source) {
    const c = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (!c.length) continue;
    pending.push(c);
    size += c.length;
    if (waitingForLineEnd && c.indexOf(NL) < 0) continue;
    waitingForLineEnd = false;
    while (size > limitBytes) {
      const window = pending.length === 1 ? pending[0]! : Buffer.concat(pending, size);
      const { batch, rest, more } = cutter.cut(window, false);
      pending = rest.length ? [rest] : [];
      size = rest.length;
      if (more) {
        waitingForLineEnd = true;
        break;
      }
      if (batch) yield batch;
    }
  }
  while (size > 0) {
    const window = pending.length === 1 ? pending[0]! : Buffer.concat(pending, size);
    const { batch, rest } = cutter.cut(window, true);
    pending = rest.length ? [rest] : [];
    size = rest.length;
    if (batch) yield batch;
  }
}

/** What fileLineBatches reads: positional reads of a file of known size. */
export interface PositionalFile {
  size: number;
  read(buf: Buffer, position: number): Promise<number>;
}

/**
 * Line batches from a plain file (the local store): each request is read
 * straight into a buffer of its own, at most the limit, and cut after its
 * last whole line; the next read starts there. No chunk list, no copy.
 */
export async function* fileLineBatches(file: PositionalFile, limitBytes: number): AsyncGenerator<Batch> {
  const cutter = new LineCutter(limitBytes);
  let pos = 0;
  while (pos < file.size) {
    const want = Math.min(limitBytes, file.size - pos);
    const buf = Buffer.allocUnsafe(want);
    const got = await readFully(file, buf, pos);
    if (got < want) throw new Error(`the object became shorter while it was read (${file.size} bytes expected, ${pos + got} read)`);
    const final = pos + got >= file.size;
    const { batch, rest, more } = cutter.cut(buf.subarray(0, got), final);
    if (more) {
      // No line end within the limit: find where that line ends, for the error.
      const next = await lineEndAfter(file, pos + got);
      throw new RecordTooLargeError(cutter.n, next < 0 ? file.size - pos : next - pos + 1, limitBytes);
    }
    pos += got - rest.length;
    if (batch) yield batch;
  }
}

async function readFully(file: PositionalFile, buf: Buffer, position: number): Promise<number> {
  let got = 0;
  while (got < buf.length) {
    const n = await file.read(buf.subarray(got), position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** Offset of the first newline at or after `from`, or -1. */
async function lineEndAfter(file: PositionalFile, from: number): Promise<number> {
  const buf = Buffer.allocUnsafe(1 << 20);
  for (let pos = from; pos < file.size; ) {
    const n = await file.read(buf, pos);
    if (n === 0) break;
    const nl = buf.subarray(0, n).indexOf(NL);
    if (nl >= 0) return pos + nl;
    pos += n;
  }
  return -1;
}
