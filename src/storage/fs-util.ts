import { randomUUID } from 'node:crypto';
import type { Stats } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

/** A hidden temporary name beside `filePath`, for write-then-rename. */
export function siblingTemp(filePath: string): string {
  return path.join(path.dirname(filePath), `.${path.basename(filePath)}.sagebox-partial-${randomUUID().slice(0, 8)}`);
}

export async function statOrUndefined(p: string): Promise<Stats | undefined> {
  return fsp.stat(p).catch(() => undefined);
}

export async function lstatOrUndefined(p: string): Promise<Stats | undefined> {
  return fsp.lstat(p).catch(() => undefined);
}

export function errCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}
