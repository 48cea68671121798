import { createReadStream, createWriteStream } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidRangeError, NoSuchObjectError } from './errors';
import { walkTree } from './fs-tree';
import { lstatOrUndefined, siblingTemp, statOrUndefined } from './fs-util';

export interface FileEntry {
  path: string;
  /** Below the listed directory ('/'-separated); a listed file yields its basename. */
  relativePath: string;
  size: number;
}

/**
 * `file://` locations (SageMaker local mode): reads and writes straight on the
 * host file system. There is no bucket and no prefix matching: a path names a
 * file or a directory. Writes are atomic (a hidden sibling, then rename).
 * Symbolic links below a listed directory are not followed.
 */
export class FileStore {
  async *list(p: string): AsyncIterable<FileEntry> {
    const st = await statOrUndefined(p);
    if (st?.isFile()) {
      yield { path: p, relativePath: path.basename(p), size: st.size };
    } else if (st?.isDirectory()) {
      for await (const f of walkTree(p)) yield { path: f.absolutePath, relativePath: f.relativePath, size: f.size };
    }
  }

  /** Regular files only (a link to a file counts: the path was named explicitly). */
  async stat(p: string): Promise<{ size: number } | undefined> {
    const st = await statOrUndefined(p);
    return st?.isFile() ? { size: st.size } : undefined;
  }

  async exists(p: string): Promise<boolean> {
    return (await lstatOrUndefined(p)) !== undefined;
  }

  async openRead(p: string, range?: { start: number; end?: number }): Promise<Readable> {
    const st = await this.stat(p);
    if (!st) throw new NoSuchObjectError('', p);
    if (!range) return createReadStream(p);
    if (range.start >= st.size) throw new InvalidRangeError('', p, range.start, st.size);
    return createReadStream(p, { start: range.start, end: Math.min(range.end ?? st.size - 1, st.size - 1) });
  }

  async write(p: string, body: Readable | Buffer | string): Promise<void> {
    await this.atomically(p, (tmp) =>
      typeof body === 'string' || Buffer.isBuffer(body) ? fsp.writeFile(tmp, body) : pipeline(body, createWriteStream(tmp)),
    );
  }

  async copyIn(source: string, dest: string): Promise<void> {
    await this.atomically(dest, (tmp) => fsp.copyFile(source, tmp));
  }

  private async atomically(dest: string, fill: (tmp: string) => Promise<void>): Promise<void> {
    await fsp.mkdir(path.dirname(dest), { recursive: true });
    const tmp = siblingTemp(dest);
    try {
      await fill(tmp);
      await fsp.rename(tmp, dest);
    } finally {
      await fsp.rm(tmp, { force: true });
    }
  }
}
