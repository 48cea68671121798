/**
 * The behaviour every ObjectStore (and DataTransfer over it) must show.
 * test/object-store.local.test.ts and test/object-store.s3.test.ts run it.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import {
  DataSourceError,
  InvalidObjectKeyError,
  InvalidRangeError,
  NoSuchBucketError,
  NoSuchObjectError,
  UnsafePathError,
} from '../src/storage/errors';
import { compareKeys } from '../src/storage/keys';
import type { ObjectStore } from '../src/storage/object-store';
import { DataTransfer, type SourceObject } from '../src/storage/transfer';

export interface StoreUnderTest {
  store: ObjectStore;
  close(): Promise<void>;
}

const BUCKET = 'conformance';
const MISSING_BUCKET = 'sagebox-no-such-bucket';
const BIG_BYTES = 200 * 1024 * 1024;
const TREE_FILES = 1000;

export function objectStoreConformance(name: string, open: () => Promise<StoreUnderTest>): void {
  describe(`ObjectStore conformance: ${name}`, () => {
    let sut: StoreUnderTest;
    let store: ObjectStore;
    let transfer: DataTransfer;
    let work: string;
    const s3 = (key: string): string => `s3://${BUCKET}/${key}`;
    const read = async (key: string, range?: { start: number; end?: number }): Promise<string> =>
      (await buffer(await store.get(BUCKET, key, range))).toString('utf8');
    const listKeys = async (prefix: string, bucket = BUCKET): Promise<string[]> => {
      const keys: string[] = [];
      for await (const o of store.list(bucket, prefix)) keys.push(o.key);
      return keys;
    };

    before(async () => {
      sut = await open();
      store = sut.store;
      transfer = new DataTransfer(store);
      work = await fsp.mkdtemp(path.join(tmpdir(), 'sagebox-conformance-'));
      await store.ensureBucket(BUCKET);
    });
    after(async () => {
      await sut?.close();
      if (work) await fsp.rm(work, { recursive: true, force: true });
    });

    it('creates buckets idempotently and reports which exist', async () => {
      await store.ensureBucket(BUCKET);
      assert.equal(await store.bucketExists(BUCKET), true);
      assert.equal(await store.bucketExists(MISSING_BUCKET), false);
    });

    it('puts, heads, gets and deletes strings, buffers and streams', async () => {
      await store.put(BUCKET, 'basic/string.txt', 'hello world', { contentType: 'text/plain' });
      await store.put(BUCKET, 'basic/buffer.bin', Buffer.from([0, 1, 2, 255]));
      await store.put(BUCKET, 'basic/stream-sized', Readable.from([Buffer.from('abc'), Buffer.from('def')]), { size: 6 });
      await store.put(BUCKET, 'basic/stream-unsized', Readable.from([Buffer.from('ghi'), Buffer.from('jkl')]));
      await store.put(BUCKET, 'basic/empty', '');
      assert.equal(await read('basic/string.txt'), 'hello world');
      assert.deepEqual(await buffer(await store.get(BUCKET, 'basic/buffer.bin')), Buffer.from([0, 1, 2, 255]));
      assert.equal(await read('basic/stream-sized'), 'abcdef');
      assert.equal(await read('basic/stream-unsized'), 'ghijkl');
      assert.equal(await read('basic/empty'), '');
      const head = await store.head(BUCKET, 'basic/string.txt');
      assert.equal(head?.key, 'basic/string.txt');
      assert.equal(head?.size, 11);
      assert.equal(typeof head?.etag, 'string');
      assert.equal((await store.head(BUCKET, 'basic/empty'))?.size, 0);

      await store.put(BUCKET, 'basic/string.txt', 'replaced');
      assert.equal(await read('basic/string.txt'), 'replaced');

      await store.delete(BUCKET, 'basic/string.txt');
      assert.equal(await store.head(BUCKET, 'basic/string.txt'), undefined);
      await store.delete(BUCKET, 'basic/string.txt'); // deleting a missing key is not an error, as in S3
      await assert.rejects(store.get(BUCKET, 'basic/string.txt'), NoSuchObjectError);
      assert.equal(await store.head(BUCKET, 'basic/never'), undefined);
    });

    it('reports a missing bucket as NoSuchBucketError', async () => {
      await assert.rejects(store.get(MISSING_BUCKET, 'k'), NoSuchBucketError);
      await assert.rejects(store.put(MISSING_BUCKET, 'k', 'v'), NoSuchBucketError);
      await assert.rejects(store.head(MISSING_BUCKET, 'k'), NoSuchBucketError);
      await assert.rejects(listKeys('', MISSING_BUCKET), NoSuchBucketError);
    });

    it('serves byte ranges (end inclusive, open-ended, clamped) and refuses one past the end', async () => {
      await store.put(BUCKET, 'range/digits', '0123456789');
      assert.equal(await read('range/digits', { start: 0, end: 3 }), '0123');
      assert.equal(await read('range/digits', { start: 7 }), '789');
      assert.equal(await read('range/digits', { start: 8, end: 100 }), '89');
      assert.equal(await read('range/digits', { start: 9, end: 9 }), '9');
      await assert.rejects(store.get(BUCKET, 'range/digits', { start: 10 }), InvalidRangeError);
    });

    it('refuses keys that would escape the store', async () => {
      for (const key of ['a/../b', '../up', '..', '/abs/key', '', 'nul\0byte']) {
        await assert.rejects(store.put(BUCKET, key, 'x'), InvalidObjectKeyError, JSON.stringify(key));
        await assert.rejects(store.get(BUCKET, key), InvalidObjectKeyError, JSON.stringify(key));
      }
      await assert.rejects(listKeys('../'), InvalidObjectKeyError);
      await assert.rejects(transfer.writeObject(s3('x/../../etc/passwd'), 'x'), InvalidObjectKeyError);
    });

    it('round-trips keys with spaces, unicode and URL-special characters', async () => {
      const keys = ['odd/with space/file name.txt', 'odd/ünïcödé/日本語.csv', 'odd/emoji 😀.txt', 'odd/plus+percent%25&amp=.txt', "odd/quote'\"s.txt"];
      for (const key of keys) await store.put(BUCKET, key, `body of ${key}`);
      for (const key of keys) assert.equal(await read(key), `body of ${key}`);
      assert.deepEqual(await listKeys('odd/'), [...keys].sort(compareKeys));
    });

    it('keeps folder markers apart from an object of the same name and from its children', async () => {
      await store.put(BUCKET, 'markers/folder/', '');
      await store.put(BUCKET, 'markers/folder', 'a file named like the folder');
      await store.put(BUCKET, 'markers/other/', '');
      await store.put(BUCKET, 'markers/other/child.txt', 'child');
      assert.equal((await store.head(BUCKET, 'markers/folder/'))?.size, 0);
      assert.equal(await read('markers/folder'), 'a file named like the folder');
      // Compared as sets: s3rver lists 'x/' before 'x' (the listing-order test covers order).
      assert.deepEqual((await listKeys('markers/')).sort(compareKeys), ['markers/folder', 'markers/folder/', 'markers/other/', 'markers/other/child.txt']);
      const source = await transfer.listSource({ uri: s3('markers/'), dataType: 'S3Prefix' });
      assert.deepEqual(source.map((o) => o.relativePath).sort(), ['folder', 'other/child.txt'], 'folder markers are not data');
      await store.delete(BUCKET, 'markers/folder/');
      assert.equal(await store.head(BUCKET, 'markers/folder/'), undefined);
      assert.equal(await read('markers/folder'), 'a file named like the folder');
    });

    it('lists recursively in ascending byte order, filtered by prefix', async () => {
      const keys = ['order/b', 'order/a/x', 'order/a/y', 'order/B', 'order/c d', 'order/ä', 'order/z', 'order/a/deep/er/file'];
      for (const key of keys) await store.put(BUCKET, key, key);
      assert.deepEqual(await listKeys('order/'), [...keys].sort(compareKeys));
      assert.deepEqual(await listKeys('order/a'), ['order/a/deep/er/file', 'order/a/x', 'order/a/y']);
      assert.deepEqual(await listKeys('order/c'), ['order/c d']);
      assert.deepEqual(await listKeys('order/nothing'), []);
      const sizes: number[] = [];
      for await (const o of store.list(BUCKET, 'order/a/')) sizes.push(o.size);
      assert.deepEqual(sizes, ['order/a/deep/er/file', 'order/a/x', 'order/a/y'].map((k) => k.length));
    });

    it('moves a 200 MB file intact (multipart), from a file and from a stream', async () => {
      const src = path.join(work, 'big.bin');
      const expected = await writeRandomFile(src, BIG_BYTES);
      await store.putFile(BUCKET, 'big/from-file.bin', src);
      assert.equal((await store.head(BUCKET, 'big/from-file.bin'))?.size, BIG_BYTES);
      const back = path.join(work, 'big-back.bin');
      await store.getToFile(BUCKET, 'big/from-file.bin', back);
      assert.equal(await sha256File(back), expected);
      await fsp.rm(back);

      await store.put(BUCKET, 'big/from-stream.bin', createReadStream(src));
      assert.equal(await sha256Stream(await store.get(BUCKET, 'big/from-stream.bin')), expected);
      await fsp.rm(src);
      await store.delete(BUCKET, 'big/from-file.bin');
      await store.delete(BUCKET, 'big/from-stream.bin');
    });

    it('takes a file whose MD5 the caller computed (immutable or not) with the same bytes', async () => {
      const src = path.join(work, 'known-md5.bin');
      const bytes = randomBytes(300_000);
      await fsp.writeFile(src, bytes);
      const md5 = createHash('md5').update(bytes).digest();
      for (const immutable of [false, true]) {
        const key = `known-md5/${immutable}.bin`;
        const { etag } = await store.putFile(BUCKET, key, src, { md5, immutable, contentType: 'application/x-test' });
        assert.equal(etag, `"${md5.toString('hex')}"`);
        assert.equal((await store.head(BUCKET, key))?.etag, etag);
        assert.equal((await store.head(BUCKET, key))?.contentType, 'application/x-test');
        assert.deepEqual(await buffer(await store.get(BUCKET, key)), bytes);
      }
      // The caller deletes its file afterwards: the objects stay whole.
      await fsp.rm(src);
      for (const immutable of [false, true]) {
        assert.deepEqual(await buffer(await store.get(BUCKET, `known-md5/${immutable}.bin`)), bytes);
        await store.delete(BUCKET, `known-md5/${immutable}.bin`);
      }
    });

    it('uploads a tree of 1,000 files without following symlinks and downloads it back', async () => {
      const tree = path.join(work, 'tree');
      const outside = path.join(work, 'outside');
      await makeTree(tree, TREE_FILES);
      await fsp.mkdir(outside, { recursive: true });
      await fsp.writeFile(path.join(outside, 'secret.txt'), 'must not be uploaded');
      await fsp.symlink(path.join(outside, 'secret.txt'), path.join(tree, 'link-to-file'));
      await fsp.symlink(outside, path.join(tree, 'd00', 'link-to-dir'));

      const up = await transfer.uploadDir(tree, s3('tree'));
      assert.equal(up.files, TREE_FILES + SPECIAL_TREE_FILES.length);
      assert.deepEqual(up.skippedSymlinks.sort(), ['d00/link-to-dir', 'link-to-file']);
      assert.ok(up.seconds >= 0 && up.bytes > 0);
      const keys = await listKeys('tree/');
      assert.equal(keys.length, TREE_FILES + SPECIAL_TREE_FILES.length, 'listing pages past 1,000 keys');
      assert.deepEqual(keys, [...keys].sort(compareKeys));
      assert.ok(keys.includes('tree/d00/s0/f000.txt'), 'key = prefix + "/" + relative path');
      assert.ok(!keys.some((k) => k.includes('secret') || k.includes('link-to')), 'symlinks not followed');

      const objects = await transfer.listSource({ uri: s3('tree'), dataType: 'S3Prefix' });
      const dest = path.join(work, 'tree-back');
      const down = await transfer.download(objects, dest, { concurrency: 8 });
      assert.equal(down.files, TREE_FILES + SPECIAL_TREE_FILES.length);
      assert.equal(down.bytes, up.bytes);
      await assertSameFiles(tree, dest);
    });

    it('lists S3Prefix sources with paths relative to the prefix', async () => {
      await store.put(BUCKET, 'prefix/train/a.csv', 'a');
      await store.put(BUCKET, 'prefix/train/sub/b.csv', 'bb');
      await store.put(BUCKET, 'prefix/train.csv', 'c');
      const rel = async (uri: string): Promise<string[]> =>
        (await transfer.listSource({ uri, dataType: 'S3Prefix' })).map((o) => o.relativePath);
      assert.deepEqual(await rel(s3('prefix/train/')), ['a.csv', 'sub/b.csv']);
      assert.deepEqual(await rel(s3('prefix/train/sub/b.csv')), ['b.csv']);
      assert.deepEqual((await rel(s3('prefix/train'))).sort(), ['a.csv', 'sub/b.csv', 'train.csv']);
      const one = await transfer.listSource({ uri: s3('prefix/train/sub/b.csv'), dataType: 'S3Prefix' });
      assert.deepEqual(one, [{ uri: s3('prefix/train/sub/b.csv'), scheme: 's3', bucket: BUCKET, key: 'prefix/train/sub/b.csv', size: 2, relativePath: 'b.csv' }]);

      await assert.rejects(transfer.listSource({ uri: s3('prefix/none/'), dataType: 'S3Prefix' }), (err: unknown) => {
        assert.ok(err instanceof DataSourceError);
        assert.match(err.failureReason, /^ClientError: No objects found under S3 URL 's3:\/\/conformance\/prefix\/none\/'/);
        return true;
      });
      assert.deepEqual(await transfer.listSource({ uri: s3('prefix/none/'), dataType: 'S3Prefix', allowEmpty: true }), []);
      await assert.rejects(transfer.listSource({ uri: `s3://${MISSING_BUCKET}/x/`, dataType: 'S3Prefix' }), /does not exist/);
    });

    it('downloads the objects a manifest file lists', async () => {
      await store.put(BUCKET, 'man/data/one.csv', '1');
      await store.put(BUCKET, 'man/data/sub/two.csv', '22');
      await store.put(BUCKET, 'man/data/three.csv', '333');
      await store.put(BUCKET, 'man/manifest.json', JSON.stringify([{ prefix: s3('man/data/') }, 'one.csv', 'sub/two.csv']));
      const objects = await transfer.listSource({ uri: s3('man/manifest.json'), dataType: 'ManifestFile' });
      assert.deepEqual(objects.map((o) => [o.key, o.size, o.relativePath]), [
        ['man/data/one.csv', 1, 'one.csv'],
        ['man/data/sub/two.csv', 2, 'sub/two.csv'],
      ]);
      const dest = path.join(work, 'manifest-down');
      await transfer.download(objects, dest);
      assert.equal(await fsp.readFile(path.join(dest, 'one.csv'), 'utf8'), '1');
      assert.equal(await fsp.readFile(path.join(dest, 'sub', 'two.csv'), 'utf8'), '22');
      assert.equal(await fsp.access(path.join(dest, 'three.csv')).then(() => true, () => false), false);

      const bad = async (body: string, pattern: RegExp): Promise<void> => {
        await store.put(BUCKET, 'man/bad.json', body);
        await assert.rejects(transfer.listSource({ uri: s3('man/bad.json'), dataType: 'ManifestFile' }), (err: unknown) => {
          assert.ok(err instanceof DataSourceError, String(err));
          assert.match(err.message, pattern);
          assert.match(err.message, /s3:\/\/conformance\/man\/(bad\.json|data)/);
          return true;
        });
      };
      await bad('not json', /not valid JSON/);
      await bad('["one.csv"]', /no prefix/);
      await bad('{"prefix": "s3://x/"}', /not usable/);
      await bad(JSON.stringify([{ prefix: s3('man/data/') }, 'one.csv', 'missing.csv']), /1 object\(s\) .* do not exist: "s3:\/\/conformance\/man\/data\/missing\.csv"/);
      await bad(JSON.stringify([{ prefix: s3('man/data/') }, '../escape.csv']), /without '\.\.'/);
      await assert.rejects(transfer.listSource({ uri: s3('man/absent.json'), dataType: 'ManifestFile' }), /The manifest file .* does not exist/);
    });

    it('shards by S3 key round-robin across hosts', async () => {
      for (let i = 9; i >= 0; i--) await store.put(BUCKET, `shard/part-${i}`, String(i));
      const objects = await transfer.listSource({ uri: s3('shard/'), dataType: 'S3Prefix' });
      const shards = [0, 1, 2].map((h) => transfer.shard(objects, h, 3).map((o) => o.relativePath));
      assert.deepEqual(shards, [
        ['part-0', 'part-3', 'part-6', 'part-9'],
        ['part-1', 'part-4', 'part-7'],
        ['part-2', 'part-5', 'part-8'],
      ]);
      const many = Array.from({ length: 12 }, (_, h) => transfer.shard(objects, h, 12));
      assert.equal(many.filter((s) => s.length === 0).length, 2, 'more hosts than objects: some get nothing');
      assert.throws(() => transfer.shard(objects, 3, 3), RangeError);
    });

    it('refuses to download outside the destination or onto colliding paths', async () => {
      await store.put(BUCKET, 'escape/x', 'x');
      const [obj] = await transfer.listSource({ uri: s3('escape/x'), dataType: 'S3Prefix' });
      assert.ok(obj);
      const dest = path.join(work, 'escape-dest');
      for (const relativePath of ['../evil', '/etc/evil', 'a/../../evil', '']) {
        await assert.rejects(transfer.download([{ ...obj, relativePath }], dest), UnsafePathError, relativePath);
      }
      assert.equal(await fsp.access(path.join(work, 'evil')).then(() => true, () => false), false);
      const twice: SourceObject[] = [obj, { ...obj }];
      await assert.rejects(transfer.download(twice, dest), /would both be written/);
      await assert.rejects(transfer.download([{ ...obj, relativePath: 'a' }, { ...obj, relativePath: 'a/b' }], dest), /to be a folder/);
    });

    it('moves single objects by URI: uploadFile, writeObject, openRead, exists', async () => {
      const file = path.join(work, 'single.txt');
      await fsp.writeFile(file, 'single');
      assert.deepEqual(await transfer.uploadFile(file, s3('uri/')), { uri: s3('uri/single.txt'), bytes: 6 });
      assert.deepEqual(await transfer.uploadFile(file, s3('uri/renamed.txt')), { uri: s3('uri/renamed.txt'), bytes: 6 });
      await transfer.writeObject(s3('uri/written.txt'), Readable.from([Buffer.from('streamed')]));
      assert.equal((await buffer(await transfer.openRead(s3('uri/written.txt')))).toString(), 'streamed');
      assert.equal((await buffer(await transfer.openRead(s3('uri/single.txt'), { start: 1, end: 2 }))).toString(), 'in');
      assert.equal(await transfer.exists(s3('uri/renamed.txt')), true);
      assert.equal(await transfer.exists(s3('uri/nothing')), false);
      assert.equal(await transfer.exists(`s3://${MISSING_BUCKET}/k`), false);
      assert.equal(await transfer.exists(`s3://${BUCKET}`), true);
      const https = `https://${BUCKET}.s3.us-east-1.amazonaws.com/uri/single.txt`;
      assert.equal((await buffer(await transfer.openRead(https))).toString(), 'single');
    });

    it('packs a directory, stores it, and extracts it back', async () => {
      const model = path.join(work, 'model');
      await fsp.mkdir(path.join(model, 'sub'), { recursive: true });
      await fsp.writeFile(path.join(model, 'weights.bin'), randomBytes(100_000));
      await fsp.writeFile(path.join(model, 'sub', 'config.json'), '{}');
      const archive = path.join(work, 'model.tar.gz');
      await transfer.packTarGz(model, archive);
      await transfer.uploadFile(archive, s3('tar/model.tar.gz'));
      const out = path.join(work, 'model-out');
      await transfer.extractTarGz(await transfer.openRead(s3('tar/model.tar.gz')), out);
      await assertSameFiles(model, out);
    });
  });
}

const SPECIAL_TREE_FILES = ['top level.txt', 'ünïcode/ö file.txt', 'deep/a/b/c/d/e/f.txt'];

async function makeTree(root: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const dir = path.join(root, `d${String(Math.floor(i / 100)).padStart(2, '0')}`, `s${Math.floor(i / 10) % 10}`);
    if (i % 10 === 0) await fsp.mkdir(dir, { recursive: true });
    await fsp.writeFile(path.join(dir, `f${String(i).padStart(3, '0')}.txt`), `file ${i}\n`.repeat((i % 7) + 1));
  }
  for (const rel of SPECIAL_TREE_FILES) {
    await fsp.mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await fsp.writeFile(path.join(root, rel), `special ${rel}`);
  }
}

/** Writes `bytes` of random data in 1 MiB chunks (never all in memory); returns the sha256. */
async function writeRandomFile(file: string, bytes: number): Promise<string> {
  const hash = createHash('sha256');
  const chunk = 1024 * 1024;
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let done = 0; done < bytes; done += chunk) {
      const b = randomBytes(Math.min(chunk, bytes - done));
      hash.update(b);
      yield b;
    }
  }
  await pipeline(Readable.from(chunks()), createWriteStream(file));
  return hash.digest('hex');
}

async function sha256Stream(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function sha256File(file: string): Promise<string> {
  return sha256Stream(createReadStream(file));
}

/** Same regular files with the same bytes (symlinks in `expected` are ignored). */
export async function assertSameFiles(expected: string, actual: string): Promise<void> {
  const [a, b] = await Promise.all([regularFiles(expected), regularFiles(actual)]);
  assert.deepEqual([...b.keys()], [...a.keys()]);
  for (const [rel, abs] of a) {
    const [x, y] = await Promise.all([fsp.readFile(abs), fsp.readFile(b.get(rel) as string)]);
    assert.ok(x.equals(y), `content of ${rel} differs`);
  }
}

async function regularFiles(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const entries = await fsp.readdir(root, { recursive: true, withFileTypes: true });
  for (const e of entries) {
    if (!e.isFile()) continue;
    const abs = path.join(e.parentPath, e.name);
    out.set(path.relative(root, abs), abs);
  }
  return new Map([...out].sort(([x], [y]) => compareKeys(x, y)));
}
