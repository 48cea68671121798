/**
 * Decodes an `aws-chunked` request body (S3 streaming uploads):
 *
 *   <hex size>[;chunk-signature=<sig>]\r\n<data>\r\n ... 0[;chunk-signature=<sig>]\r\n
 *   [<trailer name>:<value>\r\n ...][x-amz-trailer-signature:<sig>\r\n]\r\n
 *
 * With a signing context (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]) each
 * chunk's signature is checked against the chain seeded by the request's own
 * signature, and the trailer's signature too. Trailer values (the
 * x-amz-checksum-* the client computed) are collected for the caller to verify.
 */
import { createHash, createHmac, timingSafeEqual, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { IncompleteBody, InvalidRequest, SignatureDoesNotMatch } from './errors';

export interface ChunkSigning {
  signingKey: Buffer;
  amzDate: string;
  /** `<date>/<region>/<service>/aws4_request`. */
  scope: string;
  /** The request's Authorization signature: the first chunk chains from it. */
  seedSignature: string;
}

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const MAX_LINE = 8 * 1024;
/** Clients use 8 KiB to 8 MiB chunks; anything far beyond is a broken or hostile stream. */
const MAX_CHUNK = 256 * 1024 * 1024;

type State = 'header' | 'data' | 'data-end' | 'trailer' | 'done';

export class AwsChunkedDecoder extends Transform {
  /** Trailing headers, names lower-cased (x-amz-checksum-crc32 -> base64 value). */
  readonly trailers = new Map<string, string>();
  decodedBytes = 0;
  private state: State = 'header';
  private pending: Buffer = Buffer.alloc(0);
  private remaining = 0;
  private chunkHash?: Hash;
  private chunkSignature?: string;
  private prevSignature: string;
  private readonly trailerLines: string[] = [];
  private trailerSignature?: string;

  constructor(private readonly signing?: ChunkSigning) {
    super();
    this.prevSignature = signing?.seedSignature ?? '';
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.consume(chunk);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    // Some clients end the body right after the trailer lines, without the final empty line.
    if (this.state === 'done' || (this.state === 'trailer' && this.pending.length === 0)) {
      try {
        this.checkTrailerSignature();
        cb();
      } catch (err) {
        cb(err as Error);
      }
      return;
    }
    cb(new IncompleteBody());
  }

  private consume(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      switch (this.state) {
        case 'data': {
          const n = Math.min(this.remaining, chunk.length - off);
          const part = chunk.subarray(off, off + n);
          this.chunkHash?.update(part);
          this.decodedBytes += n;
          this.push(part);
          this.remaining -= n;
          off += n;
          if (this.remaining === 0) {
            this.checkChunkSignature(this.chunkHash ? this.chunkHash.digest('hex') : EMPTY_SHA256);
            this.state = 'data-end';
          }
          break;
        }
        case 'data-end': {
          const need = 2 - this.pending.length;
          this.pending = Buffer.concat([this.pending, chunk.subarray(off, off + need)]);
          off += Math.min(need, chunk.length - off);
          if (this.pending.length === 2) {
            if (this.pending.toString('latin1') !== '\r\n') throw malformed('a chunk is not followed by CRLF');
            this.pending = Buffer.alloc(0);
            this.state = 'header';
          }
          break;
        }
        case 'done':
          if (chunk.subarray(off).toString('latin1').trim() !== '') throw malformed('data after the final chunk');
          return;
        default: {
          const nl = chunk.indexOf(0x0a, off);
          if (nl < 0) {
            this.pending = Buffer.concat([this.pending, chunk.subarray(off)]);
            if (this.pending.length > MAX_LINE) throw malformed('a chunk header or trailer line is too long');
            return;
          }
          const line = Buffer.concat([this.pending, chunk.subarray(off, nl + 1)]).toString('latin1');
          this.pending = Buffer.alloc(0);
          off = nl + 1;
          if (!line.endsWith('\r\n')) throw malformed('a line does not end in CRLF');
          if (this.state === 'header') this.onHeader(line.slice(0, -2));
          else this.onTrailer(line.slice(0, -2));
        }
      }
    }
  }

  private onHeader(line: string): void {
    const [sizeText = '', ...exts] = line.split(';');
    if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText.trim())) throw malformed(`bad chunk size ${JSON.stringify(sizeText.slice(0, 20))}`);
    const size = parseInt(sizeText, 16);
    if (size > MAX_CHUNK) throw malformed(`chunk of ${size} bytes is larger than ${MAX_CHUNK}`);
    this.chunkSignature = undefined;
    for (const ext of exts) {
      const eq = ext.indexOf('=');
      if (eq > 0 && ext.slice(0, eq).trim() === 'chunk-signature') this.chunkSignature = ext.slice(eq + 1).trim();
    }
    if (this.signing && !this.chunkSignature) throw malformed('a chunk has no chunk-signature');
    if (size === 0) {
      this.checkChunkSignature(EMPTY_SHA256);
      this.state = 'trailer';
      return;
    }
    this.remaining = size;
    this.chunkHash = this.signing ? createHash('sha256') : undefined;
    this.state = 'data';
  }

  private onTrailer(line: string): void {
    if (line === '') {
      this.state = 'done';
      return;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw malformed(`bad trailer line ${JSON.stringify(line.slice(0, 40))}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'x-amz-trailer-signature') {
      this.trailerSignature = value;
      return;
    }
    this.trailers.set(name, value);
    this.trailerLines.push(`${name}:${value}\n`);
  }

  private checkChunkSignature(dataHash: string): void {
    if (!this.signing) return;
    const s = this.signing;
    const toSign = ['AWS4-HMAC-SHA256-PAYLOAD', s.amzDate, s.scope, this.prevSignature, EMPTY_SHA256, dataHash].join('\n');
    const expected = createHmac('sha256', s.signingKey).update(toSign).digest('hex');
    if (!sameHex(expected, this.chunkSignature)) throw new SignatureDoesNotMatch();
    this.prevSignature = expected;
  }

  /** Signed streams with a trailer sign it too (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER). */
  private checkTrailerSignature(): void {
    if (!this.signing || this.trailerLines.length === 0) return;
    if (this.trailerSignature === undefined) throw malformed('the trailer has no x-amz-trailer-signature');
    const s = this.signing;
    const hash = createHash('sha256').update(this.trailerLines.join('')).digest('hex');
    const toSign = ['AWS4-HMAC-SHA256-TRAILER', s.amzDate, s.scope, this.prevSignature, hash].join('\n');
    const expected = createHmac('sha256', s.signingKey).update(toSign).digest('hex');
    if (!sameHex(expected, this.trailerSignature)) throw new SignatureDoesNotMatch();
  }
}

function sameHex(a: string, b: string | undefined): boolean {
  return b !== undefined && a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

const malformed = (detail: string): InvalidRequest => new InvalidRequest(`Malformed aws-chunked body: ${detail}.`);
