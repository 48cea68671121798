/**
 * The S3 API through AWS CLI v2 (/usr/bin/aws): buckets, a 300 MB multipart
 * copy both ways, `s3 sync` of a 2,000-file tree both ways, recursive ls/rm,
 * s3api head-object, list-objects-v2 paging and copy-object.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { awsCli } from './helpers/clients';
import { listTree, sha256File, writeRandomFile, writeTree } from './helpers/s3-files';
import { startServer, type TestServer } from './helpers/server';

const BIG = 300 * 1024 * 1024;
const TREE_FILES = 2000;

describe('S3 API: AWS CLI v2', () => {
  let s: TestServer;
  let work: string;
  const cli = (...args: string[]) => awsCli(s.clientEnv, args);

  before(async () => {
    s = await startServer();
    work = await fsp.mkdtemp(path.join(os.tmpdir(), 'sagebox-s3-cli-'));
    await cli('s3', 'mb', 's3://cli-bucket');
  });
  after(async () => {
    await s.stop();
    await fsp.rm(work, { recursive: true, force: true });
    await fsp.rm(s.dataDir, { recursive: true, force: true });
  });

  it('makes and lists buckets; mb of an existing bucket in us-east-1 succeeds as in S3', async () => {
    const ls = await cli('s3', 'ls');
    assert.match(ls.stdout, /\bcli-bucket\n/);
    const r = await cli('s3api', 'list-buckets');
    assert.ok(r.json.Buckets.some((b: { Name: string }) => b.Name === 'cli-bucket'));
    assert.equal(r.json.Owner.ID.length, 64);
    const loc = await cli('s3api', 'get-bucket-location', '--bucket', 'cli-bucket');
    assert.equal(loc.json.LocationConstraint, null);
  });

  it('copies a 300 MB file up and down (multipart both ways) intact', async () => {
    const src = path.join(work, 'big.bin');
    const sum = await writeRandomFile(src, BIG);
    let t = Date.now();
    await cli('s3', 'cp', src, 's3://cli-bucket/big/big.bin');
    const up = (Date.now() - t) / 1000;
    const head = await cli('s3api', 'head-object', '--bucket', 'cli-bucket', '--key', 'big/big.bin');
    assert.equal(head.json.ContentLength, BIG);
    assert.match(head.json.ETag, /^"[0-9a-f]{32}-\d+"$/, 'a multipart ETag');
    t = Date.now();
    const dst = path.join(work, 'big.back');
    await cli('s3', 'cp', 's3://cli-bucket/big/big.bin', dst);
    const down = (Date.now() - t) / 1000;
    assert.equal(await sha256File(dst), sum);
    assert.equal(await sha256File(path.join(s.dataDir, 's3', 'cli-bucket', 'big', 'big.bin')), sum, 'stored as a plain file');
    console.log(`300 MB: upload ${up.toFixed(1)} s (${(300 / up).toFixed(0)} MB/s), download ${down.toFixed(1)} s (${(300 / down).toFixed(0)} MB/s)`);
    await fsp.rm(src);
    await fsp.rm(dst);
    const uploads = await cli('s3api', 'list-multipart-uploads', '--bucket', 'cli-bucket');
    assert.equal(uploads.json?.Uploads, undefined, 'no upload left in progress');
  });

  it('syncs a 2,000-file tree up and back down, lists it recursively and removes it', async () => {
    const tree = path.join(work, 'tree');
    const rels = await writeTree(tree, TREE_FILES);
    let t = Date.now();
    await cli('s3', 'sync', tree, 's3://cli-bucket/tree/');
    const up = (Date.now() - t) / 1000;
    const ls = await cli('s3', 'ls', '--recursive', 's3://cli-bucket/tree/');
    const listed = ls.stdout.trim().split('\n').map((l) => l.split(/\s+/).slice(3).join(' '));
    assert.deepEqual(listed, rels.map((r) => `tree/${r}`));
    // A second sync finds nothing to do.
    const again = await cli('s3', 'sync', tree, 's3://cli-bucket/tree/');
    assert.equal(again.stdout.trim(), '');

    t = Date.now();
    const back = path.join(work, 'tree-back');
    await cli('s3', 'sync', 's3://cli-bucket/tree/', back);
    const down = (Date.now() - t) / 1000;
    assert.deepEqual(await listTree(back), rels);
    for (const rel of [rels[0]!, rels[777]!, rels[rels.length - 1]!]) {
      assert.equal(await fsp.readFile(path.join(back, rel), 'utf8'), await fsp.readFile(path.join(tree, rel), 'utf8'));
    }
    console.log(`sync of ${TREE_FILES} files: up ${up.toFixed(1)} s, down ${down.toFixed(1)} s`);

    const top = await cli('s3', 'ls', 's3://cli-bucket/tree/');
    assert.deepEqual(
      top.stdout.trim().split('\n').map((l) => l.trim()),
      Array.from({ length: 10 }, (_, i) => `PRE d${i}/`),
    );

    await cli('s3', 'rm', '--recursive', 's3://cli-bucket/tree/');
    const gone = await cli('s3api', 'list-objects-v2', '--bucket', 'cli-bucket', '--prefix', 'tree/');
    assert.equal(gone.json?.KeyCount ?? 0, 0);
  });

  it('heads an object with its metadata and content type', async () => {
    const f = path.join(work, 'meta.json');
    await fsp.writeFile(f, '{"a":1}');
    await cli('s3', 'cp', f, 's3://cli-bucket/meta/obj.json', '--content-type', 'application/json', '--metadata', 'owner=alice,purpose=test');
    const head = await cli('s3api', 'head-object', '--bucket', 'cli-bucket', '--key', 'meta/obj.json');
    assert.equal(head.json.ContentType, 'application/json');
    assert.deepEqual(head.json.Metadata, { owner: 'alice', purpose: 'test' });
    assert.equal(head.json.ETag, `"${createHash('md5').update('{"a":1}').digest('hex')}"`);
    await assert.rejects(cli('s3api', 'head-object', '--bucket', 'cli-bucket', '--key', 'meta/missing'), /404|Not Found/);
  });

  it('pages list-objects-v2 with --page-size and --max-items', async () => {
    for (let i = 0; i < 25; i++) await s.app.ctx.objectStore.put('cli-bucket', `page/k${String(i).padStart(2, '0')}`, `v${i}`);
    const all = await cli('s3api', 'list-objects-v2', '--bucket', 'cli-bucket', '--prefix', 'page/', '--page-size', '7');
    assert.equal(all.json.Contents.length, 25, 'the CLI follows continuation tokens across 4 pages');
    assert.deepEqual(all.json.Contents.map((c: { Key: string }) => c.Key), Array.from({ length: 25 }, (_, i) => `page/k${String(i).padStart(2, '0')}`));
    const first = await cli('s3api', 'list-objects-v2', '--bucket', 'cli-bucket', '--prefix', 'page/', '--page-size', '4', '--max-items', '10');
    assert.equal(first.json.Contents.length, 10);
    assert.ok(first.json.NextToken);
    const rest = await cli('s3api', 'list-objects-v2', '--bucket', 'cli-bucket', '--prefix', 'page/', '--page-size', '4', '--max-items', '100', '--starting-token', first.json.NextToken);
    assert.equal(rest.json.Contents.length, 15);
    assert.equal(rest.json.Contents[0].Key, 'page/k10');
    const raw = await cli('s3api', 'list-objects-v2', '--bucket', 'cli-bucket', '--prefix', 'page/', '--max-keys', '5', '--no-paginate');
    assert.equal(raw.json.KeyCount, 5);
    assert.equal(raw.json.IsTruncated, true);
    assert.ok(raw.json.NextContinuationToken);
  });

  it('copies objects with copy-object, keeping or replacing metadata', async () => {
    await cli('s3api', 'put-object', '--bucket', 'cli-bucket', '--key', 'copy/src.txt', '--body', '/etc/hostname', '--content-type', 'text/plain', '--metadata', 'k=v');
    const c1 = await cli('s3api', 'copy-object', '--bucket', 'cli-bucket', '--key', 'copy/dst.txt', '--copy-source', 'cli-bucket/copy/src.txt');
    const src = await cli('s3api', 'head-object', '--bucket', 'cli-bucket', '--key', 'copy/src.txt');
    assert.equal(c1.json.CopyObjectResult.ETag, src.json.ETag);
    const d1 = await cli('s3api', 'head-object', '--bucket', 'cli-bucket', '--key', 'copy/dst.txt');
    assert.equal(d1.json.ContentType, 'text/plain');
    assert.deepEqual(d1.json.Metadata, { k: 'v' });
    await cli('s3api', 'copy-object', '--bucket', 'cli-bucket', '--key', 'copy/dst2.txt', '--copy-source', 'cli-bucket/copy/src.txt', '--metadata-directive', 'REPLACE', '--content-type', 'application/x-new', '--metadata', 'n=1');
    const d2 = await cli('s3api', 'head-object', '--bucket', 'cli-bucket', '--key', 'copy/dst2.txt');
    assert.equal(d2.json.ContentType, 'application/x-new');
    assert.deepEqual(d2.json.Metadata, { n: '1' });
    await assert.rejects(cli('s3api', 'copy-object', '--bucket', 'cli-bucket', '--key', 'copy/src.txt', '--copy-source', 'cli-bucket/copy/src.txt'), /InvalidRequest/);
    await assert.rejects(cli('s3api', 'copy-object', '--bucket', 'cli-bucket', '--key', 'copy/x', '--copy-source', 'cli-bucket/copy/none'), /NoSuchKey/);
  });

  it('refuses to remove a bucket that holds objects, then removes it empty', async () => {
    await cli('s3', 'mb', 's3://cli-doomed');
    await s.app.ctx.objectStore.put('cli-doomed', 'x', 'y');
    await assert.rejects(cli('s3', 'rb', 's3://cli-doomed'), /BucketNotEmpty/);
    await cli('s3', 'rm', 's3://cli-doomed/x');
    await cli('s3', 'rb', 's3://cli-doomed');
    await assert.rejects(cli('s3api', 'head-bucket', '--bucket', 'cli-doomed'), /404|Not Found/);
  });
});
