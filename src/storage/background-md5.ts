/**
 * MD5 of a byte sequence, hashed on a worker thread so that the bytes of a
 * large output (a transform job writes gigabytes) do not take the event
 * loop's time: hashing costs about as much CPU as the rest of the transform's
 * data path, and on the event loop it would delay every request.
 *
 * One worker serves the whole process (created on first use, unreferenced
 * while idle). Buffers are handed over, not copied, when they own their
 * memory and are large; the caller must not touch a buffer after update().
 * At most MAX_QUEUED bytes wait for the worker: update() resolves when the
 * caller may go on.
 */
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', (m) => {
  let h = hashes.get(m.id);
  if (m.op === 'update') {
    if (!h) hashes.set(m.id, (h = createHash('md5')));
    h.update(m.bytes);
    parentPort.postMessage({ op: 'ack', bytes: m.bytes.length });
  } else if (m.op === 'drop') {
    hashes.delete(m.id);
  } else if (m.op === 'digest') {
    hashes.delete(m.id);
    parentPort.postMessage({ op: 'digest', id: m.id, digest: (h || createHash('md5')).digest() });
  }
});
`;

/** Bytes handed to the worker but not hashed yet, before update() makes the caller wait. */
const MAX_QUEUED = 64 * 1024 * 1024;
/** Below this, a buffer is copied (cheap) rather than taken over. */
const TAKE_OVER_BYTES = 1024 * 1024;

interface Shared {
  worker: Worker;
  queued: number;
  waiting: (() => void)[];
  digests: Map<number, { resolve(d: Buffer): void; reject(e: Error): void }>;
}

let shared: Shared | undefined;
let nextId = 1;

function worker(): Shared {
  if (shared) return shared;
  const w = new Worker(WORKER_SOURCE, { eval: true, name: 'sagebox-md5' });
  const s: Shared = { worker: w, queued: 0, waiting: [], digests: new Map() };
  w.unref();
  w.on('message', (m: { op: 'ack'; bytes: number } | { op: 'digest'; id: number; digest: Uint8Array }) => {
    if (m.op === 'ack') {
      s.queued -= m.bytes;
      while (s.queued < MAX_QUEUED && s.waiting.length) s.waiting.shift()!();
      return;
    }
    const d = s.digests.get(m.id);
    s.digests.delete(m.id);
    if (!s.digests.size) w.unref();
    d?.resolve(Buffer.from(m.digest));
  });
  const fail = (err: Error): void => {
    if (shared === s) shared = undefined;
    for (const d of s.digests.values()) d.reject(new Error(`the MD5 worker stopped: ${err.message}`));
    s.digests.clear();
    for (const go of s.waiting.splice(0)) go();
  };
  w.on('error', fail);
  w.on('exit', (code) => fail(new Error(`exit code ${code}`)));
  shared = s;
  return s;
}

export class BackgroundMd5 {
  private readonly id = nextId++;
  private readonly s = worker();
  private done = false;

  /** Hands `bytes` over (the buffer may be detached); resolves when the caller may hand over more. */
  update(bytes: Buffer): Promise<void> {
    if (this.done) throw new Error('digest() or discard() was already called');
    if (!bytes.length) return Promise.resolve();
    const owned = bytes.length >= TAKE_OVER_BYTES && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && !(bytes.buffer instanceof SharedArrayBuffer);
    // A copy gets an ArrayBuffer of its own (never Buffer's shared pool, which must not be handed over).
    const view = owned ? bytes : new Uint8Array(bytes);
    this.s.queued += view.length;
    this.s.worker.postMessage({ op: 'update', id: this.id, bytes: view }, [view.buffer as ArrayBuffer]);
    if (this.s.queued < MAX_QUEUED || shared !== this.s) return Promise.resolve();
    return new Promise((resolve) => this.s.waiting.push(resolve));
  }

  /** Forgets what was handed over (the output was discarded). */
  discard(): void {
    if (this.done) return;
    this.done = true;
    if (shared === this.s) this.s.worker.postMessage({ op: 'drop', id: this.id });
  }

  /** The MD5 of everything handed over. */
  digest(): Promise<Buffer> {
    if (this.done) return Promise.reject(new Error('digest() or discard() was already called'));
    this.done = true;
    if (shared !== this.s) return Promise.reject(new Error('the MD5 worker stopped'));
    return new Promise((resolve, reject) => {
      this.s.digests.set(this.id, { resolve, reject });
      this.s.worker.ref();
      this.s.worker.postMessage({ op: 'digest', id: this.id });
    });
  }
}
