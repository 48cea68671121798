/**
 * The Pipe/FastFile machinery without Docker: RecordIO framing, shuffles,
 * epoch streams (gzip, RecordIO, read-ahead, data errors) and the FIFO
 * feeder against real FIFOs read by child processes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { DataSourceError } from '../src/storage/errors';
import { LocalObjectStore } from '../src/storage/local-store';
import { DataTransfer } from '../src/storage/transfer';
import { writeEpoch, type Part } from '../src/jobs/streaming/epoch-stream';
import { FastFileChannel } from '../src/jobs/streaming/fastfile';
import { isFifo, mkfifo, waitForReader } from '../src/jobs/streaming/fifo';
import { feedEpoch, feedPipe, preparePipe } from '../src/jobs/streaming/pipe-feeder';
import { frameRecord, recordHeader } from '../src/jobs/streaming/recordio';
import { shuffledIndices } from '../src/jobs/streaming/shuffle';
import { StreamSource } from '../src/jobs/streaming/stream-source';

const quiet = { info: () => undefined, warn: () => undefined };
const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'sagebox-pipe-'));
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function collect(parts: Part[], objects: Record<string, Buffer>, opts: { gzip?: boolean; recordIO?: boolean; gzipBufferBytes?: number } = {}, signal = new AbortController().signal): Promise<Buffer> {
  const chunks: Buffer[] = [];
  // A small buffer, so writing waits for room now and then.
  const out = new Writable({ highWaterMark: 16, write: (c: Buffer, _e, cb) => void (chunks.push(c), setImmediate(cb)) });
  const open = async (uri: string): Promise<Readable> => {
    const body = objects[uri];
    if (!body) throw new Error(`no ${uri}`);
    // Small chunks, so records span several of them.
    return Readable.from(Array.from({ length: Math.ceil(body.length / 7) || 0 }, (_, i) => body.subarray(i * 7, i * 7 + 7)));
  };
  const size = async (uri: string): Promise<number> => objects[uri]!.length;
  await writeEpoch(parts, { gzip: false, recordIO: false, open, size, ...opts }, out, signal);
  await new Promise((resolve) => out.end(resolve));
  return Buffer.concat(chunks);
}

/** Runs a shell command in the background; resolves with its stdout. */
function sh(script: string): { done: Promise<string> } {
  const child = spawn('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return { done: new Promise((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${script}`))))) };
}

describe('RecordIO and shuffles', () => {
  it('frames a record as magic, length, payload and zero padding to 4 bytes', () => {
    assert.deepEqual(frameRecord(Buffer.from('abcde')), Buffer.from([0x0a, 0x23, 0xd7, 0xce, 5, 0, 0, 0, 97, 98, 99, 100, 101, 0, 0, 0]));
    assert.equal(frameRecord(Buffer.alloc(8)).length, 16);
    assert.equal(frameRecord(Buffer.alloc(0)).length, 8);
    assert.throws(() => recordHeader(2 ** 32), RangeError);
    // The length has 29 bits (the upper 3 are the cflag of split records).
    assert.throws(() => recordHeader(2 ** 29), RangeError);
    assert.equal(recordHeader(2 ** 29 - 1).readUInt32LE(4), 2 ** 29 - 1);
  });

  it('shuffles deterministically per seed and epoch', () => {
    const a = shuffledIndices(50, 7, 0);
    assert.deepEqual(a, shuffledIndices(50, 7, 0));
    assert.deepEqual([...a].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
    assert.notDeepEqual(a, shuffledIndices(50, 7, 1));
    assert.notDeepEqual(a, shuffledIndices(50, 8, 0));
  });
});

describe('epoch streams', () => {
  const objects = { 's3://b/a': Buffer.from('first object\n'), 's3://b/b': Buffer.from('second\n'), 's3://b/c': Buffer.alloc(0) };
  const parts: Part[] = Object.keys(objects).map((uri) => ({ kind: 'object', uri }));

  it('concatenates the objects in order', async () => {
    assert.equal((await collect(parts, objects)).toString(), 'first object\nsecond\n');
  });

  it('wraps each part in a RecordIO record', async () => {
    const withInline: Part[] = [...parts, { kind: 'bytes', data: Buffer.from('{"label":1}') }];
    const expected = Buffer.concat([...Object.values(objects).map(frameRecord), frameRecord(Buffer.from('{"label":1}'))]);
    assert.deepEqual(await collect(withInline, objects, { recordIO: true }), expected);
  });

  it('gunzips in flight, also gzip objects wrapped in RecordIO (buffered or counted twice)', async () => {
    const plain = { 's3://b/x.gz': Buffer.from('x'.repeat(1000)), 's3://b/y.gz': Buffer.from('hello') };
    const gz = Object.fromEntries(Object.entries(plain).map(([k, v]) => [k, gzipSync(v)]));
    const gzParts: Part[] = Object.keys(gz).map((uri) => ({ kind: 'object', uri }));
    assert.equal((await collect(gzParts, gz, { gzip: true })).toString(), 'x'.repeat(1000) + 'hello');
    const framed = Buffer.concat(Object.values(plain).map(frameRecord));
    assert.deepEqual(await collect(gzParts, gz, { gzip: true, recordIO: true }), framed);
    assert.deepEqual(await collect(gzParts, gz, { gzip: true, recordIO: true, gzipBufferBytes: 10 }), framed);
  });

  it('reports bad gzip, a missing object and an object whose size changed as DataSourceError', async () => {
    await assert.rejects(collect([{ kind: 'object', uri: 's3://b/a' }], objects, { gzip: true }), (e: any) => e instanceof DataSourceError && /s3:\/\/b\/a is not valid gzip/.test(e.message));
    await assert.rejects(collect([{ kind: 'object', uri: 's3://b/nope' }], objects), (e: any) => e instanceof DataSourceError && /Streaming s3:\/\/b\/nope failed/.test(e.message));
    await assert.rejects(collect([{ kind: 'object', uri: 's3://b/a', size: 3 }], objects, { recordIO: true }), /changed while it was streamed: expected 3 bytes/);
    // An object opened ahead that fails before it is read.
    const out = new Writable({ write: (_c, _e, cb) => setTimeout(cb, 5) });
    const open = async (uri: string): Promise<Readable> => {
      if (uri !== 's3://b/bad') return Readable.from([Buffer.alloc(1000)]);
      const r = new Readable({ read: () => undefined });
      process.nextTick(() => r.destroy(new Error('connection reset')));
      return r;
    };
    const parts: Part[] = ['s3://b/1', 's3://b/2', 's3://b/bad'].map((uri) => ({ kind: 'object', uri }));
    await assert.rejects(writeEpoch(parts, { gzip: false, recordIO: false, open, size: async () => 0 }, out, new AbortController().signal), (e: any) => e instanceof DataSourceError && /Streaming s3:\/\/b\/bad failed: connection reset/.test(e.message));
  });
});

describe('stream sources', () => {
  async function storeWith(objects: Record<string, string | Buffer>): Promise<{ root: string; store: LocalObjectStore; transfer: DataTransfer }> {
    const root = tmp();
    const store = new LocalObjectStore({ root });
    await store.ensureBucket('bkt');
    for (const [k, v] of Object.entries(objects)) await store.put('bkt', k, v);
    return { root, store, transfer: new DataTransfer(store) };
  }
  const collectFrom = async (transfer: DataTransfer, parts: Iterable<Part>, recordIO: boolean): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    const out = new Writable({ write: (c: Buffer, _e, cb) => void (chunks.push(c), cb()) });
    await writeEpoch(parts, { gzip: false, recordIO, open: (u) => transfer.openRead(u), size: (u) => transfer.sizeOf(u) }, out, new AbortController().signal);
    await new Promise((r) => out.end(r));
    return Buffer.concat(chunks);
  };

  it('augmented manifest: attribute values in order, -ref objects streamed, other values as text, one RecordIO record each', async () => {
    const { root, transfer } = await storeWith({
      'img/1.jpg': 'JPEG-ONE',
      'img/2.jpg': 'JPEG-2',
      'm.jsonl': ['{"source-ref":"s3://bkt/img/1.jpg","label":1,"other":"x"}', '', '{"source-ref":"s3://bkt/img/2.jpg","label":{"c":0}}'].join('\n'),
    });
    const src = await StreamSource.load(transfer, { uri: 's3://bkt/m.jsonl', dataType: 'AugmentedManifestFile', attributeNames: ['source-ref', 'label'], sharded: false });
    assert.equal(src.records, 2);
    const framed = await collectFrom(transfer, src.parts(0, 0, 1), true);
    assert.deepEqual(framed, Buffer.concat(['JPEG-ONE', '1', 'JPEG-2', '{"c":0}'].map((t) => frameRecord(Buffer.from(t)))));
    assert.equal((await collectFrom(transfer, src.parts(0, 0, 1), false)).toString(), 'JPEG-ONE1JPEG-2{"c":0}');
    const sharded = await StreamSource.load(transfer, { uri: 's3://bkt/m.jsonl', dataType: 'AugmentedManifestFile', attributeNames: ['source-ref', 'label'], sharded: true });
    assert.equal((await collectFrom(transfer, sharded.parts(0, 1, 2), false)).toString(), 'JPEG-2{"c":0}');
    await assert.rejects(StreamSource.load(transfer, { uri: 's3://bkt/m.jsonl', dataType: 'AugmentedManifestFile', attributeNames: ['nope'], sharded: false }), /Line 1 of the augmented manifest file s3:\/\/bkt\/m.jsonl has no attribute 'nope'/);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('ShardedByS3Key: key order round-robin; with a shuffle, each epoch deals a new order and the hosts together get every object once', async () => {
    const keys = Array.from({ length: 7 }, (_, i) => `d/k${i}`);
    const { root, transfer } = await storeWith(Object.fromEntries(keys.map((k) => [k, k])));
    const uris = (parts: Iterable<Part>): string[] => [...parts].map((p) => (p.kind === 'object' ? p.uri.slice('s3://bkt/'.length) : ''));
    const plain = await StreamSource.load(transfer, { uri: 's3://bkt/d/', dataType: 'S3Prefix', sharded: true });
    assert.deepEqual(uris(plain.parts(0, 1, 3)), ['d/k1', 'd/k4']);
    assert.deepEqual(uris(plain.parts(5, 1, 3)), ['d/k1', 'd/k4'], 'the same every epoch');
    const shuffledSrc = await StreamSource.load(transfer, { uri: 's3://bkt/d/', dataType: 'S3Prefix', sharded: true, shuffleSeed: 3 });
    const byEpoch = [0, 1].map((ep) => [0, 1, 2].map((h) => uris(shuffledSrc.parts(ep, h, 3))));
    for (const hosts of byEpoch) assert.deepEqual(hosts.flat().sort(), keys);
    assert.notDeepEqual(byEpoch[0], byEpoch[1]);
    fs.rmSync(root, { recursive: true, force: true });
  });
});

describe('FIFO feeder', () => {
  it('does not open a FIFO before a reader does, and gives up on abort', async () => {
    const dir = tmp();
    const f = path.join(dir, 'p');
    await mkfifo([f]);
    assert.ok(await isFifo(f));
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    assert.equal(await waitForReader(f, ac.signal), undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('streams a whole epoch, or ends it when the reader closes early', async () => {
    const dir = tmp();
    const f = path.join(dir, 'p');
    await mkfifo([f]);
    const body = Buffer.alloc(3 * 1024 * 1024, 'z');
    const chunks = async (out: Writable, signal: AbortSignal): Promise<void> =>
      writeEpoch([{ kind: 'object', uri: 'mem' }], { gzip: false, recordIO: false, open: async () => Readable.from([body.subarray(0, 1 << 20), body.subarray(1 << 20)]), size: async () => body.length }, out, signal);
    const full = sh(`sha256sum < ${f}`);
    const fd = await waitForReader(f, new AbortController().signal);
    assert.deepEqual(await feedEpoch(fd!, chunks, new AbortController().signal), { end: 'complete', bytes: body.length });
    assert.equal((await full.done).split(' ')[0], sha(body));

    const early = sh(`head -c 100 ${f} | wc -c`);
    const fd2 = await waitForReader(f, new AbortController().signal);
    const r = await feedEpoch(fd2!, chunks, new AbortController().signal);
    assert.equal(r.end, 'closed-early');
    assert.equal((await early.done).trim(), '100');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('creates <name>_N+1 once epoch N is over and removes <name>_N, epoch after epoch', async () => {
    const dir = tmp();
    const state = path.join(dir, 'state', 'c.json');
    await preparePipe(dir, 'c', state);
    assert.ok(await isFifo(path.join(dir, 'c_0')));
    const ac = new AbortController();
    const feeding = feedPipe({ dir, name: 'c', stateFile: state, write: (epoch, out, signal) => writeEpoch([{ kind: 'bytes', data: Buffer.from(`epoch ${epoch}\n`) }], { gzip: false, recordIO: false, open: async () => Readable.from([]), size: async () => 0 }, out, signal), log: quiet, fields: {}, label: 'c' }, ac.signal);
    try {
      const wait = (i: number): string => `while [ ! -p ${dir}/c_${i} ]; do sleep 0.01; done`;
      const reader = sh(`for i in 0 1 2; do ${wait(0).replace('c_0', 'c_$i')}; cat ${dir}/c_$i; done; ${wait(3)}; head -c 3 ${dir}/c_3 >/dev/null; ${wait(4)}`);
      assert.equal(await reader.done, 'epoch 0\nepoch 1\nepoch 2\n');
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      ac.abort();
      await feeding;
    }
    assert.deepEqual(fs.readdirSync(dir).sort(), ['c_4', 'state']);
    assert.deepEqual(JSON.parse(fs.readFileSync(state, 'utf8')), { epoch: 4, writing: false });
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('FastFile', () => {
  it('lists every file at once, streams a file read before it arrives, then renames each file into place', async () => {
    const root = tmp();
    const store = new LocalObjectStore({ root: path.join(root, 's3') });
    await store.ensureBucket('bkt');
    const files: Record<string, Buffer> = { 'ds/a.txt': Buffer.from('alpha'), 'ds/sub/b.txt': Buffer.from('bravo'), 'ds/z.bin': Buffer.alloc(200_000, 7) };
    for (const [k, v] of Object.entries(files)) await store.put('bkt', k, v);
    const transfer = new DataTransfer(store);
    const objects = await transfer.listSource({ uri: 's3://bkt/ds/', dataType: 'S3Prefix' });
    // Hold the last download until the test lets it go.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const getToFile = store.getToFile.bind(store);
    store.getToFile = async (b, k, f) => {
      if (k === 'ds/z.bin') await gate;
      return getToFile(b, k, f);
    };
    const dir = path.join(root, 'host', 'ch');
    const ff = new FastFileChannel({ transfer, stagingDir: path.join(root, 'staging'), targets: [{ host: 'algo-1', dir, objects }], log: quiet, fields: {}, lateReaderMs: 200 });
    await ff.prepare();
    assert.ok(await isFifo(path.join(dir, 'sub', 'b.txt')));
    const ac = new AbortController();
    const running = ff.run(ac.signal);
    const early = await sh(`sha256sum < ${dir}/z.bin`).done;
    assert.equal(early.split(' ')[0], sha(files['ds/z.bin']!));
    assert.ok(await isFifo(path.join(dir, 'z.bin')), 'still a placeholder: its download is held');
    release();
    await running;
    for (const [k, v] of Object.entries(files)) {
      const p = path.join(dir, k.slice(3));
      assert.ok(fs.lstatSync(p).isFile(), `${p} arrived`);
      assert.deepEqual(fs.readFileSync(p), v);
    }
    assert.deepEqual(fs.readdirSync(path.join(root, 'staging')), [], 'nothing left in staging');
    fs.rmSync(root, { recursive: true, force: true });
  });
});
