/**
 * Turns Docker's multiplexed log stream (GET /containers/{id}/logs with
 * timestamps=true, no TTY) into LogLines.
 *
 * The wire format: frames of an 8-byte header (byte 0 = stream: 1 stdout,
 * 2 stderr; bytes 4-7 = big-endian payload length) and a payload. The daemon
 * writes exactly one log message per frame, as `<RFC3339Nano timestamp> <text>`.
 * A message is one line with its trailing "\n", except when the daemon's copier
 * had to cut a line: lines longer than its 16 KiB buffer arrive as several
 * messages where all but the last lack the "\n" (each with its own timestamp),
 * and a last line written without "\n" before exit arrives without one too.
 *
 * So: a message without "\n" is the start of a line that the next message of
 * the same stream continues; the pieces are joined, and a piece still open when
 * the stream ends is delivered as is. The engine stamps every piece of a cut
 * line with the first piece's timestamp, so a message with a different
 * timestamp always starts a new line: that also keeps lines apart with the
 * `local` log driver, which (in 20.10) drops the "\n" after the last piece.
 * Bytes are only decoded as UTF-8 once the line is whole, so characters cut at
 * a piece boundary survive (but json-file has already replaced the halves with
 * U+FFFD when it stored them as JSON strings). A trailing "\r" is dropped.
 * Lines longer than maxLineBytes are cut into several LogLines rather than held
 * in memory without bound.
 */
import type { LogLine } from '../container-runtime';

const HEADER_BYTES = 8;
const STREAMS: Record<number, LogLine['stream'] | undefined> = { 1: 'stdout', 2: 'stderr' };
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

interface OpenLine {
  rawTimestamp: string;
  parts: Buffer[];
  bytes: number;
}

export class LogLineDecoder {
  private buffered: Buffer = Buffer.alloc(0);
  private readonly open: Partial<Record<LogLine['stream'], OpenLine>> = {};

  constructor(private readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES) {}

  /** Feeds the next chunk of the HTTP body; returns the lines it completed. */
  push(chunk: Buffer): LogLine[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const lines: LogLine[] = [];
    let offset = 0;
    while (this.buffered.length - offset >= HEADER_BYTES) {
      const size = this.buffered.readUInt32BE(offset + 4);
      if (this.buffered.length - offset < HEADER_BYTES + size) break;
      const stream = STREAMS[this.buffered[offset] ?? 0];
      const payload = this.buffered.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + size);
      if (stream) this.message(stream, payload, lines);
      offset += HEADER_BYTES + size;
    }
    // Copy the remainder so the big chunk it came from can be freed.
    this.buffered = offset === 0 ? this.buffered : Buffer.from(this.buffered.subarray(offset));
    return lines;
  }

  /** The stream ended: delivers lines still open (a last line without newline). */
  end(): LogLine[] {
    const lines: LogLine[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      const line = this.open[stream];
      if (line) lines.push(toLogLine(stream, line));
      delete this.open[stream];
    }
    return lines;
  }

  private message(stream: LogLine['stream'], payload: Buffer, out: LogLine[]): void {
    const space = payload.indexOf(0x20);
    const rawTimestamp = space > 0 ? payload.toString('latin1', 0, space) : '';
    let text = space > 0 ? payload.subarray(space + 1) : payload;
    const open = this.open[stream];
    if (open && rawTimestamp && open.rawTimestamp !== rawTimestamp) {
      out.push(toLogLine(stream, open));
      delete this.open[stream];
    }
    let newline: number;
    while ((newline = text.indexOf(0x0a)) >= 0) {
      this.append(stream, rawTimestamp, text.subarray(0, newline), out);
      out.push(toLogLine(stream, this.open[stream]!));
      delete this.open[stream];
      text = text.subarray(newline + 1);
    }
    if (text.length > 0) this.append(stream, rawTimestamp, text, out);
  }

  private append(stream: LogLine['stream'], rawTimestamp: string, piece: Buffer, out: LogLine[]): void {
    let line = this.open[stream];
    if (line && line.bytes + piece.length > this.maxLineBytes) {
      out.push(toLogLine(stream, line));
      line = undefined;
    }
    if (!line) {
      line = { rawTimestamp, parts: [], bytes: 0 };
      this.open[stream] = line;
    }
    // Copy: the piece points into a buffer that will be reused or freed.
    line.parts.push(Buffer.from(piece));
    line.bytes += piece.length;
  }
}

function toLogLine(stream: LogLine['stream'], line: OpenLine): LogLine {
  let message = Buffer.concat(line.parts, line.bytes).toString('utf8');
  if (message.endsWith('\r')) message = message.slice(0, -1);
  const timestamp = parseTimestamp(line.rawTimestamp);
  return { stream, timestamp: Number.isNaN(timestamp) ? Date.now() : timestamp, rawTimestamp: line.rawTimestamp, message };
}

const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/;

/** Epoch ms of an RFC 3339 timestamp with up to nanosecond precision (Date.parse is not reliable beyond ms). */
export function parseTimestamp(raw: string): number {
  const match = RFC3339.exec(raw);
  if (!match) return Number.NaN;
  const [, seconds, fraction = '', zone] = match;
  return Date.parse(`${seconds}.${fraction.slice(0, 3).padEnd(3, '0')}${zone}`);
}

/** Docker's `since` query value: seconds since the epoch with a fraction. */
export function toDockerSince(epochMs: number): string {
  const whole = Math.floor(epochMs / 1000);
  const nanos = Math.round((epochMs - whole * 1000) * 1e6);
  return `${whole}.${String(nanos).padStart(9, '0')}`;
}

/**
 * Reads a Docker log body to the end (or until the consumer stops), yielding
 * lines in order. With dropOpenLines, a line still open at the end is dropped
 * instead of delivered: the caller will read it again, whole.
 */
export async function* decodeLogStream(body: AsyncIterable<Buffer>, maxLineBytes?: number, dropOpenLines = false): AsyncGenerator<LogLine> {
  const decoder = new LogLineDecoder(maxLineBytes);
  for await (const chunk of body) {
    for (const line of decoder.push(chunk)) yield line;
  }
  if (!dropOpenLines) for (const line of decoder.end()) yield line;
}
