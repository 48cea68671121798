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
        yield { index: index++, body: r.payload, inputs: [r.original], firstRecord: n++ };
      }
    }
    return;
  }
  let pending: PreparedRecord[] = [];
  let size = 0;
  let first = 0;
  const flush = (): Batch => {
    const b: Batch = { index: index++, body: pending.length === 1 ? pending[0]!.framed : Buffer.concat(pending.map((p) => p.framed), size), inputs: pending.map((p) => p.original), firstRecord: first };
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
