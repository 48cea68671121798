import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import {
  InvalidBucketNameError,
  InvalidObjectKeyError,
  NoSuchObjectError,
  ObjectKeyConflictError,
} from '../src/storage/errors';
import { LocalObjectStore } from '../src/storage/local-store';
import { objectStoreConformance } from './object-store.conformance';

objectStoreConformance('local directory store', async () => {
  const root = await fsp.mkdtemp(path.join(tmpdir(), 'sagebox-local-store-'));
  return {
    store: new LocalObjectStore({ root }),
    close: () => fsp.rm(root, { recursive: true, force: true }),
  };
});

describe('local directory store: layout and file-system rules', () => {
  let root: string;
  let store: LocalObjectStore;
  const B = 'layout';
  const keys = async (prefix: string): Promise<string[]> => {
    const out: string[] = [];
    for await (const o of store.list(B, prefix)) out.push(o.key);
    return out;
  };

  before(async () => {
    root = await fsp.mkdtemp(path.join(tmpdir(), 'sagebox-local-layout-'));
    store = new LocalObjectStore({ root });
    await store.ensureBucket(B);
  });
  after(() => fsp.rm(root, { recursive: true, force: true }));

  it('keeps objects as plain files a person can browse, and sees files written by hand', async () => {
    await store.put(B, 'data/train/a.csv', '1,2\n');
    assert.equal(await fsp.readFile(path.join(root, B, 'data', 'train', 'a.csv'), 'utf8'), '1,2\n');
    await fsp.writeFile(path.join(root, B, 'data', 'train', 'by-hand.csv'), 'x');
    assert.deepEqual(await keys('data/'), ['data/train/a.csv', 'data/train/by-hand.csv']);
    assert.deepEqual(await fsp.readdir(path.join(root, '.sagebox-tmp')), [], 'staging is left empty');
  });

  it('links an immutable file with a known MD5 in (no copy) and copies a mutable one', async () => {
    const src = path.join(root, 'outside.bin');
    await fsp.writeFile(src, 'output bytes');
    const md5 = Buffer.from('0123456789abcdef0123456789abcdef', 'hex'); // trusted as given: nothing reads the file
    await store.putFile(B, 'linked/a.out', src, { md5, immutable: true });
    await store.putFile(B, 'copied/a.out', src, { md5 });
    const [s, linked, copied] = await Promise.all([src, path.join(root, B, 'linked', 'a.out'), path.join(root, B, 'copied', 'a.out')].map((f) => fsp.stat(f)));
    assert.equal(linked!.ino, s!.ino, 'the same inode: taken in as a hard link');
    assert.notEqual(copied!.ino, s!.ino, 'a file the caller may change again is copied');
    assert.equal((await store.head(B, 'linked/a.out'))?.etag, '"0123456789abcdef0123456789abcdef"');
    assert.deepEqual(await fsp.readdir(path.join(root, '.sagebox-tmp')), [], 'staging is left empty');
    await fsp.rm(src);
    assert.equal((await buffer(await store.get(B, 'linked/a.out'))).toString(), 'output bytes');
  });

  it('takes a file with an opaque ETag without hashing it when asked to', async () => {
    const src = path.join(root, 'unhashed.bin');
    await fsp.writeFile(src, 'large output');
    const { etag } = await store.putFile(B, 'opaque/a.out', src, { immutable: true, opaqueEtag: true, contentType: 'text/csv' });
    const st = await fsp.stat(src);
    assert.equal(etag, `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`);
    const head = await store.head(B, 'opaque/a.out');
    assert.equal(head?.etag, etag);
    assert.equal(head?.contentType, 'text/csv', 'recorded as written through the store');
    assert.equal((await fsp.stat(path.join(root, B, 'opaque', 'a.out'))).ino, st.ino);
  });

  it('stores a folder marker beside its directory as .sagebox-folder.<name>', async () => {
    await store.put(B, 'm/empty/', '');
    await store.put(B, 'm/empty', 'object with the folder name');
    assert.equal((await fsp.stat(path.join(root, B, 'm', '.sagebox-folder.empty'))).size, 0);
    assert.equal(await fsp.readFile(path.join(root, B, 'm', 'empty'), 'utf8'), 'object with the folder name');
    assert.deepEqual(await keys('m/'), ['m/empty', 'm/empty/']);
  });

  it('lists in S3 byte order, where "a-b" and "a.txt" sort before "a/..."', async () => {
    for (const key of ['k/a/x', 'k/a0', 'k/a.txt', 'k/a-b', 'k/a/', 'k/A', 'k/é', 'k/z']) await store.put(B, key, key);
    assert.deepEqual(await keys('k/'), ['k/A', 'k/a-b', 'k/a.txt', 'k/a/', 'k/a/x', 'k/a0', 'k/z', 'k/é']);
    assert.deepEqual(await keys('k/a'), ['k/a-b', 'k/a.txt', 'k/a/', 'k/a/x', 'k/a0']);
  });

  it('refuses an object where a folder of objects is, and the reverse', async () => {
    await store.put(B, 'c/x', 'file');
    await assert.rejects(store.put(B, 'c/x/y', 'under a file'), ObjectKeyConflictError);
    await assert.rejects(store.put(B, 'c', 'over a folder'), ObjectKeyConflictError);
    await store.delete(B, 'c/x');
    assert.equal(await fsp.access(path.join(root, B, 'c')).then(() => true, () => false), false, 'empty folders are pruned');
    await store.put(B, 'c', 'now fine');
    assert.equal((await store.head(B, 'c'))?.size, 8);
  });

  it('refuses keys a directory tree cannot hold or that use reserved names', async () => {
    for (const key of ['a//b', 'a/./b', './a', '.sagebox-tmp/x', 'a/.sagebox-folder.b', 'a/.sagebox-anything', `${'n'.repeat(256)}`, `a/${'m'.repeat(250)}/`]) {
      await assert.rejects(store.put(B, key, 'x'), InvalidObjectKeyError, key);
    }
  });

  it('validates bucket names', async () => {
    for (const bucket of ['AB', 'ab', 'has_underscore', '192.168.0.1', '-start', 'end-', 'a..b', 'x'.repeat(64), '.sagebox-tmp']) {
      await assert.rejects(store.ensureBucket(bucket), InvalidBucketNameError, bucket);
    }
    await store.ensureBucket('sagemaker-us-east-1-123456789012');
  });

  it('writes atomically: a failed stream leaves the old object and no partial file', async () => {
    await store.put(B, 'atomic/obj', 'old');
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(64 * 1024, 1));
        this.destroy(new Error('connection reset'));
      },
    });
    await assert.rejects(store.put(B, 'atomic/obj', failing), /connection reset/);
    assert.equal(await fsp.readFile(path.join(root, B, 'atomic', 'obj'), 'utf8'), 'old');
    await assert.rejects(store.put(B, 'atomic/obj', Readable.from([Buffer.from('short')]), { size: 10 }), /expected 10/);
    assert.equal(await fsp.readFile(path.join(root, B, 'atomic', 'obj'), 'utf8'), 'old');
    assert.deepEqual(await fsp.readdir(path.join(root, '.sagebox-tmp')), []);
    assert.deepEqual(await fsp.readdir(path.join(root, B, 'atomic')), ['obj']);
  });

  it('lets concurrent readers see only whole versions while writers race on one key', async () => {
    const versions = Array.from({ length: 12 }, (_, i) => String(i).repeat(50_000 + i * 1000));
    await store.put(B, 'race/obj', versions[0] as string);
    const seen = new Set<string>();
    const reads = (async () => {
      for (let i = 0; i < 40; i++) seen.add((await buffer(await store.get(B, 'race/obj'))).toString());
    })();
    await Promise.all(versions.map((v) => store.put(B, 'race/obj', Readable.from([Buffer.from(v)]))));
    await reads;
    for (const body of seen) assert.ok(versions.includes(body), `a torn read of ${body.length} bytes`);
    assert.ok(versions.includes((await buffer(await store.get(B, 'race/obj'))).toString()));
  });

  it('never follows symbolic links inside a bucket', async () => {
    const outside = await fsp.mkdtemp(path.join(tmpdir(), 'sagebox-outside-'));
    try {
      await fsp.writeFile(path.join(outside, 'secret'), 'secret');
      await fsp.mkdir(path.join(root, B, 'links'));
      await fsp.writeFile(path.join(root, B, 'links', 'real'), 'real');
      await fsp.symlink(path.join(outside, 'secret'), path.join(root, B, 'links', 'file-link'));
      await fsp.symlink(outside, path.join(root, B, 'links', 'dir-link'));
      assert.deepEqual(await keys('links/'), ['links/real']);
      assert.deepEqual(await keys('links/dir-link/'), []);
      assert.equal(await store.head(B, 'links/file-link'), undefined);
      await assert.rejects(store.get(B, 'links/file-link'), NoSuchObjectError);
      await assert.rejects(store.get(B, 'links/dir-link/secret'), NoSuchObjectError);
      await assert.rejects(store.put(B, 'links/dir-link/planted', 'x'), InvalidObjectKeyError);
      await store.delete(B, 'links/file-link');
      assert.equal(await fsp.readFile(path.join(outside, 'secret'), 'utf8'), 'secret');
      assert.deepEqual(await fsp.readdir(outside), ['secret']);
    } finally {
      await fsp.rm(outside, { recursive: true, force: true });
    }
  });

  it('accepts a bucket directory that is itself a link (data on another disk)', async () => {
    const elsewhere = await fsp.mkdtemp(path.join(tmpdir(), 'sagebox-elsewhere-'));
    try {
      await fsp.symlink(elsewhere, path.join(root, 'linked-bucket'));
      await store.put('linked-bucket', 'a/b', 'via link');
      assert.equal(await fsp.readFile(path.join(elsewhere, 'a', 'b'), 'utf8'), 'via link');
      const listed: string[] = [];
      for await (const o of store.list('linked-bucket', '')) listed.push(o.key);
      assert.deepEqual(listed, ['a/b']);
    } finally {
      await fsp.rm(elsewhere, { recursive: true, force: true });
    }
  });
});
