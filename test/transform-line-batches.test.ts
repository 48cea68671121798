/**
 * The fast Line/MultiRecord batcher cuts requests from the byte stream; it
 * must send exactly the records the general splitter sends, in the same
 * requests when there are no blank lines.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { batches, fileLineBatches, lineBatches, RecordTooLargeError, type PositionalFile } from '../src/jobs/transform/batches';
import { readRecords } from '../src/jobs/transform/records';

function random(seed: number): () => number {
  let x = seed;
  return () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

async function* chunked(buf: Buffer, rnd: () => number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; ) {
    const n = 1 + Math.floor(rnd() * 300);
    yield buf.subarray(i, i + n);
    i += n;
  }
}

async function general(data: Buffer, limit: number, seed: number): Promise<{ first: number; count: number; body: Buffer }[]> {
  const prepared = (async function* () {
    for await (const g of readRecords(chunked(data, random(seed)), 'Line', limit)) yield g.map((r) => ({ ...r, original: r.payload }));
  })();
  const out = [];
  for await (const b of batches(prepared, 'MultiRecord', limit)) out.push({ first: b.firstRecord, count: b.inputs.length, body: b.body });
  return out;
}

async function fast(data: Buffer, limit: number, seed: number): Promise<{ first: number; count: number; body: Buffer }[]> {
  const out = [];
  for await (const b of lineBatches(chunked(data, random(seed)), limit)) out.push({ first: b.firstRecord, count: b.records, body: b.body });
  return out;
}

/** A file in memory whose reads return random short counts, as positional reads may. */
function memoryFile(data: Buffer, rnd: () => number): PositionalFile {
  return {
    size: data.length,
    read: async (buf, position) => {
      const n = Math.min(buf.length, data.length - position, 1 + Math.floor(rnd() * 400));
      return n <= 0 ? 0 : data.copy(buf, 0, position, position + n);
    },
  };
}

async function fromFile(data: Buffer, limit: number, seed: number): Promise<{ first: number; count: number; body: Buffer }[]> {
  const out = [];
  for await (const b of fileLineBatches(memoryFile(data, random(seed)), limit)) out.push({ first: b.firstRecord, count: b.records, body: Buffer.from(b.body) });
  return out;
}

it('sends the same records in the same requests as the general splitter', async () => {
  for (let t = 1; t <= 300; t++) {
    const rnd = random(t);
    const blanks = t % 3 === 0;
    const lines = Array.from({ length: Math.floor(rnd() * 200) }, () => {
      const r = rnd();
      if (blanks && r < 0.05) return '';
      if (blanks && r < 0.08) return '\r';
      return 'x'.repeat(1 + Math.floor(rnd() * 60)) + (rnd() < 0.1 ? '\r' : '');
    });
    const data = Buffer.from(lines.join('\n') + (rnd() < 0.5 ? '\n' : ''));
    const limit = 64 + Math.floor(rnd() * 200);
    const a = await general(data, limit, t);
    const b = await fast(data, limit, t + 7);
    // Reading a file in place cuts exactly as the stream batcher does, blank lines included.
    assert.deepEqual(await fromFile(data, limit, t + 11), b, `case ${t}: the file reader cuts as the stream reader`);
    assert.deepEqual(Buffer.concat(b.map((x) => x.body)), Buffer.concat(a.map((x) => x.body)), `case ${t}: the same bytes`);
    assert.equal(b.reduce((n, x) => n + x.count, 0), a.reduce((n, x) => n + x.count, 0), `case ${t}: the same record count`);
    // Blank lines take room in the fast batcher's window, so only blank-free inputs must cut identically.
    if (!lines.some((l) => l === '' || l === '\r')) assert.deepEqual(b, a, `case ${t}: the same requests`);
  }
});

it('fails a line longer than the limit, naming it', async () => {
  const data = Buffer.from(`short\n${'y'.repeat(500)}\nshort\n`);
  await assert.rejects(fast(data, 100, 1), (e: unknown) => e instanceof RecordTooLargeError && /record 2 is 501 bytes/.test((e as Error).message));
  await assert.rejects(fromFile(data, 100, 1), (e: unknown) => e instanceof RecordTooLargeError && /record 2 is 501 bytes/.test((e as Error).message));
  const unterminated = Buffer.from(`short\n${'z'.repeat(300)}`);
  await assert.rejects(fromFile(unterminated, 100, 2), (e: unknown) => e instanceof RecordTooLargeError && /record 2 is 300 bytes/.test((e as Error).message));
  await assert.rejects(fast(unterminated, 100, 2), (e: unknown) => e instanceof RecordTooLargeError && /record 2 is 300 bytes/.test((e as Error).message));
});

it('fails an object that becomes shorter while it is read', async () => {
  const data = Buffer.from('a\nb\nc\n'.repeat(100));
  const shrinking: PositionalFile = { size: data.length + 50, read: async (buf, position) => (position >= data.length ? 0 : data.copy(buf, 0, position, Math.min(data.length, position + buf.length))) };
  const run = async (): Promise<void> => {
    for await (const _ of fileLineBatches(shrinking, 64));
  };
  await assert.rejects(run(), /became shorter while it was read/);
});
