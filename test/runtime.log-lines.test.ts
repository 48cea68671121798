import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LogLineDecoder, parseTimestamp, toDockerSince } from '../src/runtime/docker/log-lines';
import type { LogLine } from '../src/runtime/container-runtime';

/** One frame as the engine writes it: header + "<timestamp> <text>". */
function frame(stream: 1 | 2, timestamp: string, text: string | Buffer): Buffer {
  const payload = Buffer.concat([Buffer.from(`${timestamp} `), Buffer.isBuffer(text) ? text : Buffer.from(text)]);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

const T1 = '2024-05-01T10:00:00.123456789Z';
const T2 = '2024-05-01T10:00:00.223456789Z';
const T3 = '2024-05-01T10:00:01.000000001Z';

function decode(chunks: Buffer[], maxLineBytes?: number): LogLine[] {
  const decoder = new LogLineDecoder(maxLineBytes);
  return [...chunks.flatMap((c) => decoder.push(c)), ...decoder.end()];
}

describe('LogLineDecoder', () => {
  it('splits frames into lines with stream and timestamps', () => {
    const lines = decode([Buffer.concat([frame(1, T1, 'hello\n'), frame(2, T2, 'oops\n'), frame(1, T3, '\n')])]);
    assert.deepEqual(lines, [
      { stream: 'stdout', timestamp: Date.parse('2024-05-01T10:00:00.123Z'), rawTimestamp: T1, message: 'hello' },
      { stream: 'stderr', timestamp: Date.parse('2024-05-01T10:00:00.223Z'), rawTimestamp: T2, message: 'oops' },
      { stream: 'stdout', timestamp: Date.parse('2024-05-01T10:00:01.000Z'), rawTimestamp: T3, message: '' },
    ]);
  });

  it('reassembles frames cut at every possible byte', () => {
    const whole = Buffer.concat([frame(1, T1, 'first line\n'), frame(2, T2, 'second\r\n'), frame(1, T3, 'third\n')]);
    for (let size = 1; size <= 17; size++) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < whole.length; i += size) chunks.push(whole.subarray(i, i + size));
      assert.deepEqual(
        decode(chunks).map((l) => l.message),
        ['first line', 'second', 'third'],
        `chunk size ${size}`,
      );
    }
  });

  it("rejoins the engine's 16 KiB pieces of a long line, keeping the first piece's timestamp", () => {
    const long = 'x'.repeat(40_000);
    const lines = decode([
      frame(1, T1, long.slice(0, 16_384)),
      frame(2, T2, 'interleaved\n'),
      frame(1, T1, long.slice(16_384, 32_768)),
      frame(1, T1, `${long.slice(32_768)}\n`),
    ]);
    assert.deepEqual(
      lines.map((l) => [l.stream, l.message.length, l.rawTimestamp]),
      [
        ['stderr', 11, T2],
        ['stdout', 40_000, T1],
      ],
    );
  });

  it('keeps multi-byte characters cut between pieces', () => {
    const bytes = Buffer.from('aé'.repeat(10));
    const lines = decode([frame(1, T1, bytes.subarray(0, 2)), frame(1, T1, Buffer.concat([bytes.subarray(2), Buffer.from('\n')]))]);
    assert.equal(lines[0]?.message, 'aé'.repeat(10));
  });

  it('ends a cut line at the next timestamp even without its newline (local log driver)', () => {
    const lines = decode([frame(1, T1, 'a'.repeat(5)), frame(1, T1, 'b'.repeat(5)), frame(1, T2, 'next\n')]);
    assert.deepEqual(
      lines.map((l) => [l.message, l.rawTimestamp]),
      [
        ['aaaaabbbbb', T1],
        ['next', T2],
      ],
    );
  });

  it('delivers a final line without newline when the stream ends', () => {
    const lines = decode([frame(1, T1, 'done\n'), frame(1, T2, 'no newline')]);
    assert.deepEqual(
      lines.map((l) => l.message),
      ['done', 'no newline'],
    );
  });

  it('cuts lines longer than maxLineBytes', () => {
    const lines = decode([frame(1, T1, 'a'.repeat(6)), frame(1, T1, 'b'.repeat(6)), frame(1, T1, 'c\n')], 10);
    assert.deepEqual(
      lines.map((l) => l.message),
      ['aaaaaa', 'bbbbbbc'],
    );
  });
});

describe('timestamps', () => {
  it('parses RFC 3339 with nanoseconds and offsets', () => {
    assert.equal(parseTimestamp(T1), Date.UTC(2024, 4, 1, 10, 0, 0, 123));
    assert.equal(parseTimestamp('2024-05-01T12:00:00.5+02:00'), Date.UTC(2024, 4, 1, 10, 0, 0, 500));
    assert.equal(parseTimestamp('2024-05-01T10:00:00Z'), Date.UTC(2024, 4, 1, 10));
    assert.ok(Number.isNaN(parseTimestamp('garbage')));
  });

  it("formats Docker's since as seconds with a nanosecond fraction", () => {
    assert.equal(toDockerSince(1714557600123), '1714557600.123000000');
    assert.equal(toDockerSince(1714557600000), '1714557600.000000000');
  });
});
