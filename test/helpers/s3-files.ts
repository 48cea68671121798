/**
 * Files for the S3 suites: random content of a given size, SHA-256 of a
 * file, and small trees of many files.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

/** Writes `bytes` random bytes to `file`; resolves with their SHA-256 hex. */
export async function writeRandomFile(file: string, bytes: number): Promise<string> {
  const hash = createHash('sha256');
  const fh = await fsp.open(file, 'w');
  try {
    const block = 8 * 1024 * 1024;
    for (let done = 0; done < bytes; done += block) {
      const chunk = randomBytes(Math.min(block, bytes - done));
      hash.update(chunk);
      await fh.write(chunk);
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Creates `count` small files spread over nested directories; returns their relative paths. */
export async function writeTree(root: string, count: number): Promise<string[]> {
  const rels: string[] = [];
  for (let i = 0; i < count; i++) {
    const rel = path.posix.join(`d${i % 10}`, `e${Math.floor(i / 10) % 20}`, `file-${i}.txt`);
    rels.push(rel);
  }
  const dirs = new Set(rels.map((r) => path.dirname(path.join(root, r))));
  await Promise.all([...dirs].map((d) => fsp.mkdir(d, { recursive: true })));
  for (let i = 0; i < rels.length; i += 200) {
    await Promise.all(rels.slice(i, i + 200).map((rel, j) => fsp.writeFile(path.join(root, rel), `content of file ${i + j}: ${'x'.repeat((i + j) % 97)}\n`)));
  }
  return rels.sort();
}

/** Every file below `root`, as sorted '/'-separated relative paths. */
export async function listTree(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string): Promise<void> {
    for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push(path.relative(root, p).split(path.sep).join('/'));
    }
  }
  await walk(root);
  return out.sort();
}
