/**
 * Transforming one input object on one instance: read it as a stream
 * (gunzip when CompressionType is Gzip), split it into records, pack them
 * into requests, POST them to /invocations (up to MaxConcurrentTransforms in
 * flight across the instance, each with its timeout and retries), and write
 * the responses to the output file in input order.
 *
 * MaxPayloadInMB 0 with MultiRecord (or SplitType None) sends the whole
 * object as one request with chunked transfer encoding.
 *
 * Throws ObjectFailure with a reason for the user when the object cannot be
 * transformed; the caller discards the partial output.
 */
import * as fsp from 'node:fs/promises';
import { Readable, pipeline, PassThrough } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { InstanceClient } from '../../serving';
import type { LocalFile } from '../../storage/object-store';
import type { DataTransfer } from '../../storage/transfer';
import { batches, fileLineBatches, lineBatches, RecordTooLargeError, type Batch, type BatchStrategy, type PreparedRecord } from './batches';
import { DataProcessingError, outputRecords, type RecordProcessor } from './data-processing';
import { OrderedWriter, Semaphore, sleep } from './flow';
import type { EffectiveParams } from './params';
import { PayloadLimitError, readRecords, RecordFormatError, type InputRecord, type SplitType } from './records';

/** Why one object failed, worded for FailureReason and the data log. */
export class ObjectFailure extends Error {
  override readonly name = 'ObjectFailure';
}

export interface ObjectJob {
  split: SplitType;
  gzip: boolean;
  contentType?: string;
  accept?: string;
  assembleLine: boolean;
  timeoutMs: number;
  maxRetries: number;
}

export interface InstanceLane {
  transfer: DataTransfer;
  client: InstanceClient;
  params: EffectiveParams;
  job: ObjectJob;
  processor: RecordProcessor;
  /** Requests in flight on the instance (MaxConcurrentTransforms). */
  requests: Semaphore;
  /** Batches read but not yet written, across the instance's objects (bounds memory). */
  held: Semaphore;
  signal: AbortSignal;
  retryDelayMs: number;
  /** Hash small outputs as they are written (the store then takes them in without reading them). */
  md5Outputs: boolean;
  /** One line for the data log (failed attempts). */
  note(message: string): void;
}

const MB = 1024 * 1024;
/**
 * Outputs up to this size get an MD5 ETag; larger ones an opaque one, as on
 * S3, where objects above the SDKs' and CLI's multipart threshold (8 MiB)
 * have multipart ETags, which are not their MD5 either. Hashing a gigabyte
 * cost the transform as much CPU as the rest of its data path.
 */
export const MD5_UP_TO = 8 * MB;
const NEWLINE = Buffer.from('\n');

/**
 * Transforms the object at `uri` into `outFile`; resolves with the bytes
 * written and, for an output of at most MD5_UP_TO bytes when the lane asks
 * for it, their MD5 (hashed on the way out).
 */
export async function transformObject(lane: InstanceLane, uri: string, outFile: string): Promise<{ bytes: number; md5?: Buffer }> {
  const fh = await fsp.open(outFile, 'w');
  try {
    const streamed = lane.params.maxPayloadMb === 0 && (lane.params.strategy === 'MultiRecord' || lane.job.split === 'None');
    const writer = new OrderedWriter(fh, lane.md5Outputs ? MD5_UP_TO : 0);
    if (streamed) await streamWhole(lane, uri, writer);
    else await inBatches(lane, uri, writer);
    await writer.settle();
    return { bytes: writer.bytes, md5: writer.md5() };
  } catch (err) {
    throw asFailure(err, lane);
  } finally {
    await fh.close();
  }
}

function asFailure(err: unknown, lane: InstanceLane): unknown {
  if (lane.signal.aborted || err instanceof ObjectFailure) return err;
  if (err instanceof RecordTooLargeError) {
    return new ObjectFailure(`${err.message} (MaxPayloadInMB ${lane.params.maxPayloadMb}); raise MaxPayloadInMB (0 streams without a limit) or split the input into smaller records`);
  }
  if (err instanceof PayloadLimitError) {
    return new ObjectFailure(`the object is larger than MaxPayloadInMB (${lane.params.maxPayloadMb}) allows for one request with SplitType None; set SplitType, or MaxPayloadInMB 0 to stream it`);
  }
  if (err instanceof RecordFormatError) return new ObjectFailure(`the object is not valid ${lane.job.split} data: ${err.message}`);
  if (err instanceof DataProcessingError) return new ObjectFailure(`DataProcessing failed: ${err.message}`);
  if ((err as { code?: string }).code === 'Z_DATA_ERROR' || (err as { code?: string }).code === 'Z_BUF_ERROR') {
    return new ObjectFailure(`the object could not be decompressed (CompressionType Gzip): ${(err as Error).message}`);
  }
  return new ObjectFailure(`reading or writing the object failed: ${(err as Error).message}`);
}

/** The object's bytes, decompressed when asked. */
async function openSource(lane: InstanceLane, uri: string): Promise<Readable> {
  const raw = await lane.transfer.openRead(uri);
  if (!lane.job.gzip) return raw;
  const out = new PassThrough();
  pipeline(raw, createGunzip(), out, () => undefined);
  return out;
}

/** Records after the InputFilter; `original` keeps the input for joining. */
async function* prepared(groups: AsyncIterable<InputRecord[]>, lane: InstanceLane): AsyncGenerator<PreparedRecord[]> {
  const p = lane.processor;
  for await (const group of groups) {
    if (!p.filtersInput) {
      yield group.map((r) => ({ framed: r.framed, payload: r.payload, original: r.payload }));
      continue;
    }
    yield group.map((r) => {
      const payload = p.filterInput(r.payload);
      return { framed: lane.job.split === 'Line' ? Buffer.concat([payload, NEWLINE]) : payload, payload, original: r.payload };
    });
  }
}

async function inBatches(lane: InstanceLane, uri: string, writer: OrderedWriter): Promise<void> {
  const limit = lane.params.maxPayloadMb > 0 ? lane.params.maxPayloadMb * MB : undefined;
  const plain = lane.job.split === 'Line' && lane.params.strategy === 'MultiRecord' && limit !== undefined && !lane.processor.filtersInput && !lane.processor.processesOutput;
  let source: Readable | undefined;
  let file: LocalFile | undefined;
  let all: AsyncIterable<Batch>;
  if (plain) {
    // From a file in the local store, each request is read straight into its own buffer.
    file = lane.job.gzip ? undefined : await lane.transfer.openLocalFile(uri);
    all = file ? fileLineBatches(file, limit) : lineBatches((source = await openSource(lane, uri)), limit);
  } else {
    source = await openSource(lane, uri);
    all = batches(prepared(readRecords(source, lane.job.split, limit), lane), lane.params.strategy as BatchStrategy, limit);
  }
  const it = all[Symbol.asyncIterator]();
  const inflight = new Set<Promise<void>>();
  let failure: unknown;
  try {
    for (;;) {
      if (failure !== undefined) break;
      await lane.held.acquire(lane.signal);
      let next: IteratorResult<Batch>;
      try {
        next = await it.next();
      } catch (err) {
        lane.held.release();
        throw err;
      }
      if (next.done) {
        lane.held.release();
        break;
      }
      const batch = next.value;
      const run = (async () => {
        try {
          const response = await invoke(lane, () => batch.body, describeBatch(batch));
          await writer.put(batch.index, assemble(lane, batch.inputs, batch.firstRecord, response));
        } catch (err) {
          failure ??= err;
          writer.fail(err);
        } finally {
          lane.held.release();
        }
      })();
      inflight.add(run);
      void run.finally(() => inflight.delete(run));
    }
  } catch (err) {
    failure ??= err;
    writer.fail(err);
  } finally {
    await Promise.allSettled([...inflight]);
    await it.return?.(undefined).catch(() => undefined);
    source?.destroy();
    await file?.close();
  }
  if (failure !== undefined) throw failure;
}

/** One request carrying the whole object, streamed; re-read from the store for every attempt. */
async function streamWhole(lane: InstanceLane, uri: string, writer: OrderedWriter): Promise<void> {
  let inputs: Buffer[] = [];
  let source: Readable | undefined;
  const body = async (): Promise<Readable> => {
    source?.destroy();
    inputs = [];
    source = await openSource(lane, uri);
    // Nothing to look at in the records: the object's bytes go out as they are read.
    if (!lane.processor.filtersInput && !lane.processor.join) return source;
    const records = prepared(readRecords(source, lane.job.split), lane);
    const keep = lane.processor.join;
    return Readable.from((async function* () {
      for await (const group of records) {
        for (const r of group) {
          if (keep) inputs.push(r.original);
          yield r.framed;
        }
      }
    })());
  };
  try {
    const response = await invoke(lane, body, 'the whole object');
    await writer.put(0, assemble(lane, inputs, 0, response));
  } finally {
    source?.destroy();
  }
}

function describeBatch(b: Batch): string {
  const n = b.records;
  return n === 1 ? `record ${b.firstRecord + 1}` : `records ${b.firstRecord + 1}-${b.firstRecord + n}`;
}

/** POST /invocations with retries; resolves with the response body of the first 2xx answer. */
async function invoke(lane: InstanceLane, body: () => Buffer | Promise<Buffer | Readable>, what: string): Promise<Buffer> {
  const headers: Record<string, string> = {};
  if (lane.job.contentType) headers['content-type'] = lane.job.contentType;
  if (lane.job.accept) headers.accept = lane.job.accept;
  const attempts = lane.job.maxRetries + 1;
  let last = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    await lane.requests.acquire(lane.signal);
    try {
      const res = await lane.client.invoke({ body: await body(), headers, timeoutMs: lane.job.timeoutMs });
      if (res.statusCode >= 200 && res.statusCode < 300) return res.body;
      const text = res.body.subarray(0, 512).toString('utf8').trim();
      last = `the container answered HTTP ${res.statusCode}${text ? `: ${text}` : ''}`;
    } catch (err) {
      lane.signal.throwIfAborted();
      if (err instanceof RecordFormatError || err instanceof DataProcessingError || err instanceof PayloadLimitError) throw err;
      last = (err as Error).message;
    } finally {
      lane.requests.release();
    }
    lane.note(`POST /invocations for ${what} failed (attempt ${attempt} of ${attempts}): ${last}`);
    if (attempt < attempts) await sleep(lane.retryDelayMs * attempt, lane.signal);
  }
  throw new ObjectFailure(`POST /invocations for ${what} failed after ${attempts} attempt(s) (InvocationsMaxRetries ${lane.job.maxRetries}): ${last}`);
}

/** The bytes one response adds to the output (AssembleWith, join, OutputFilter). */
function assemble(lane: InstanceLane, inputs: Buffer[], firstRecord: number, response: Buffer): Buffer {
  const p = lane.processor;
  const line = lane.job.assembleLine;
  if (!p.processesOutput) {
    if (!line || (response.length > 0 && response[response.length - 1] === 10)) return response;
    return Buffer.concat([response, NEWLINE]);
  }
  const outs = outputRecords(response, inputs.length, line);
  if (p.join && outs.length !== inputs.length) {
    throw new ObjectFailure(
      `the response for records ${firstRecord + 1}-${firstRecord + inputs.length} holds ${outs.length} output record(s) for ${inputs.length} input record(s); JoinSource Input needs one output line per input record`,
    );
  }
  const parts: Buffer[] = [];
  outs.forEach((o, k) => {
    if (k > 0) parts.push(NEWLINE);
    parts.push(p.assemble(p.join ? inputs[k] : undefined, o));
  });
  if (line) parts.push(NEWLINE);
  return Buffer.concat(parts);
}
