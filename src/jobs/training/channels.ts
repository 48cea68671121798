/**
 * File-mode channels (spec 1.4): the objects of each channel are copied into
 * /opt/ml/input/data/<channel>/ of every host that receives the channel,
 * keeping the key structure below the prefix (or the manifest's relative
 * paths). FullyReplicated channels are downloaded once and hard-linked into
 * the other hosts; ShardedByS3Key deals the objects out among the receiving
 * hosts. S3DataSource.InstanceGroupNames limits the receiving hosts.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { StorageError } from '../../storage/errors';
import type { DataTransfer, S3DataType } from '../../storage/transfer';
import { channelInputMode, type ClusterHost } from '../../contract/training-config';
import { PlatformError } from '../engine/types';
import type { TrainingRequest } from './describe';

export type Channel = NonNullable<TrainingRequest['InputDataConfig']>[number];

/** The hosts a channel goes to: all of them, or those of its InstanceGroupNames. */
export function receivingHosts(ch: Channel, cluster: readonly ClusterHost[]): ClusterHost[] {
  const groups = ch.DataSource?.S3DataSource?.InstanceGroupNames;
  return groups?.length ? cluster.filter((h) => groups.includes(h.groupName)) : [...cluster];
}

/** Downloads every channel into `<dataDirOf(host)>/<channel>/`. Data problems become PlatformError (ClientError). */
export async function stageChannels(
  transfer: DataTransfer,
  req: TrainingRequest,
  cluster: readonly ClusterHost[],
  dataDirOf: (host: string) => string,
): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const ch of req.InputDataConfig ?? []) {
    const s3 = ch.DataSource?.S3DataSource;
    const name = ch.ChannelName!;
    if (!s3 || channelInputMode(req, ch) !== 'File') continue; // Pipe and FastFile: streamed-channels.ts
    const hosts = receivingHosts(ch, cluster);
    try {
      const objects = await transfer.listSource({ uri: s3.S3Uri!, dataType: s3.S3DataType as S3DataType });
      const sharded = s3.S3DataDistributionType === 'ShardedByS3Key';
      let first: string | undefined;
      for (const [i, h] of hosts.entries()) {
        const dest = path.join(dataDirOf(h.host), name);
        if (!sharded && first) {
          await cloneTree(first, dest);
          continue;
        }
        const mine = sharded ? transfer.shard(objects, i, hosts.length) : objects;
        await fsp.mkdir(dest, { recursive: true });
        const stats = await transfer.download(mine, dest);
        files += stats.files;
        bytes += stats.bytes;
        first = dest;
      }
    } catch (err) {
      if (err instanceof StorageError) throw new PlatformError(`Data download failed for channel '${name}': ${err.message}`);
      throw err;
    }
  }
  return { files, bytes };
}

/** A copy of a tree made of hard links (a plain copy across file systems). */
export async function cloneTree(src: string, dest: string): Promise<void> {
  await fsp.mkdir(dest, { recursive: true });
  for (const e of await fsp.readdir(src, { withFileTypes: true })) {
    const from = path.join(src, e.name);
    const to = path.join(dest, e.name);
    if (e.isDirectory()) await cloneTree(from, to);
    else if (e.isFile()) {
      try {
        await fsp.link(from, to);
      } catch {
        await fsp.copyFile(from, to);
      }
    }
  }
}
