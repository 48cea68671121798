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
export async function* lineBatches(source: AsyncIterable<Buffer | string>, limitBytes: number): AsyncGenerator<Batch> {
  let index = 0;
  let n = 0;
  let pending: Buffer[] = [];
  let size = 0;
  /** Cuts one request off the front of `window`; `more` when the oversized first line has not ended yet. */
  const cut = (window: Buffer, final: boolean): { batch?: Batch; rest: Buffer; more?: boolean } => {
    let end: number;
    if (window.length <= limitBytes && final) end = window.length;
    else {
      const nl = window.lastIndexOf(NL, limitBytes - 1);
      if (nl < 0) {
        // The first line alone is over the limit: report its whole length, as the general splitter does.
        const first = window.indexOf(NL);
        if (first < 0 && !final) return { rest: window, more: true };
        throw new RecordTooLargeError(n, first < 0 ? window.length : first + 1, limitBytes);
      }
      end = nl + 1;
    }
    let body = window.subarray(0, end);
    const { records, blank } = countLines(body);
    if (blank) body = withoutBlankLines(body);
    const rest = window.subarray(end);
    if (records === 0) return { rest };
    const batch: Batch = { index: index++, body, inputs: [], records, firstRecord: n };
    n += records;
    return { batch, rest };
  };
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
      const { batch, rest, more } = cut(window, false);
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
    const { batch, rest } = cut(window, true);
    pending = rest.length ? [rest] : [];
    size = rest.length;
    if (batch) yield batch;
  }
}
