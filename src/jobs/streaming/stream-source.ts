/**
 * What a streamed channel (Pipe mode) or input sends: the records of its
 * data source, and which of them one host gets in one epoch.
 *
 * - S3Prefix / ManifestFile: one record per object, in listing order (key
 *   order for a prefix, manifest order for a manifest).
 * - AugmentedManifestFile: one record per JSON line, made of the line's
 *   AttributeNames values in that order: an attribute whose name ends in
 *   `-ref` holds an object URI whose bytes are sent; any other value is sent
 *   as its text (a string as is, anything else as JSON).
 * - ShuffleConfig: each epoch has its own order (shuffle.ts).
 * - ShardedByS3Key: the records are dealt round-robin among the receiving
 *   hosts: key order without a shuffle (as File mode), the epoch's shuffled
 *   order with one (so records move between hosts from epoch to epoch).
 */
import * as fsp from 'node:fs/promises';
import { buffer } from 'node:stream/consumers';
import { DataSourceError, NoSuchBucketError, NoSuchObjectError } from '../../storage/errors';
import type { ObjectStore } from '../../storage/object-store';
import type { DataTransfer, SourceObject } from '../../storage/transfer';
import { parseUri } from '../../storage/uri';
import type { Part } from './epoch-stream';
import { shuffled } from './shuffle';

export type StreamDataType = 'S3Prefix' | 'ManifestFile' | 'AugmentedManifestFile';

export interface StreamSpec {
  uri: string;
  dataType: StreamDataType;
  /** AugmentedManifestFile only. */
  attributeNames?: string[];
  /** ShuffleConfig.Seed. */
  shuffleSeed?: number;
  sharded: boolean;
}

export class StreamSource {
  private constructor(
    private readonly transfer: DataTransfer,
    readonly spec: StreamSpec,
    private readonly objects: SourceObject[],
    private readonly lines: string[],
  ) {}

  /** Lists the objects (or reads the augmented manifest). Throws DataSourceError for a source that cannot be used. */
  static async load(transfer: DataTransfer, spec: StreamSpec): Promise<StreamSource> {
    if (spec.dataType === 'AugmentedManifestFile') {
      return new StreamSource(transfer, spec, [], await readAugmentedManifest(transfer, spec.uri, spec.attributeNames ?? []));
    }
    return new StreamSource(transfer, spec, await transfer.listSource({ uri: spec.uri, dataType: spec.dataType }), []);
  }

  /** How many records the whole source has (every host together). */
  get records(): number {
    return this.spec.dataType === 'AugmentedManifestFile' ? this.lines.length : this.objects.length;
  }

  /** The parts host `hostIndex` (0-based) of `hostCount` sends in `epoch`. */
  parts(epoch: number, hostIndex: number, hostCount: number): Iterable<Part> {
    const { spec } = this;
    if (spec.dataType === 'AugmentedManifestFile') {
      let lines = spec.shuffleSeed !== undefined ? shuffled(this.lines, spec.shuffleSeed, epoch) : this.lines;
      if (spec.sharded) lines = lines.filter((_, i) => i % hostCount === hostIndex);
      return augmentedParts(lines, spec.attributeNames ?? []);
    }
    let objects: SourceObject[];
    if (spec.shuffleSeed !== undefined) {
      objects = shuffled(this.transfer.shard(this.objects, 0, 1), spec.shuffleSeed, epoch);
      if (spec.sharded) objects = objects.filter((_, i) => i % hostCount === hostIndex);
    } else objects = spec.sharded ? this.transfer.shard(this.objects, hostIndex, hostCount) : this.objects;
    return objects.map((o) => ({ kind: 'object', uri: o.uri, size: o.size }));
  }
}

function* augmentedParts(lines: readonly string[], names: readonly string[]): Iterable<Part> {
  for (const line of lines) {
    const doc = JSON.parse(line) as Record<string, unknown>;
    for (const name of names) {
      const v = doc[name];
      if (name.endsWith('-ref')) yield { kind: 'object', uri: v as string };
      else yield { kind: 'bytes', data: Buffer.from(typeof v === 'string' ? v : JSON.stringify(v), 'utf8') };
    }
  }
}

/** The manifest's non-blank lines, each checked: a JSON object with every attribute, `-ref` values being URIs. */
async function readAugmentedManifest(transfer: DataTransfer, uri: string, names: readonly string[]): Promise<string[]> {
  let text: string;
  try {
    text = (await buffer(await transfer.openRead(uri))).toString('utf8');
  } catch (err) {
    if (err instanceof NoSuchObjectError || err instanceof NoSuchBucketError) throw new DataSourceError(uri, `The augmented manifest file ${uri} does not exist`);
    throw err;
  }
  const lines: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const where = `Line ${i + 1} of the augmented manifest file ${uri}`;
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch (err) {
      throw new DataSourceError(uri, `${where} is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new DataSourceError(uri, `${where} is not a JSON object`);
    for (const name of names) {
      const v = (doc as Record<string, unknown>)[name];
      if (v === undefined) throw new DataSourceError(uri, `${where} has no attribute '${name}' (AttributeNames)`);
      if (name.endsWith('-ref')) {
        if (typeof v !== 'string') throw new DataSourceError(uri, `${where}: '${name}' must be an S3 URI string`);
        try {
          parseUri(v);
        } catch (err) {
          throw new DataSourceError(uri, `${where}: '${name}' is not a valid URI: ${(err as Error).message}`);
        }
      }
    }
    lines.push(line);
  });
  if (lines.length === 0) throw new DataSourceError(uri, `The augmented manifest file ${uri} has no lines`);
  return lines;
}

/** An object's size by URI (RecordIO needs it before the bytes); NoSuchObjectError when missing. */
export function sizeOfUri(store: ObjectStore): (uri: string) => Promise<number> {
  return async (uri) => {
    const target = parseUri(uri);
    if (target.scheme === 'file') {
      const st = await fsp.stat(target.path).catch(() => undefined);
      if (!st?.isFile()) throw new NoSuchObjectError('', target.path);
      return st.size;
    }
    const info = await store.head(target.bucket, target.key);
    if (!info) throw new NoSuchObjectError(target.bucket, target.key);
    return info.size;
  };
}
