/**
 * Training channels that are not copied before the start (docs/pipe-mode.md):
 * - Pipe: FIFOs `/opt/ml/input/data/<channel>_<epoch>`, fed while the
 *   container runs (src/jobs/streaming/pipe-feeder.ts);
 * - FastFile: `/opt/ml/input/data/<channel>/`, read-only, complete listing
 *   from the start, files filled in while the container runs
 *   (src/jobs/streaming/fastfile.ts).
 * prepare() runs before the containers start (checks every source, so a
 * missing prefix fails the job before it starts, and creates epoch 0's FIFOs
 * and the FastFile trees); run() is part of the job's duringRun.
 */
import * as path from 'node:path';
import type { AppContext } from '../../app/context';
import { channelInputMode, type ClusterHost } from '../../contract/training-config';
import { TRAINING } from '../../contract/paths';
import type { Mount } from '../../runtime/container-runtime';
import { writeEpoch } from '../streaming/epoch-stream';
import { FastFileChannel } from '../streaming/fastfile';
import { feedPipe, preparePipe } from '../streaming/pipe-feeder';
import { asPlatformError } from '../streaming/platform-error';
import { StreamSource, type StreamDataType } from '../streaming/stream-source';
import { receivingHosts, type Channel } from './channels';
import type { TrainingRequest } from './describe';

/** Where a host's channel data and sagebox's own per-host state live on the host. */
export interface HostPaths {
  /** Mounted at /opt/ml/input/data. */
  data: string;
  /** Not mounted: feeder state. */
  state: string;
}

interface Streamed {
  pipes: { channel: Channel; source: StreamSource; hosts: ClusterHost[] }[];
  fastFiles: { channel: Channel; feeder: FastFileChannel }[];
}

export class StreamedChannels {
  /** What prepare() listed, reused by run() in the same process (a resumed job lists again). */
  private readonly prepared = new Map<string, Streamed>();

  /** `paths` says where a host's directories are below a job's work directory. */
  constructor(
    private readonly ctx: AppContext,
    private readonly paths: (workDir: string, host: string) => HostPaths,
  ) {}

  private get log() {
    return this.ctx.logger.child({ component: 'training-input' });
  }

  /** The channels of a request read in Pipe or FastFile mode. */
  static channels(req: TrainingRequest, mode: 'Pipe' | 'FastFile'): Channel[] {
    return (req.InputDataConfig ?? []).filter((ch) => ch.DataSource?.S3DataSource && channelInputMode(req, ch) === mode);
  }

  async prepare(job: string, req: TrainingRequest, cluster: ClusterHost[], workDir: string): Promise<void> {
    const streamed = await this.load(job, req, cluster, workDir);
    for (const p of streamed.pipes) {
      for (const h of p.hosts) {
        const paths = this.paths(workDir, h.host);
        await preparePipe(paths.data, p.channel.ChannelName!, stateFile(paths, p.channel));
      }
    }
    for (const f of streamed.fastFiles) await guard(f.channel, () => f.feeder.prepare());
    this.prepared.set(job, streamed);
  }

  /** Drops what prepare() kept for a job whose run never came (it failed or was stopped before its start). */
  forget(job: string): void {
    this.prepared.delete(job);
  }

  /** Read-only mounts for the FastFile channels `host` receives (over the read-write /opt/ml/input). */
  mounts(req: TrainingRequest, cluster: ClusterHost[], host: string, workDir: string): Mount[] {
    const paths = this.paths(workDir, host);
    return StreamedChannels.channels(req, 'FastFile')
      .filter((ch) => receivingHosts(ch, cluster).some((h) => h.host === host))
      .map((ch) => ({ source: path.join(paths.data, ch.ChannelName!), target: `${TRAINING.dataDir}/${ch.ChannelName!}`, readOnly: true }));
  }

  /** Feeds every Pipe channel and fills every FastFile channel until `signal` aborts; rejects with a PlatformError when data cannot be delivered. */
  async run(job: string, req: TrainingRequest, cluster: ClusterHost[], workDir: string, signal: AbortSignal): Promise<void> {
    let streamed = this.prepared.get(job);
    this.prepared.delete(job);
    if (!streamed) {
      if (!StreamedChannels.channels(req, 'Pipe').length && !StreamedChannels.channels(req, 'FastFile').length) return;
      streamed = await this.load(job, req, cluster, workDir);
    }
    const open = (uri: string) => this.ctx.transfer.openRead(uri);
    const size = (uri: string) => this.ctx.transfer.sizeOf(uri);
    const runs: Promise<void>[] = [];
    for (const { channel, source, hosts } of streamed.pipes) {
      const name = channel.ChannelName!;
      const gzip = channel.CompressionType === 'Gzip';
      const recordIO = channel.RecordWrapperType === 'RecordIO';
      hosts.forEach((h, index) => {
        const paths = this.paths(workDir, h.host);
        const feeding = feedPipe(
          {
            dir: paths.data,
            name,
            stateFile: stateFile(paths, channel),
            write: (epoch, out, s) => writeEpoch(source.parts(epoch, index, hosts.length), { gzip, recordIO, open, size }, out, s),
            log: this.log,
            fields: { job, host: h.host, channel: name },
            label: `channel '${name}'`,
          },
          signal,
        );
        runs.push(guard(channel, () => feeding));
      });
    }
    for (const { channel, feeder } of streamed.fastFiles) runs.push(guard(channel, () => feeder.run(signal)));
    await Promise.all(runs);
  }

  private async load(job: string, req: TrainingRequest, cluster: ClusterHost[], workDir: string): Promise<Streamed> {
    const streamed: Streamed = { pipes: [], fastFiles: [] };
    for (const channel of StreamedChannels.channels(req, 'Pipe')) {
      const s3 = channel.DataSource!.S3DataSource!;
      const source = await guard(channel, () =>
        StreamSource.load(this.ctx.transfer, {
          uri: s3.S3Uri!,
          dataType: (s3.S3DataType ?? 'S3Prefix') as StreamDataType,
          attributeNames: s3.AttributeNames,
          shuffleSeed: channel.ShuffleConfig?.Seed,
          sharded: s3.S3DataDistributionType === 'ShardedByS3Key',
        }),
      );
      streamed.pipes.push({ channel, source, hosts: receivingHosts(channel, cluster) });
    }
    for (const channel of StreamedChannels.channels(req, 'FastFile')) {
      const s3 = channel.DataSource!.S3DataSource!;
      const name = channel.ChannelName!;
      const feeder = await guard(channel, async () => {
        const objects = await this.ctx.transfer.listSource({ uri: s3.S3Uri!, dataType: 'S3Prefix' });
        const hosts = receivingHosts(channel, cluster);
        const sharded = s3.S3DataDistributionType === 'ShardedByS3Key';
        return new FastFileChannel({
          transfer: this.ctx.transfer,
          stagingDir: path.join(workDir, '_fastfile', name),
          targets: hosts.map((h, i) => ({ host: h.host, dir: path.join(this.paths(workDir, h.host).data, name), objects: sharded ? this.ctx.transfer.shard(objects, i, hosts.length) : objects })),
          log: this.log,
          fields: { job, channel: name },
        });
      });
      streamed.fastFiles.push({ channel, feeder });
    }
    return streamed;
  }
}

function stateFile(paths: HostPaths, channel: Channel): string {
  return path.join(paths.state, `${channel.ChannelName!}.json`);
}

/** Data problems fail the job as `ClientError: Data download failed for channel '<name>': ...`. */
function guard<T>(channel: Channel, fn: () => Promise<T>): Promise<T> {
  return asPlatformError(`Data download failed for channel '${channel.ChannelName}'`, fn);
}
