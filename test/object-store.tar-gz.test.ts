import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { UnsafeArchiveEntryError } from '../src/storage/errors';
import { extractTarGz, packTarGz } from '../src/storage/tar-gz';
import { assertSameFiles } from './object-store.conformance';

/** A gzipped tar built header by header, so hostile entries can be written. */
function rawTarGz(entries: { path: string; type?: tar.HeaderData['type']; linkpath?: string; body?: string }[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const header = new tar.Header({ path: e.path, type: e.type ?? 'File', linkpath: e.linkpath, size: body.length, mode: 0o644, mtime: new Date(0) });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    blocks.push(block, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

async function entryPaths(file: string): Promise<string[]> {
  const paths: string[] = [];
  await tar.t({ file, onReadEntry: (e) => void paths.push(e.path) });
  return paths;
}

describe('tar.gz packing and safe extraction', () => {
  let work: string;
  before(async () => {
    work = await fsp.mkdtemp(path.join(tmpdir(), 'sagebox-targz-'));
  });
  after(() => fsp.rm(work, { recursive: true, force: true }));

  it('packs entries relative to the directory root, with no leading folder or ./', async () => {
    const dir = path.join(work, 'model');
    await fsp.mkdir(path.join(dir, 'code'), { recursive: true });
    await fsp.writeFile(path.join(dir, 'model.pkl'), 'weights');
    await fsp.writeFile(path.join(dir, 'code', 'inference.py'), 'print(1)');
    await fsp.symlink('model.pkl', path.join(dir, 'latest'));
    const archive = path.join(work, 'model.tar.gz');
    const packed = await packTarGz(dir, archive);
    assert.ok(packed.bytes > 0);
    const paths = await entryPaths(archive);
    assert.deepEqual(paths.sort(), ['code/', 'code/inference.py', 'latest', 'model.pkl']);
    const out = path.join(work, 'model-out');
    await extractTarGz(archive, out);
    await assertSameFiles(dir, out);
    assert.equal(await fsp.readlink(path.join(out, 'latest')), 'model.pkl', 'links are stored as links');
  });

  it('packs an empty directory into a valid empty archive', async () => {
    const dir = path.join(work, 'empty');
    await fsp.mkdir(dir);
    const archive = path.join(work, 'empty.tar.gz');
    await packTarGz(dir, archive);
    assert.deepEqual(await entryPaths(archive), []);
    const out = path.join(work, 'empty-out');
    assert.deepEqual(await extractTarGz(archive, out), { entries: 0 });
    assert.deepEqual(await fsp.readdir(out), []);
  });

  it('refuses to write the archive inside the directory it packs', async () => {
    const dir = path.join(work, 'self');
    await fsp.mkdir(dir);
    await assert.rejects(packTarGz(dir, path.join(dir, 'self.tar.gz')), /inside the directory/);
  });

  it('extracts from a stream, and links that stay inside', async () => {
    const archive = rawTarGz([
      { path: 'dir/', type: 'Directory' },
      { path: 'dir/a.txt', body: 'a' },
      { path: 'dir/up', type: 'SymbolicLink', linkpath: '../top.txt' },
      { path: 'top.txt', body: 'top' },
      { path: 'hard', type: 'Link', linkpath: 'top.txt' },
    ]);
    const out = path.join(work, 'inside');
    assert.deepEqual(await extractTarGz(Readable.from([archive]), out), { entries: 5 });
    assert.equal(await fsp.readFile(path.join(out, 'dir', 'up'), 'utf8'), 'top');
    assert.equal(await fsp.readFile(path.join(out, 'hard'), 'utf8'), 'top');
  });

  const hostile: [string, Parameters<typeof rawTarGz>[0], RegExp][] = [
    ['an absolute path', [{ path: '/tmp/sagebox-evil.txt', body: 'x' }], /absolute path/],
    ['a .. path', [{ path: 'ok/../../evil.txt', body: 'x' }], /'\.\.'/],
    ['a symlink to an absolute path', [{ path: 'etc', type: 'SymbolicLink', linkpath: '/etc' }], /absolute path \/etc/],
    ['a symlink climbing out', [{ path: 'a/b', type: 'SymbolicLink', linkpath: '../../outside' }], /outside the destination/],
    ['a hard link climbing out', [{ path: 'h', type: 'Link', linkpath: '../outside.txt' }], /hard link/],
    ['a FIFO', [{ path: 'fifo', type: 'FIFO' }], /FIFO/],
    ['a character device', [{ path: 'null', type: 'CharacterDevice' }], /CharacterDevice/],
  ];
  for (const [what, entries, pattern] of hostile) {
    it(`refuses ${what}, before writing it`, async () => {
      const dest = path.join(work, 'hostile', what.replace(/\W+/g, '-'));
      await fsp.writeFile(path.join(work, 'outside.txt'), 'outside').catch(() => undefined);
      const archive = rawTarGz([{ path: 'first.txt', body: 'first' }, ...entries, { path: 'after.txt', body: 'after' }]);
      await assert.rejects(extractTarGz(Readable.from([archive]), dest), (err: unknown) => {
        assert.ok(err instanceof UnsafeArchiveEntryError, String(err));
        assert.match(err.message, pattern);
        return true;
      });
      const written = await fsp.readdir(dest);
      assert.ok(!written.includes('after.txt'), 'extraction stops at the hostile entry');
      assert.ok(written.every((n) => n === 'first.txt'), `only the entry before it: ${written.join(', ')}`);
      await assert.rejects(fsp.access('/tmp/sagebox-evil.txt'));
      await assert.rejects(fsp.access(path.join(work, 'hostile', 'evil.txt')));
    });
  }

  it('fails clearly on something that is not a tar', async () => {
    await assert.rejects(extractTarGz(Readable.from([gzipSync(Buffer.from('not a tar at all'.repeat(100)))]), path.join(work, 'bad')));
  });
});
