import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { DataSourceError, NoSuchObjectError } from '../src/storage/errors';
import { LocalObjectStore } from '../src/storage/local-store';
import { DataTransfer } from '../src/storage/transfer';
import { assertSameFiles } from './object-store.conformance';

describe('DataTransfer with file:// URIs (local mode)', () => {
  let work: string;
  let transfer: DataTransfer;
  const url = (p: string): string => pathToFileURL(p).href;

  before(async () => {
    work = await fsp.mkdtemp(path.join(tmpdir(), 'sagebox-file-uri-'));
    transfer = new DataTransfer(new LocalObjectStore({ root: path.join(work, 'store') }));
    const src = path.join(work, 'src');
    await fsp.mkdir(path.join(src, 'sub dir'), { recursive: true });
    await fsp.writeFile(path.join(src, 'a.csv'), 'a');
    await fsp.writeFile(path.join(src, 'sub dir', 'b ü.csv'), 'bb');
    await fsp.writeFile(path.join(work, 'outside.txt'), 'outside');
    await fsp.symlink(path.join(work, 'outside.txt'), path.join(src, 'link.txt'));
  });
  after(() => fsp.rm(work, { recursive: true, force: true }));

  it('lists a directory recursively (links skipped) and a single file by its basename', async () => {
    const objects = await transfer.listSource({ uri: url(path.join(work, 'src')), dataType: 'S3Prefix' });
    assert.deepEqual(objects.map((o) => [o.scheme, o.relativePath, o.size]), [
      ['file', 'a.csv', 1],
      ['file', 'sub dir/b ü.csv', 2],
    ]);
    assert.equal(objects[1]?.key, path.join(work, 'src', 'sub dir', 'b ü.csv'));
    const one = await transfer.listSource({ uri: `file://${path.join(work, 'src', 'a.csv')}`, dataType: 'S3Prefix' });
    assert.deepEqual(one.map((o) => o.relativePath), ['a.csv']);
  });

  it('reports a missing path as a ClientError-style DataSourceError', async () => {
    const uri = url(path.join(work, 'absent'));
    await assert.rejects(transfer.listSource({ uri, dataType: 'S3Prefix' }), (err: unknown) => {
      assert.ok(err instanceof DataSourceError);
      assert.match(err.failureReason, /^ClientError: No objects found under the path 'file:\/\/.*absent'/);
      return true;
    });
  });

  it('downloads file:// sources into a directory', async () => {
    const objects = await transfer.listSource({ uri: url(path.join(work, 'src')), dataType: 'S3Prefix' });
    const dest = path.join(work, 'channel');
    const stats = await transfer.download(objects, dest);
    assert.equal(stats.files, 2);
    assert.equal(stats.bytes, 3);
    await assertSameFiles(path.join(work, 'src'), dest);
    assert.equal(await fsp.access(path.join(dest, 'link.txt')).then(() => true, () => false), false);
  });

  it('uploads a directory and single files to file:// destinations', async () => {
    const out = path.join(work, 'out');
    const up = await transfer.uploadDir(path.join(work, 'src'), url(out));
    assert.deepEqual(up.skippedSymlinks, ['link.txt']);
    await assertSameFiles(path.join(work, 'src'), out);
    const file = path.join(work, 'src', 'a.csv');
    assert.deepEqual(await transfer.uploadFile(file, `${url(path.join(work, 'files'))}/`), { uri: url(path.join(work, 'files', 'a.csv')), bytes: 1 });
    assert.equal(await fsp.readFile(path.join(work, 'files', 'a.csv'), 'utf8'), 'a');
  });

  it('writes, reads, ranges and checks existence by file:// URI', async () => {
    const uri = url(path.join(work, 'written', 'deep', 'obj.txt'));
    await transfer.writeObject(uri, Readable.from([Buffer.from('0123456789')]));
    assert.equal((await buffer(await transfer.openRead(uri))).toString(), '0123456789');
    assert.equal((await buffer(await transfer.openRead(uri, { start: 2, end: 4 }))).toString(), '234');
    assert.equal(await transfer.exists(uri), true);
    assert.equal(await transfer.exists(url(path.join(work, 'nothing'))), false);
    await assert.rejects(transfer.openRead(url(path.join(work, 'nothing'))), NoSuchObjectError);
  });

  it('reads a manifest whose prefix is a file:// directory', async () => {
    const manifest = path.join(work, 'manifest.json');
    await fsp.writeFile(manifest, JSON.stringify([{ prefix: `${url(path.join(work, 'src'))}/` }, 'sub dir/b ü.csv']));
    const objects = await transfer.listSource({ uri: url(manifest), dataType: 'ManifestFile' });
    assert.deepEqual(objects.map((o) => [o.relativePath, o.size]), [['sub dir/b ü.csv', 2]]);
  });
});
