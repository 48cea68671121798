/**
 * MD5 on the worker thread: the same digest as hashing inline, for buffers
 * that are copied (small, or views into a larger buffer) and buffers that are
 * handed over (large, owning their memory), with sessions interleaved, and
 * with the caller held back while much is queued.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { it } from 'node:test';
import { BackgroundMd5 } from '../src/storage/background-md5';

const MiB = 1024 * 1024;

it('gives the inline MD5 for copied and handed-over buffers, sessions interleaved', async () => {
  const pieces = [randomBytes(10), Buffer.alloc(0), randomBytes(3 * MiB), Buffer.from('pooled'), randomBytes(2 * MiB).subarray(5, MiB), randomBytes(70_000)];
  const a = new BackgroundMd5();
  const b = new BackgroundMd5();
  const inlineA = createHash('md5');
  const inlineB = createHash('md5');
  for (const p of pieces) {
    inlineA.update(p);
    inlineB.update(p).update(p);
    const forA = Buffer.from(p); // a copy each: a handed-over buffer is detached
    await a.update(forA);
    await b.update(Buffer.from(p));
    await b.update(Buffer.from(p));
  }
  assert.deepEqual(await a.digest(), inlineA.digest());
  assert.deepEqual(await b.digest(), inlineB.digest());
  assert.deepEqual(await new BackgroundMd5().digest(), createHash('md5').digest(), 'nothing handed over: the MD5 of no bytes');
});

it('takes over a large buffer that owns its memory, and copies a view', async () => {
  const owned = Buffer.alloc(2 * MiB, 1);
  const h = new BackgroundMd5();
  await h.update(owned);
  assert.equal(owned.length, 0, 'handed over: detached, no copy made');
  const big = Buffer.alloc(4 * MiB, 2);
  await h.update(big.subarray(0, 2 * MiB));
  assert.equal(big.length, 4 * MiB, 'a view is copied: the caller keeps its buffer');
  assert.deepEqual(await h.digest(), createHash('md5').update(Buffer.alloc(2 * MiB, 1)).update(Buffer.alloc(2 * MiB, 2)).digest());
});

it('holds the caller back while more than 64 MiB wait, and refuses use after digest or discard', async () => {
  const h = new BackgroundMd5();
  const inline = createHash('md5');
  const pending: Promise<void>[] = [];
  for (let i = 0; i < 24; i++) {
    const b = Buffer.alloc(4 * MiB, i);
    inline.update(b);
    pending.push(h.update(b)); // not awaited: 96 MiB queued at once
  }
  const settled: boolean[] = pending.map(() => false);
  pending.forEach((p, i) => void p.then(() => (settled[i] = true)));
  await Promise.resolve();
  assert.equal(settled[0], true, 'the first buffers are taken at once');
  assert.equal(settled[23], false, 'with 96 MiB queued, the caller waits for the worker');
  await Promise.all(pending);
  assert.deepEqual(await h.digest(), inline.digest());
  assert.throws(() => h.update(Buffer.from('x')), /already called/);
  await assert.rejects(h.digest(), /already called/);
  const d = new BackgroundMd5();
  await d.update(Buffer.from('dropped'));
  d.discard();
  await assert.rejects(d.digest(), /already called/);
});
