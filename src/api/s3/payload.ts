/**
 * The body of an S3 request as the handlers see it: decoded (aws-chunked
 * framing removed, chunk signatures checked) and hashed on the way through,
 * with a `verify` to call once it has been written to the staging area and
 * before it is committed: the signed SHA-256, Content-MD5 and any
 * x-amz-checksum-* (header or trailer) must match what arrived.
 */
import { createHash, type Hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { pipeline, Transform, type Readable } from 'node:stream';
import { AwsChunkedDecoder, type ChunkSigning } from './aws-chunked';
import { algorithmOfHeader, createChecksum, headerOfAlgorithm, type Checksum, type ChecksumAlgorithm } from './checksums';
import { BadDigest, EntityTooLarge, IncompleteBody, InvalidArgument, InvalidDigest, InvalidRequest, XAmzContentSHA256Mismatch } from './errors';

export type PayloadMode =
  | { kind: 'unsigned' }
  | { kind: 'sha256'; hash: string }
  | { kind: 'chunked'; signing?: ChunkSigning; trailer: boolean };

export interface OpenedPayload {
  stream: Readable;
  /** Throws the S3 error for a body that does not match what the client declared or signed. */
  verify(md5: Buffer): void;
  /** The verified checksum the client sent, to store and echo. Valid after verify(). */
  checksum(): { algorithm: ChecksumAlgorithm; value: string } | undefined;
}

/** Largest body a single PutObject/UploadPart takes, as in S3. */
export const MAX_SINGLE_PUT = 5 * 1024 ** 3;

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** The length of the decoded body when the client declared it. */
export function declaredLength(req: IncomingMessage, mode: PayloadMode): number | undefined {
  const text = mode.kind === 'chunked' ? header(req, 'x-amz-decoded-content-length') : header(req, 'content-length');
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgument(`Invalid length ${text}`);
  return n;
}

/**
 * Checks what can be checked before reading (Content-MD5 form, size limits,
 * the checksum algorithm), then wires the body through the decoder and hashes.
 */
export function openPayload(req: IncomingMessage, mode: PayloadMode, maxBytes = MAX_SINGLE_PUT): OpenedPayload {
  const contentMd5 = header(req, 'content-md5');
  let expectedMd5: Buffer | undefined;
  if (contentMd5 !== undefined) {
    expectedMd5 = Buffer.from(contentMd5.trim(), 'base64');
    if (expectedMd5.length !== 16) throw new InvalidDigest();
  }
  const length = declaredLength(req, mode);
  if (mode.kind === 'chunked' && length === undefined) {
    throw new InvalidRequest('aws-chunked uploads need the x-amz-decoded-content-length header.');
  }
  if (length !== undefined && length > maxBytes) throw new EntityTooLarge(length, maxBytes);

  // The checksum comes in a header now or in the trailer later (x-amz-trailer names it).
  let algorithm: ChecksumAlgorithm | undefined;
  let headerValue: string | undefined;
  for (const name of Object.keys(req.headers)) {
    const a = algorithmOfHeader(name);
    if (a) {
      algorithm = a;
      headerValue = header(req, name);
    }
  }
  const trailerName = header(req, 'x-amz-trailer')?.trim().toLowerCase();
  if (trailerName) {
    const a = algorithmOfHeader(trailerName);
    if (!a) throw new InvalidRequest(`The trailer ${trailerName} is not a checksum sagebox knows (x-amz-checksum-crc32, -crc32c, -crc64nvme, -sha1, -sha256).`);
    if (mode.kind !== 'chunked' || !mode.trailer) throw new InvalidRequest('x-amz-trailer needs an aws-chunked body with a trailer.');
    algorithm = a;
  }
  const sdkAlgorithm = header(req, 'x-amz-sdk-checksum-algorithm')?.toUpperCase();
  if (!algorithm && sdkAlgorithm && sdkAlgorithm !== '' && !algorithmOfHeader(`x-amz-checksum-${sdkAlgorithm.toLowerCase()}`)) {
    throw new InvalidRequest(`Checksum algorithm ${sdkAlgorithm} is not supported.`);
  }

  const checksum: Checksum | undefined = algorithm ? createChecksum(algorithm) : undefined;
  const sha256: Hash | undefined = mode.kind === 'sha256' ? createHash('sha256') : undefined;
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      if (bytes > maxBytes) {
        cb(new EntityTooLarge(bytes, maxBytes));
        return;
      }
      sha256?.update(chunk);
      checksum?.update(chunk);
      cb(null, chunk);
    },
  });
  const decoder = mode.kind === 'chunked' ? new AwsChunkedDecoder(mode.signing) : undefined;
  const head: Transform = decoder ?? tap;
  const stream = decoder ? pipeline(decoder, tap, () => undefined) : tap;
  // The request is piped rather than pipelined: a bad chunk must not destroy
  // the socket before the error response is written.
  req.pipe(head);
  const fail = (err: Error): void => void head.destroy(err);
  req.once('aborted', () => fail(new IncompleteBody()));
  req.once('error', fail);
  stream.once('error', () => {
    req.unpipe(head);
    req.resume();
  });

  let verified: { algorithm: ChecksumAlgorithm; value: string } | undefined;
  return {
    stream,
    verify(md5) {
      if (length !== undefined && bytes !== length) throw new IncompleteBody();
      if (sha256 && mode.kind === 'sha256') {
        const computed = sha256.digest('hex');
        if (computed !== mode.hash.toLowerCase()) throw new XAmzContentSHA256Mismatch(mode.hash, computed);
      }
      if (expectedMd5 && !expectedMd5.equals(md5)) throw new BadDigest();
      if (algorithm && checksum) {
        const sent = trailerName ? decoder?.trailers.get(headerOfAlgorithm(algorithm)) : headerValue;
        if (sent === undefined) throw new InvalidRequest(`The ${algorithm} checksum the request announced was not sent.`);
        const computed = checksum.digest();
        if (sent.trim() !== computed) throw new BadDigest(algorithm);
        verified = { algorithm, value: computed };
      }
    },
    checksum: () => verified,
  };
}

/** Reads a small body (an XML document) whole, verified. */
export async function readSmallPayload(req: IncomingMessage, mode: PayloadMode, limit: number): Promise<Buffer> {
  const p = openPayload(req, mode, limit);
  const chunks: Buffer[] = [];
  const md5 = createHash('md5');
  for await (const c of p.stream) {
    chunks.push(c as Buffer);
    md5.update(c as Buffer);
  }
  p.verify(md5.digest());
  return Buffer.concat(chunks);
}

/** Drains what is left of a request body so the connection can be reused. */
export function discardBody(req: IncomingMessage): void {
  if (!req.readableEnded) req.resume();
}
