/**
 * Walking the local store's directory tree in S3 listing order. Shared by
 * `LocalObjectStore.list` (every key under a prefix) and the S3 API's paged
 * listings (start after a key, roll directories up into common prefixes).
 */
import type { Stats } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { errCode, lstatOrUndefined } from './fs-util';
import { compareKeys } from './keys';

/** Key segments starting with this are the store's own (staging, markers). */
export const RESERVED = '.sagebox-';
/** A folder marker `dir/name/` is the file `dir/.sagebox-folder.name`. */
export const MARKER = '.sagebox-folder.';
export const STAGING_DIR = '.sagebox-tmp';
/** Parts of multipart uploads in progress: `<root>/.sagebox-uploads/<upload id>/<part number>`. */
export const UPLOADS_DIR = '.sagebox-uploads';

/** A file found by the walk. */
export interface WalkedFile {
  key: string;
  path: string;
  st: Stats;
}
/** A directory rolled up whole (delimiter '/'): its key, ending in '/'. */
export interface WalkedPrefix {
  commonPrefix: string;
}

export interface WalkOptions {
  /** Only keys after this one (S3 byte order). */
  startAfter?: string;
  /**
   * Roll the directories (and folder markers) at the prefix's own level up
   * into common prefixes instead of descending: ListObjects with delimiter '/'.
   */
  rollUp?: boolean;
}

interface Item {
  sortKey: string;
  key: string;
  kind: 'file' | 'marker' | 'dir';
  path: string;
}

const after = (key: string, startAfter: string | undefined): boolean => startAfter === undefined || compareKeys(key, startAfter) > 0;

/**
 * Depth-first in S3 byte order: a directory sorts as `name/` and a marker as
 * `name/` just before it, so `a-b` (0x2d) comes before everything under `a/` (0x2f).
 */
export async function* walk(dir: string, keyPrefix: string, prefix: string, opts: WalkOptions = {}, top = true): AsyncGenerator<WalkedFile | WalkedPrefix> {
  const items = await readItems(dir, keyPrefix);
  const { startAfter } = opts;
  let lastPrefix: string | undefined;
  for (const item of items) {
    if (top && opts.rollUp && item.kind !== 'file' && item.key.startsWith(prefix)) {
      // The whole directory is one common prefix; a marker names the same one.
      if (item.key === lastPrefix || !after(item.key, startAfter)) continue;
      if (item.kind === 'dir' && !(await hasObjects(item.path))) continue;
      lastPrefix = item.key;
      yield { commonPrefix: item.key };
    } else if (item.kind === 'dir') {
      if (!(item.key.startsWith(prefix) || prefix.startsWith(item.key))) continue;
      // Everything below `d/` sorts before startAfter unless startAfter is itself below `d/`.
      if (!after(item.key, startAfter) && !startAfter!.startsWith(item.key)) continue;
      yield* walk(item.path, item.key, prefix, opts, false);
    } else if (item.key.startsWith(prefix) && after(item.key, startAfter)) {
      const st = await lstatOrUndefined(item.path);
      if (st?.isFile()) yield { key: item.key, path: item.path, st };
    }
  }
}

async function readItems(dir: string, keyPrefix: string): Promise<Item[]> {
  let entries;
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (errCode(err) === 'ENOENT' || errCode(err) === 'ENOTDIR') return [];
    throw err;
  }
  const items: Item[] = [];
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.name.startsWith(RESERVED)) {
      if (e.isFile() && e.name.startsWith(MARKER) && e.name.length > MARKER.length) {
        const name = e.name.slice(MARKER.length);
        items.push({ sortKey: `${name}/`, key: `${keyPrefix}${name}/`, kind: 'marker', path: p });
      }
    } else if (e.isFile()) {
      items.push({ sortKey: e.name, key: keyPrefix + e.name, kind: 'file', path: p });
    } else if (e.isDirectory()) {
      items.push({ sortKey: `${e.name}/`, key: `${keyPrefix}${e.name}/`, kind: 'dir', path: p });
    }
    // Symbolic links, sockets, devices: not objects.
  }
  items.sort((a, b) => compareKeys(a.sortKey, b.sortKey) || (a.kind === 'marker' ? -1 : b.kind === 'marker' ? 1 : 0));
  return items;
}

/** True when a directory holds at least one object (file or folder marker), at any depth. */
export async function hasObjects(dir: string): Promise<boolean> {
  for (const item of await readItems(dir, '')) {
    if (item.kind !== 'dir') return true;
    if (await hasObjects(item.path)) return true;
  }
  return false;
}

/** True when `dir` is a directory reached from `bucketDir` without passing a symbolic link. */
export async function isRealDirBelow(bucketDir: string, dir: string): Promise<boolean> {
  if (dir === bucketDir) return true;
  try {
    const [realBucket, realDir] = await Promise.all([fsp.realpath(bucketDir), fsp.realpath(dir)]);
    return realDir === path.join(realBucket, path.relative(bucketDir, dir));
  } catch {
    return false;
  }
}
