import { createReadStream, type Stats } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { UnsafeArchiveEntryError } from './errors';
import { siblingTemp } from './fs-util';
import { compareKeys } from './keys';

/**
 * Packs the contents of `dir` (model.tar.gz, output.tar.gz). Entries are
 * relative to `dir` with no leading folder and no './' (what the SageMaker SDK
 * expects). Symbolic links are stored as links. An empty directory still
 * yields a valid, empty archive. The file appears atomically.
 */
export async function packTarGz(dir: string, destFile: string): Promise<{ entries: number; bytes: number }> {
  const root = path.resolve(dir);
  const dest = path.resolve(destFile);
  if (dest.startsWith(root + path.sep)) throw new Error(`Cannot write ${dest} inside the directory it packs (${root})`);
  const names = (await fsp.readdir(root)).sort(compareKeys);
  await fsp.mkdir(path.dirname(dest), { recursive: true });
  const tmp = siblingTemp(dest);
  let entries = 0;
  try {
    if (names.length === 0) {
      // An empty tar is two zero blocks; tar.c refuses an empty file list.
      await fsp.writeFile(tmp, gzipSync(Buffer.alloc(1024)));
    } else {
      await tar.c({ gzip: true, cwd: root, file: tmp, portable: true, onWriteEntry: () => void entries++ }, names);
    }
    await fsp.rename(tmp, dest);
  } finally {
    await fsp.rm(tmp, { force: true });
  }
  const { size } = await fsp.stat(dest);
  return { entries, bytes: size };
}

/**
 * Extracts a tar (gzip detected) into `destDir`. Refuses, with
 * UnsafeArchiveEntryError and before writing that entry: absolute paths, `..`
 * segments, links whose target resolves outside `destDir`, and entries other
 * than files, directories and links. Owners are not restored.
 */
export async function extractTarGz(source: string | Readable, destDir: string): Promise<{ entries: number }> {
  const cwd = path.resolve(destDir);
  await fsp.mkdir(cwd, { recursive: true });
  const input = typeof source === 'string' ? createReadStream(source) : source;
  let entries = 0;
  const unpack: tar.Unpack = new tar.Unpack({
    cwd,
    strict: true,
    preserveOwner: false,
    // gzip cannot exceed ~1032:1, so this never stops a gzip archive of zeros; it still caps brotli/zstd bombs.
    maxDecompressionRatio: 2000,
    filter: (entryPath: string, entry: tar.ReadEntry | Stats) => {
      const problem = 'type' in entry ? unsafeReason(entryPath, entry) : undefined;
      if (problem) {
        unpack.abort(new UnsafeArchiveEntryError(entryPath, problem));
        return false;
      }
      entries++;
      return true;
    },
  });
  let sawEnd = false;
  unpack.on('eof', () => (sawEnd = true));
  await new Promise<void>((resolve, reject) => {
    const fail = (err: unknown): void => {
      // node-tar's strict mode calls an archive with no entries "unrecognized"; SageMaker's
      // own empty model.tar.gz is such an archive, and its end-of-archive blocks were read.
      if (entries === 0 && sawEnd && (err as { code?: string }).code === 'TAR_BAD_ARCHIVE') return resolve();
      input.unpipe();
      input.destroy();
      reject(err);
    };
    unpack.on('error', fail);
    unpack.on('close', () => resolve());
    input.on('error', fail);
    input.pipe(unpack as unknown as NodeJS.WritableStream);
  });
  return { entries };
}

const ALLOWED_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'GNUDumpDir', 'SymbolicLink', 'Link']);

function unsafeReason(entryPath: string, entry: tar.ReadEntry): string | undefined {
  if (!ALLOWED_TYPES.has(entry.type)) return `entry type ${entry.type} is not extracted (only files, directories and links)`;
  if (path.posix.isAbsolute(entryPath) || /^[a-zA-Z]:/.test(entryPath)) return 'absolute path';
  if (entryPath.split('/').includes('..')) return "path contains '..'";
  const link = entry.linkpath === undefined ? undefined : String(entry.linkpath);
  if (entry.type === 'SymbolicLink' && link !== undefined) {
    if (path.posix.isAbsolute(link)) return `symbolic link to the absolute path ${link}`;
    if (escapes(path.posix.join(path.posix.dirname(entryPath), link))) return `symbolic link to ${link} points outside the destination`;
  }
  // Hard link targets are relative to the archive root.
  if (entry.type === 'Link' && link !== undefined && (path.posix.isAbsolute(link) || escapes(link))) {
    return `hard link to ${link} points outside the destination`;
  }
  return undefined;
}

function escapes(relative: string): boolean {
  const normalized = path.posix.normalize(relative);
  return normalized === '..' || normalized.startsWith('../');
}
