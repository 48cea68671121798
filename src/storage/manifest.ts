import * as path from 'node:path';
import { DataSourceError } from './errors';

/**
 * A SageMaker manifest file: `[{"prefix": "s3://bucket/p/"}, "rel/1", "rel/2", ...]`.
 * Each entry is appended to the prefix as is (no '/' added) and, on download,
 * becomes the path of the file below the channel directory.
 */
export interface Manifest {
  prefix: string;
  entries: string[];
}

export function parseManifest(text: string, manifestUri: string): Manifest {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new DataSourceError(manifestUri, `The manifest file ${manifestUri} is not valid JSON: ${(err as Error).message}`);
  }
  const shape = 'expected a JSON array whose first element is {"prefix": "s3://bucket/prefix/"} followed by relative paths';
  if (!Array.isArray(doc) || doc.length === 0) throw new DataSourceError(manifestUri, `The manifest file ${manifestUri} is not usable: ${shape}`);
  const [head, ...rest] = doc as unknown[];
  const prefix = typeof head === 'object' && head !== null ? (head as { prefix?: unknown }).prefix : undefined;
  if (typeof prefix !== 'string' || prefix === '') {
    throw new DataSourceError(manifestUri, `The manifest file ${manifestUri} has no prefix: ${shape}`);
  }
  const entries = rest.map((entry, i) => {
    const where = `entry ${i + 1} of the manifest file ${manifestUri}`;
    if (typeof entry !== 'string' || entry === '') throw new DataSourceError(manifestUri, `The ${where} is not a non-empty string`);
    if (entry.startsWith('/') || entry.split('/').includes('..') || entry.includes('\0')) {
      throw new DataSourceError(manifestUri, `The ${where} (${JSON.stringify(entry)}) must be a relative path without '..'`);
    }
    if (entry.endsWith('/') || path.posix.normalize(entry) === '.') {
      throw new DataSourceError(manifestUri, `The ${where} (${JSON.stringify(entry)}) names a folder, not an object`);
    }
    return entry;
  });
  return { prefix, entries };
}
