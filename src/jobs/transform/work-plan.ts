/**
 * Which input object each instance transforms and where its output goes,
 * and how far the job got, all in the job's work directory so that a restart
 * resumes exactly where the last run stopped:
 *
 *   plan.json          every input object: host, input URI, output URI
 *   out/<i>.out        the finished output of object i (renamed into place whole)
 *   out/<i>.md5        its MD5 (hex), written first, when it was hashed on the way
 *   failed/<i>.json    why object i failed
 *   tmp/               outputs being written (discarded on resume)
 *
 * An object is done when out/<i>.out exists; it is redone otherwise. Outputs
 * are uploaded by finalize, so a stopped job stores nothing.
 */
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { SourceObject } from '../../storage/transfer';
import { compareKeys } from '../../storage/keys';
import { PlatformError } from '../engine/types';

export interface PlanItem {
  index: number;
  host: string;
  uri: string;
  /** The object's key relative to the input prefix (or its manifest entry). */
  relativePath: string;
  size: number;
  outUri: string;
}

export interface WorkPlan {
  items: PlanItem[];
}

/** The output location of an object: S3OutputPath + '/' + relative path + '.out'. */
export function outputUriOf(outputPath: string, relativePath: string): string {
  return `${outputPath.replace(/\/+$/, '')}/${relativePath.replace(/^\/+/, '')}.out`;
}

/**
 * Objects sorted by key and dealt round-robin over the hosts (one object
 * never spans instances).
 */
export function buildPlan(objects: readonly SourceObject[], hosts: readonly string[], outputPath: string): WorkPlan {
  const sorted = [...objects].sort((a, b) => compareKeys(a.key, b.key) || compareKeys(a.uri, b.uri));
  const items = sorted.map((o, index) => ({ index, host: hosts[index % hosts.length]!, uri: o.uri, relativePath: o.relativePath, size: o.size, outUri: outputUriOf(outputPath, o.relativePath) }));
  const seen = new Map<string, string>();
  for (const it of items) {
    const other = seen.get(it.outUri);
    if (other) throw new PlatformError(`The input objects ${other} and ${it.uri} would both be written to ${it.outUri}`);
    seen.set(it.outUri, it.uri);
  }
  return { items };
}

export class PlanFiles {
  constructor(readonly workDir: string) {}

  private get planFile(): string {
    return path.join(this.workDir, 'plan.json');
  }

  outFile(i: number): string {
    return path.join(this.workDir, 'out', `${i}.out`);
  }

  private failedFile(i: number): string {
    return path.join(this.workDir, 'failed', `${i}.json`);
  }

  async write(plan: WorkPlan): Promise<void> {
    for (const d of ['out', 'failed', 'tmp']) await fsp.mkdir(path.join(this.workDir, d), { recursive: true });
    const tmp = `${this.planFile}.tmp`;
    await fsp.writeFile(tmp, JSON.stringify(plan));
    await fsp.rename(tmp, this.planFile);
  }

  /** The plan, or undefined when preparing never got that far. */
  async read(): Promise<WorkPlan | undefined> {
    try {
      return JSON.parse(await fsp.readFile(this.planFile, 'utf8')) as WorkPlan;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Outputs half-written by a previous run are discarded. */
  async resetTmp(): Promise<void> {
    const dir = path.join(this.workDir, 'tmp');
    await fsp.rm(dir, { recursive: true, force: true });
    await fsp.mkdir(dir, { recursive: true });
  }

  tmpFile(i: number): string {
    return path.join(this.workDir, 'tmp', `${i}.${randomBytes(4).toString('hex')}.part`);
  }

  /** Puts a finished output in place; its MD5 goes first, so an output in place has its MD5 or none. */
  async commit(i: number, tmp: string, md5?: Buffer): Promise<void> {
    const sum = this.md5File(i);
    if (md5) await fsp.writeFile(sum, md5.toString('hex'));
    else await fsp.rm(sum, { force: true });
    await fsp.rename(tmp, this.outFile(i));
  }

  private md5File(i: number): string {
    return path.join(this.workDir, 'out', `${i}.md5`);
  }

  /** The MD5 recorded with a finished output, if any. */
  async md5(i: number): Promise<Buffer | undefined> {
    const hex = await fsp.readFile(this.md5File(i), 'utf8').catch(() => '');
    return /^[0-9a-f]{32}$/.test(hex) ? Buffer.from(hex, 'hex') : undefined;
  }

  async isDone(i: number): Promise<boolean> {
    return fsp.stat(this.outFile(i)).then(() => true, () => false);
  }

  async markFailed(i: number, reason: string): Promise<void> {
    const file = this.failedFile(i);
    await fsp.writeFile(`${file}.tmp`, JSON.stringify({ reason }));
    await fsp.rename(`${file}.tmp`, file);
  }

  /** Forgets every recorded object failure (a resumed run tries those objects again). Returns how many there were. */
  async clearFailures(): Promise<number> {
    const dir = path.join(this.workDir, 'failed');
    const names = await fsp.readdir(dir).catch(() => [] as string[]);
    await fsp.rm(dir, { recursive: true, force: true });
    await fsp.mkdir(dir, { recursive: true });
    return names.filter((n) => n.endsWith('.json')).length;
  }

  async failure(i: number): Promise<string | undefined> {
    try {
      return (JSON.parse(await fsp.readFile(this.failedFile(i), 'utf8')) as { reason: string }).reason;
    } catch {
      return undefined;
    }
  }
}
