/**
 * FastFile mode, emulated without FUSE: the channel directory is complete
 * from the moment the container starts, and its files fill in while it runs.
 *
 * - Before the container starts, every directory of the prefix's tree exists
 *   and every file is a FIFO placeholder of the same name (so listing,
 *   os.walk and glob see the whole channel at once).
 * - sagebox downloads the objects in key order (`concurrency` at a time)
 *   into a staging directory the container does not see, and renames each
 *   complete file over its placeholder: a path is either the placeholder or
 *   the whole file, never a partial one. Once there, the file is an ordinary
 *   read-only file (random access, mmap, its real size).
 * - A container that opens a file before it has arrived opens the FIFO: the
 *   open blocks until sagebox notices the reader (it polls the placeholders,
 *   fifo.ts) and then streams that object straight from the store into it, so
 *   a sequential read of any file succeeds at once. Such a read is a stream:
 *   seeking fails (ESPIPE), fstat shows a FIFO of size 0, and two programs
 *   opening the same not-yet-arrived file at the same instant share one
 *   stream. Each placeholder serves one reader; sagebox swaps in a fresh
 *   placeholder as it starts serving, so later readers get their own stream.
 * - A reader that raced the final rename (it looked the placeholder up just
 *   before) is still served from the arrived file for a short while after.
 *
 * A download or a stream that fails rejects run() with a DataSourceError,
 * which fails the job: a reader would otherwise see a file cut short.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { forEachLimit } from '../../storage/concurrency';
import { DataSourceError } from '../../storage/errors';
import { lstatOrUndefined } from '../../storage/fs-util';
import type { DataTransfer, SourceObject } from '../../storage/transfer';
import { sleep } from '../../util/sleep';
import { writeEpoch } from './epoch-stream';
import { createFifos, mkfifo, tryOpenWriter } from './fifo';
import { feedEpoch, type FeederLogger } from './pipe-feeder';

export interface FastFileTarget {
  host: string;
  /** Host directory mounted (read-only) at /opt/ml/input/data/<channel>. */
  dir: string;
  /** The objects this host gets: all of them, or its ShardedByS3Key share. */
  objects: SourceObject[];
}

export interface FastFileOptions {
  transfer: DataTransfer;
  /** Host directory on the same file system as the targets, not visible to containers. */
  stagingDir: string;
  targets: FastFileTarget[];
  log: FeederLogger;
  fields: Record<string, unknown>;
  /** Downloads in flight. Default 4. */
  concurrency?: number;
  /** How long a retired placeholder is watched for a reader that raced the rename. Default 2000 ms. */
  lateReaderMs?: number;
}

interface Slot {
  object: SourceObject;
  final: string;
  arrived: boolean;
  serving: boolean;
  /** Serialises the renames of this path. */
  lock: Promise<void>;
}

export class FastFileChannel {
  private readonly slots = new Map<string, Slot[]>(); // uri -> the paths it lands on
  private readonly servings = new Set<Promise<void>>();
  private failure: unknown;
  private seq = 0;
  private prepared = false;
  private signal: AbortSignal = new AbortController().signal;

  constructor(private readonly opts: FastFileOptions) {
    for (const t of opts.targets) {
      const root = path.resolve(t.dir);
      const finals = new Map<string, SourceObject>();
      for (const o of t.objects) {
        const final = safeJoin(root, o);
        const other = finals.get(final);
        if (other) throw new DataSourceError(o.uri, `${other.uri} and ${o.uri} would both be '${o.relativePath}'`);
        finals.set(final, o);
        const slots = this.slots.get(o.uri) ?? [];
        slots.push({ object: o, final, arrived: false, serving: false, lock: Promise.resolve() });
        this.slots.set(o.uri, slots);
      }
      for (const final of finals.keys()) {
        for (let dir = path.dirname(final); dir !== root; dir = path.dirname(dir)) {
          const clash = finals.get(dir);
          if (clash) throw new DataSourceError(clash.uri, `${clash.uri} is a file where another object needs the folder '${clash.relativePath}'`);
        }
      }
    }
  }

  /**
   * The directory tree with a placeholder for every file not yet there; files already in place
   * (a job resumed after a restart) count as arrived. Done once per channel object: run() calls
   * it too, for a channel listed again after a restart, and it does nothing the second time.
   */
  async prepare(): Promise<void> {
    if (this.prepared) return;
    const dirs = new Set<string>([...this.opts.targets.map((t) => t.dir), this.opts.stagingDir]);
    for (const slot of this.allSlots()) dirs.add(path.dirname(slot.final));
    for (const dir of dirs) await fsp.mkdir(dir, { recursive: true });
    const placeholders: string[] = [];
    for (const slot of this.allSlots()) {
      const st = await lstatOrUndefined(slot.final);
      if (st?.isFile()) slot.arrived = true;
      else if (!st?.isFIFO()) placeholders.push(slot.final);
    }
    await createFifos(placeholders);
    this.prepared = true;
  }

  /** Downloads everything while serving early readers; resolves once every file is in place and no reader is being served. */
  async run(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    await this.prepare();
    const started = performance.now();
    const sweeping = this.sweep(signal);
    try {
      const pending = [...this.slots.values()].filter((slots) => slots.some((s) => !s.arrived));
      await forEachLimit(pending, this.opts.concurrency ?? 4, async (slots) => {
        if (signal.aborted || this.failure) return;
        await this.download(slots, signal);
      });
      if (!signal.aborted && !this.failure) {
        const files = pending.length;
        this.opts.log.info({ ...this.opts.fields, files, seconds: Number(((performance.now() - started) / 1000).toFixed(3)) }, 'FastFile channel complete');
      }
    } catch (err) {
      this.failure ??= err;
    } finally {
      await sweeping;
      await Promise.allSettled([...this.servings]);
    }
    if (this.failure && !signal.aborted) throw asDataError(this.failure);
  }

  private *allSlots(): Iterable<Slot> {
    for (const slots of this.slots.values()) yield* slots;
  }

  /** Downloads the object of `slots` (every path it lands on) once, then puts it in place on each. */
  private async download(slots: Slot[], signal: AbortSignal): Promise<void> {
    const staged = path.join(this.opts.stagingDir, `obj-${this.seq++}`);
    await this.opts.transfer.downloadObject(slots[0]!.object, staged);
    if (signal.aborted) return void (await fsp.rm(staged, { force: true }));
    for (const [i, slot] of slots.entries()) {
      if (slot.arrived) continue;
      const last = i === slots.length - 1;
      const file = last ? staged : `${staged}.${i}`;
      if (!last) await fsp.link(staged, file);
      slot.arrived = true; // the sweep no longer opens this placeholder
      await this.locked(slot, () => this.replacePlaceholder(slot, file));
    }
    await fsp.rm(staged, { force: true });
  }

  /** Renames the arrived file over the placeholder, keeping the old FIFO reachable for a reader that raced the rename. */
  private async replacePlaceholder(slot: Slot, file: string): Promise<void> {
    const retired = path.join(this.opts.stagingDir, `retired-${this.seq++}`);
    const hadFifo = await fsp.link(slot.final, retired).then(() => true, () => false);
    await fsp.rename(file, slot.final);
    if (hadFifo) this.track(this.serveLate(retired, slot));
  }

  private async serveLate(retired: string, slot: Slot): Promise<void> {
    const deadline = Date.now() + (this.opts.lateReaderMs ?? 2000);
    try {
      while (Date.now() < deadline) {
        const fd = tryOpenWriter(retired);
        if (fd !== undefined) {
          await this.stream(fd, () => fs.createReadStream(slot.final), slot);
          return;
        }
        await sleep(100);
      }
    } finally {
      await fsp.rm(retired, { force: true });
    }
  }

  /** Polls the placeholders of files not yet there; stops once all have arrived or on abort. */
  private async sweep(signal: AbortSignal): Promise<void> {
    while (!signal.aborted && !this.failure) {
      let pending = 0;
      let n = 0;
      for (const slot of this.allSlots()) {
        if (slot.arrived) continue;
        pending += 1;
        if (slot.serving) continue;
        const fd = tryOpenWriter(slot.final);
        if (fd !== undefined) this.track(this.serve(slot, fd));
        // Many placeholders: let the event loop breathe between batches.
        if (++n % 2000 === 0) await new Promise<void>((r) => setImmediate(r));
      }
      if (pending === 0) return;
      // About 2 us a placeholder: keep the sweeps to a few percent of a core.
      await sleep(Math.min(2000, Math.max(25, pending * 0.05)), signal);
    }
  }

  /** A reader opened a placeholder before its file arrived: swap in a fresh placeholder for later readers, then stream the object. */
  private async serve(slot: Slot, fd: number): Promise<void> {
    slot.serving = true;
    try {
      // Always, even when the file is about to arrive: the rename that follows must retire the fresh one, not this one.
      await this.locked(slot, async () => {
        const fresh = path.join(this.opts.stagingDir, `fifo-${this.seq++}`);
        await mkfifo([fresh]);
        await fsp.rename(fresh, slot.final);
      });
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    } finally {
      slot.serving = false;
    }
    this.opts.log.info({ ...this.opts.fields, file: slot.object.relativePath }, 'FastFile: streaming a file opened before it arrived');
    await this.stream(fd, () => this.opts.transfer.openRead(slot.object.uri), slot);
  }

  private async stream(fd: number, open: () => Promise<Readable> | Readable, slot: Slot): Promise<void> {
    const { end, bytes } = await feedEpoch(fd, async (out, signal) => writeEpoch([{ kind: 'object', uri: slot.object.uri }], { gzip: false, recordIO: false, open: async () => open(), size: async () => slot.object.size }, out, signal), this.signal);
    if (end === 'complete' && bytes !== slot.object.size) {
      throw new DataSourceError(slot.object.uri, `${slot.object.uri} changed while it was streamed: expected ${slot.object.size} bytes, read ${bytes}`);
    }
  }

  private track(p: Promise<void>): void {
    const tracked = p.catch((err) => void (this.failure ??= err)).finally(() => this.servings.delete(tracked));
    this.servings.add(tracked);
  }

  private locked(slot: Slot, op: () => Promise<void>): Promise<void> {
    const next = slot.lock.then(op);
    slot.lock = next.catch(() => undefined);
    return next;
  }
}

function safeJoin(root: string, o: SourceObject): string {
  const rel = o.relativePath;
  const dest = path.resolve(root, rel);
  if (rel === '' || rel.includes('\0') || path.isAbsolute(rel) || !dest.startsWith(root + path.sep)) {
    throw new DataSourceError(o.uri, `${o.uri} cannot be placed in the channel directory: '${rel}' would land outside it`);
  }
  return dest;
}

function asDataError(err: unknown): unknown {
  if (err instanceof DataSourceError) return err;
  const uri = (err as { uri?: string }).uri ?? '';
  return new DataSourceError(uri, `FastFile download failed: ${(err as Error)?.message ?? String(err)}`);
}
