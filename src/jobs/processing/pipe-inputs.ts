/**
 * Processing inputs with S3InputMode Pipe (docs/pipe-mode.md). SageMaker does
 * not document where a processing container finds a Pipe input; sagebox uses
 * the training convention next to the LocalPath: FIFOs `<LocalPath>_0`,
 * `<LocalPath>_1`, ... (one per epoch; a container that reads the input once
 * reads `<LocalPath>_0`). Nothing is created at LocalPath itself.
 * S3CompressionType Gzip is decompressed in flight; ShardedByS3Key gives each
 * host its share of the objects, as in File mode.
 */
import * as path from 'node:path';
import type { AppContext } from '../../app/context';
import { writeEpoch } from '../streaming/epoch-stream';
import { feedPipe, preparePipe } from '../streaming/pipe-feeder';
import { asPlatformError } from '../streaming/platform-error';
import { StreamSource } from '../streaming/stream-source';
import type { ProcessingJobDoc } from './describe';
import { hostPathOf, type HostLayout } from './host-layout';
import { normalised } from './staging';

type Input = NonNullable<ProcessingJobDoc['ProcessingInputs']>[number];

interface PipeInput {
  input: Input;
  index: number;
  localPath: string;
  source: StreamSource;
}

/** The inputs streamed through FIFOs. */
export function pipeInputsOf(doc: ProcessingJobDoc): { input: Input; index: number }[] {
  return (doc.ProcessingInputs ?? [])
    .map((input, index) => ({ input, index }))
    .filter(({ input }) => !input.AppManaged && input.S3Input?.S3InputMode === 'Pipe' && input.S3Input.S3Uri && input.S3Input.LocalPath);
}

export class PipeInputs {
  private readonly prepared = new Map<string, PipeInput[]>();

  constructor(private readonly ctx: AppContext) {}

  private get log() {
    return this.ctx.logger.child({ component: 'processing-input' });
  }

  /** Before the containers start: checks every source and creates `<LocalPath>_0` on every host. */
  async prepare(doc: ProcessingJobDoc, layouts: HostLayout[]): Promise<void> {
    const inputs = await this.load(doc);
    for (const p of inputs) for (const l of layouts) await preparePipe(...where(l, p));
    this.prepared.set(doc.ProcessingJobName!, inputs);
  }

  /** Drops what prepare() kept for a job whose run never came. */
  forget(job: string): void {
    this.prepared.delete(job);
  }

  /** Feeds every Pipe input of every host until `signal` aborts; a data problem rejects with a PlatformError. */
  async run(doc: ProcessingJobDoc, layouts: HostLayout[], signal: AbortSignal): Promise<void> {
    const job = doc.ProcessingJobName!;
    let inputs = this.prepared.get(job);
    this.prepared.delete(job);
    if (!inputs) {
      if (!pipeInputsOf(doc).length) return;
      inputs = await this.load(doc);
    }
    const open = (uri: string) => this.ctx.transfer.openRead(uri);
    const size = (uri: string) => this.ctx.transfer.sizeOf(uri);
    const runs = inputs.flatMap((p) =>
      layouts.map((l, hostIndex) => {
        const [dir, name, stateFile] = where(l, p);
        const gzip = p.input.S3Input!.S3CompressionType === 'Gzip';
        const label = `processing input '${p.input.InputName}'`;
        return guard(label, () =>
          feedPipe(
            {
              dir,
              name,
              stateFile,
              write: (epoch, out, s) => writeEpoch(p.source.parts(epoch, hostIndex, layouts.length), { gzip, recordIO: false, open, size }, out, s),
              log: this.log,
              fields: { job, host: l.host, input: p.input.InputName },
              label,
            },
            signal,
          ),
        );
      }),
    );
    await Promise.all(runs);
  }

  private async load(doc: ProcessingJobDoc): Promise<PipeInput[]> {
    const out: PipeInput[] = [];
    for (const { input, index } of pipeInputsOf(doc)) {
      const s3 = input.S3Input!;
      const source = await guard(`processing input '${input.InputName}'`, () =>
        StreamSource.load(this.ctx.transfer, {
          uri: s3.S3Uri!,
          dataType: s3.S3DataType === 'ManifestFile' ? 'ManifestFile' : 'S3Prefix',
          sharded: s3.S3DataDistributionType === 'ShardedByS3Key',
        }),
      );
      out.push({ input, index, localPath: normalised(s3.LocalPath!), source });
    }
    return out;
  }
}

/** [FIFO directory, FIFO base name, state file] of an input on a host. */
function where(l: HostLayout, p: PipeInput): [string, string, string] {
  const hostPath = hostPathOf(l, p.localPath);
  return [path.dirname(hostPath), path.basename(hostPath), path.join(l.root, 'input-state', `${p.index}.json`)];
}

function guard<T>(label: string, fn: () => Promise<T>): Promise<T> {
  return asPlatformError(`Streaming ${label} failed`, fn);
}
