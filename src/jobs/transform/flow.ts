/**
 * Flow control for the feeder: a counting semaphore whose waits can be
 * aborted, an abortable sleep, and a writer that puts outputs into a file in
 * order while they arrive in any order.
 */
import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

export class Semaphore {
  private readonly waiters: (() => void)[] = [];
  constructor(private free: number) {}

  async acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.waiters.indexOf(grant);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal!.reason);
      };
      const grant = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.waiters.push(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free++;
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

interface Pending {
  bytes: Buffer;
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * Output of batch i is written after that of batches 0..i-1. put() resolves
 * once its bytes are in the file; after fail(), every waiting put rejects.
 * With `md5UpTo`, the bytes are hashed as they are written for as long as
 * the file stays within that size (md5() is undefined past it).
 */
export class OrderedWriter {
  private next = 0;
  private readonly pending = new Map<number, Pending>();
  private chain: Promise<void> = Promise.resolve();
  private failed?: unknown;
  bytes = 0;

  private hash?: Hash;

  constructor(
    private readonly file: FileHandle,
    private readonly md5UpTo = 0,
  ) {
    if (md5UpTo > 0) this.hash = createHash('md5');
  }

  /** The MD5 of what was written, when it stayed within md5UpTo bytes. */
  md5(): Buffer | undefined {
    return this.hash?.digest();
  }

  put(index: number, bytes: Buffer): Promise<void> {
    if (this.failed !== undefined) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.pending.set(index, { bytes, resolve, reject });
      this.drain();
    });
  }

  private drain(): void {
    for (let p = this.pending.get(this.next); p; p = this.pending.get(this.next)) {
      this.pending.delete(this.next);
      this.next++;
      const entry = p;
      this.chain = this.chain.then(async () => {
        if (this.failed !== undefined) throw this.failed;
        if (!entry.bytes.length) return;
        if (this.bytes + entry.bytes.length > this.md5UpTo) this.hash = undefined;
        this.hash?.update(entry.bytes);
        await this.file.write(entry.bytes);
        this.bytes += entry.bytes.length;
      }).then(entry.resolve, (err: unknown) => {
        this.failed ??= err;
        entry.reject(err);
      });
    }
  }

  fail(err: unknown): void {
    this.failed ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  /** Waits for the writes handed over so far. */
  async settle(): Promise<void> {
    await this.chain;
  }
}
