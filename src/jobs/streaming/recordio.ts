/**
 * RecordIO framing as SageMaker applies it for RecordWrapperType RecordIO
 * (and as the SageMaker Python SDK writes it): per record a little-endian
 * u32 magic 0xCED7230A, a little-endian u32 payload length, the payload, then
 * zero bytes up to the next multiple of 4. Records are never split, so a
 * payload is at most 2^32 - 1 bytes.
 */
export const RECORDIO_MAGIC = 0xced7230a;
export const RECORDIO_MAX_PAYLOAD = 0xffffffff;

const PADDING = Buffer.alloc(3);

export function recordHeader(length: number): Buffer {
  if (!Number.isInteger(length) || length < 0 || length > RECORDIO_MAX_PAYLOAD) {
    throw new RangeError(`A RecordIO record holds at most ${RECORDIO_MAX_PAYLOAD} bytes, got ${length}`);
  }
  const b = Buffer.allocUnsafe(8);
  b.writeUInt32LE(RECORDIO_MAGIC, 0);
  b.writeUInt32LE(length, 4);
  return b;
}

/** The zero bytes that follow a payload of `length` bytes (possibly none). */
export function recordPadding(length: number): Buffer {
  return PADDING.subarray(0, (4 - (length % 4)) % 4);
}

/** One whole record (tests, small inline payloads). */
export function frameRecord(payload: Buffer): Buffer {
  return Buffer.concat([recordHeader(payload.length), payload, recordPadding(payload.length)]);
}
