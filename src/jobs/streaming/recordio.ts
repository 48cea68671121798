/**
 * RecordIO framing (MXNet's, which SageMaker applies for RecordWrapperType
 * RecordIO and the SageMaker Python SDK writes): per record a little-endian
 * u32 magic 0xCED7230A, a little-endian u32 holding (cflag << 29 | payload
 * length), the payload, then zero bytes up to the next multiple of 4. sagebox
 * writes whole records (cflag 0), so a payload is at most 2^29 - 1 bytes: a
 * longer one would spill into the cflag bits and readers would misread it.
 * Reading, split records included, is in src/jobs/transform/records.ts.
 */
export const RECORDIO_MAGIC = 0xced7230a;
/** The length bits of the second header word; the upper 3 are the cflag. */
export const RECORDIO_LENGTH_MASK = (1 << 29) - 1;
export const RECORDIO_MAX_PAYLOAD = RECORDIO_LENGTH_MASK;

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

/** One whole record (cflag 0): tests, small inline payloads, users preparing inputs. */
export function frameRecord(payload: Buffer): Buffer {
  return Buffer.concat([recordHeader(payload.length), payload, recordPadding(payload.length)]);
}
