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
import { buffer } from 'node:stream/consumers';
import { DataSourceError, NoSuchBucketError, NoSuchObjectError } from '../../storage/errors';
import { sortedByKey, type DataTransfer } from '../../storage/transfer';
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
    readonly spec: StreamSpec,
    /** Each record's parts, in the order an epoch shuffles or deals out. */
    private readonly recordParts: readonly (readonly Part[])[],
  ) {}

  /** Lists the objects (or reads the augmented manifest). Throws DataSourceError for a source that cannot be used. */
  static async load(transfer: DataTransfer, spec: StreamSpec): Promise<StreamSource> {
    if (spec.dataType === 'AugmentedManifestFile') {
      return new StreamSource(spec, await readAugmentedManifest(transfer, spec.uri, spec.attributeNames ?? []));
    }
    const listed = await transfer.listSource({ uri: spec.uri, dataType: spec.dataType });
    // Listing order as it is; key order when records are dealt to hosts or shuffled.
    const objects = spec.sharded || spec.shuffleSeed !== undefined ? sortedByKey(listed) : listed;
    return new StreamSource(spec, objects.map((o) => [{ kind: 'object', uri: o.uri, size: o.size }]));
  }

  /** How many records the whole source has (every host together). */
  get records(): number {
    return this.recordParts.length;
  }

  /** The parts host `hostIndex` (0-based) of `hostCount` sends in `epoch`. */
  parts(epoch: number, hostIndex: number, hostCount: number): Iterable<Part> {
    const { spec } = this;
    let records = spec.shuffleSeed !== undefined ? shuffled(this.recordParts, spec.shuffleSeed, epoch) : this.recordParts;
    if (spec.sharded) records = records.filter((_, i) => i % hostCount === hostIndex);
    return records.flat();
  }
}

/**
 * The records of the manifest's non-blank lines, each line checked (a JSON object with every attribute,
 * `-ref` values being URIs): per line its AttributeNames values in that order, a `-ref` value as the
 * object it names, any other as its text (a string as is, anything else as JSON).
 */
async function readAugmentedManifest(transfer: DataTransfer, uri: string, names: readonly string[]): Promise<Part[][]> {
  let text: string;
  try {
    text = (await buffer(await transfer.openRead(uri))).toString('utf8');
  } catch (err) {
    if (err instanceof NoSuchObjectError || err instanceof NoSuchBucketError) throw new DataSourceError(uri, `The augmented manifest file ${uri} does not exist`);
    throw err;
  }
  const records: Part[][] = [];
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
    const parts: Part[] = [];
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
        parts.push({ kind: 'object', uri: v });
      } else parts.push({ kind: 'bytes', data: Buffer.from(typeof v === 'string' ? v : JSON.stringify(v), 'utf8') });
    }
    records.push(parts);
  });
  if (records.length === 0) throw new DataSourceError(uri, `The augmented manifest file ${uri} has no lines`);
  return records;
}
