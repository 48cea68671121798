import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { compareKeys } from './keys';

export interface TreeFile {
  /** '/'-separated path below the walked root. */
  relativePath: string;
  absolutePath: string;
  size: number;
}

export interface WalkTreeOptions {
  /** Default false: links are reported through onSymlink and not entered. */
  followSymlinks?: boolean;
  onSymlink?: (relativePath: string) => void;
}

/**
 * Every regular file below `root`, in S3 key order of the relative paths (a
 * directory sorts as `name/`). Without followSymlinks, links are skipped; with
 * it, a link that leads back into a directory being walked is skipped too.
 */
export async function* walkTree(root: string, opts: WalkTreeOptions = {}): AsyncGenerator<TreeFile> {
  const realRoot = await fsp.realpath(root);
  yield* walkDir(root, '', opts, new Set([realRoot]));
}

async function* walkDir(dir: string, relDir: string, opts: WalkTreeOptions, ancestors: Set<string>): AsyncGenerator<TreeFile> {
  const entries = await fsp.readdir(dir, { withFileTypes: true });
  const items: { sortKey: string; rel: string; abs: string; isDir: boolean }[] = [];
  for (const e of entries) {
    const abs = path.join(dir, e.name);
    const rel = relDir + e.name;
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      const target = opts.followSymlinks ? await fsp.stat(abs).catch(() => undefined) : undefined;
      if (!target) {
        opts.onSymlink?.(rel);
        continue;
      }
      isDir = target.isDirectory();
      isFile = target.isFile();
    }
    if (isDir) items.push({ sortKey: `${e.name}/`, rel, abs, isDir });
    else if (isFile) items.push({ sortKey: e.name, rel, abs, isDir });
  }
  items.sort((a, b) => compareKeys(a.sortKey, b.sortKey));
  for (const item of items) {
    if (item.isDir) {
      const real = await fsp.realpath(item.abs);
      if (ancestors.has(real)) {
        opts.onSymlink?.(item.rel);
        continue;
      }
      ancestors.add(real);
      yield* walkDir(item.abs, `${item.rel}/`, opts, ancestors);
      ancestors.delete(real);
    } else {
      const st = await fsp.stat(item.abs);
      yield { relativePath: item.rel, absolutePath: item.abs, size: st.size };
    }
  }
}
