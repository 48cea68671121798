/**
 * Splitting an input object into records (TransformInput.SplitType), reading
 * it as a stream: memory holds one record at a time, never the object.
 *
 * Each record comes as `framed` (its bytes as they are in the object: a line
 * with its newline, a RecordIO record with header and padding, a TFRecord
 * with length and CRCs; MultiRecord batches concatenate these) and `payload`
 * (the record alone: what SingleRecord sends).
 */
import type { Readable } from 'node:stream';
import { RECORDIO_LENGTH_MASK, RECORDIO_MAGIC } from '../streaming/recordio';

export type SplitType = 'None' | 'Line' | 'RecordIO' | 'TFRecord';

export interface InputRecord {
  framed: Buffer;
  payload: Buffer;
}

/** The object does not hold well-formed records of its SplitType. */
export class RecordFormatError extends Error {
  override readonly name = 'RecordFormatError';
}

/** Chunks from a stream, consumed from the front without copying where possible. */
export class ChunkReader {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private scanned = 0; // leading chunks known to hold no newline
  private readonly it: AsyncIterator<Buffer | string>;
  private ended = false;
  /** Bytes consumed so far (positions in error messages). */
  offset = 0;

  constructor(source: AsyncIterable<Buffer | string>) {
    this.it = source[Symbol.asyncIterator]();
  }

  get buffered(): number {
    return this.size;
  }

  private async more(): Promise<boolean> {
    if (this.ended) return false;
    const r = await this.it.next();
    if (r.done) {
      this.ended = true;
      return false;
    }
    const chunk = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    if (chunk.length) {
      this.chunks.push(chunk);
      this.size += chunk.length;
    }
    return true;
  }

  /** Waits until `n` bytes are buffered; false when the stream ends first. */
  async fill(n: number): Promise<boolean> {
    while (this.size < n) if (!(await this.more())) return false;
    return true;
  }

  /** The first `n` buffered bytes, without consuming them. */
  peek(n: number): Buffer {
    const first = this.chunks[0];
    if (first && first.length >= n) return first.subarray(0, n);
    return Buffer.concat(this.chunks, this.size).subarray(0, n);
  }

  /** Removes and returns the first `n` buffered bytes (n <= buffered). */
  take(n: number): Buffer {
    this.offset += n;
    this.scanned = 0;
    const first = this.chunks[0];
    if (first && first.length >= n) {
      this.size -= n;
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const parts: Buffer[] = [];
    let need = n;
    while (need > 0) {
      const c = this.chunks[0]!;
      if (c.length <= need) {
        parts.push(c);
        this.chunks.shift();
        need -= c.length;
      } else {
        parts.push(c.subarray(0, need));
        this.chunks[0] = c.subarray(need);
        need = 0;
      }
    }
    this.size -= n;
    return Buffer.concat(parts, n);
  }

  /** The next complete line (with its '\n') already buffered, without waiting for more. */
  private bufferedLine(): Buffer | undefined {
    let off = 0;
    for (let i = 0; i < this.scanned; i++) off += this.chunks[i]!.length;
    for (let i = this.scanned; i < this.chunks.length; i++) {
      const at = this.chunks[i]!.indexOf(10);
      if (at >= 0) return this.take(off + at + 1);
      off += this.chunks[i]!.length;
    }
    this.scanned = this.chunks.length;
    return undefined;
  }

  /**
   * Every complete line buffered (at least one, reading more as needed),
   * each with its '\n'; at the end the last line as it is; undefined when
   * nothing is left. Lines come in groups so the callers' per-record work
   * stays synchronous.
   */
  async readLines(): Promise<Buffer[] | undefined> {
    for (;;) {
      const out: Buffer[] = [];
      for (let l = this.bufferedLine(); l; l = this.bufferedLine()) out.push(l);
      if (out.length) return out;
      if (!(await this.more())) return this.size > 0 ? [this.take(this.size)] : undefined;
    }
  }

  /** Everything left. */
  async readAll(limit?: number): Promise<Buffer> {
    while (await this.more()) {
      if (limit !== undefined && this.size > limit) throw new PayloadLimitError(this.size);
    }
    return this.take(this.size);
  }
}

/** readAll found more bytes than allowed. */
export class PayloadLimitError extends Error {
  constructor(readonly seen: number) {
    super(`more than the limit (${seen} bytes read so far)`);
  }
}

/** Lines; a line is a record unless it is blank (only '\n' or '\r\n'). */
async function* lines(r: ChunkReader): AsyncGenerator<InputRecord[]> {
  for (;;) {
    const group = await r.readLines();
    if (!group) return;
    const out: InputRecord[] = [];
    for (const line of group) {
      let end = line.length;
      if (end > 0 && line[end - 1] === 10) end--;
      if (end > 0 && line[end - 1] === 13) end--;
      if (end > 0) out.push({ framed: line, payload: line.subarray(0, end) });
    }
    if (out.length) yield out;
  }
}

/**
 * MXNet RecordIO: u32 LE magic, u32 LE (cflag << 29 | length), payload,
 * zero padding to 4 bytes. cflag 1/2/3 mark the parts of a record that was
 * split where its payload held the magic number; the parts are one record
 * here and the payload is re-joined with the magic between parts.
 */
async function* recordIO(r: ChunkReader): AsyncGenerator<InputRecord> {
  let parts: Buffer[] = [];
  let framedParts: Buffer[] = [];
  for (;;) {
    const at = r.offset;
    if (!(await r.fill(8))) {
      if (r.buffered > 0) throw new RecordFormatError(`truncated RecordIO header at byte ${at}`);
      if (parts.length) throw new RecordFormatError('the object ends inside a multi-part RecordIO record');
      return;
    }
    const head = r.peek(8);
    if (head.readUInt32LE(0) !== RECORDIO_MAGIC) throw new RecordFormatError(`no RecordIO magic number at byte ${at}`);
    const word = head.readUInt32LE(4);
    const length = word & RECORDIO_LENGTH_MASK;
    const cflag = word >>> 29;
    const padded = (length + 3) & ~3;
    if (!(await r.fill(8 + padded))) {
      // The last record may come without its padding.
      if (r.buffered < 8 + length) throw new RecordFormatError(`truncated RecordIO record at byte ${at}`);
    }
    const framed = r.take(Math.min(8 + padded, r.buffered));
    const payload = framed.subarray(8, 8 + length);
    if (cflag === 0) {
      if (parts.length) throw new RecordFormatError(`a whole RecordIO record inside a multi-part record at byte ${at}`);
      yield { framed, payload };
      continue;
    }
    if ((cflag === 1) !== (parts.length === 0)) throw new RecordFormatError(`unexpected RecordIO part flag ${cflag} at byte ${at}`);
    parts.push(payload);
    framedParts.push(framed);
    if (cflag === 3) {
      const magic = Buffer.alloc(4);
      magic.writeUInt32LE(RECORDIO_MAGIC);
      const joined = parts.flatMap((p, i) => (i === 0 ? [p] : [magic, p]));
      yield { framed: Buffer.concat(framedParts), payload: Buffer.concat(joined) };
      parts = [];
      framedParts = [];
    }
  }
}

/** TFRecord: u64 LE length, u32 masked CRC32-C of the length, data, u32 masked CRC32-C of the data. */
async function* tfRecord(r: ChunkReader): AsyncGenerator<InputRecord> {
  for (;;) {
    const at = r.offset;
    if (!(await r.fill(12))) {
      if (r.buffered > 0) throw new RecordFormatError(`truncated TFRecord header at byte ${at}`);
      return;
    }
    const head = r.peek(12);
    if (maskedCrc32c(head.subarray(0, 8)) !== head.readUInt32LE(8)) throw new RecordFormatError(`bad TFRecord length checksum at byte ${at}`);
    const big = head.readBigUInt64LE(0);
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new RecordFormatError(`TFRecord length ${big} at byte ${at} is not plausible`);
    const length = Number(big);
    if (!(await r.fill(16 + length))) throw new RecordFormatError(`truncated TFRecord at byte ${at}`);
    const framed = r.take(16 + length);
    const payload = framed.subarray(12, 12 + length);
    if (maskedCrc32c(payload) !== framed.readUInt32LE(12 + length)) throw new RecordFormatError(`bad TFRecord data checksum at byte ${at}`);
    yield { framed, payload };
  }
}

/**
 * The records of a stream, in groups (whatever was buffered; order kept).
 * `None` yields the whole object as one record (at most `wholeLimit` bytes).
 */
export async function* readRecords(source: AsyncIterable<Buffer | string>, split: SplitType, wholeLimit?: number): AsyncGenerator<InputRecord[]> {
  const r = new ChunkReader(source);
  switch (split) {
    case 'Line':
      yield* lines(r);
      return;
    case 'RecordIO':
      for await (const rec of recordIO(r)) yield [rec];
      return;
    case 'TFRecord':
      for await (const rec of tfRecord(r)) yield [rec];
      return;
    case 'None': {
      const all = await r.readAll(wholeLimit);
      yield [{ framed: all, payload: all }];
      return;
    }
  }
}

// CRC32-C (Castagnoli), reflected, as TFRecord uses it.
const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

export function crc32c(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC32C_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function maskedCrc32c(buf: Uint8Array): number {
  const c = crc32c(buf);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One TFRecord frame around `data` (tests, and users preparing inputs). */
export function frameTfRecord(data: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeBigUInt64LE(BigInt(data.length), 0);
  head.writeUInt32LE(maskedCrc32c(head.subarray(0, 8)), 8);
  const tail = Buffer.alloc(4);
  tail.writeUInt32LE(maskedCrc32c(data), 0);
  return Buffer.concat([head, data, tail]);
}

/** One RecordIO frame around `data` (cflag 0); the framing is src/jobs/streaming/recordio.ts. */
export { frameRecord as frameRecordIO } from '../streaming/recordio';

/** Lets callers feed a Readable (its async iterator yields Buffers). */
export const chunksOf = (stream: Readable): AsyncIterable<Buffer> => stream as AsyncIterable<Buffer>;
