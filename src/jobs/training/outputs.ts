/**
 * What a finished training job leaves behind (spec 1.6): /opt/ml/model of
 * every host merged (a later host wins a name clash) into
 * `<S3OutputPath>/<job>/output/model.tar.gz`, /opt/ml/output/data into
 * `output.tar.gz` beside it, and the FailureReason of a failed host.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { walkTree } from '../../storage/fs-tree';
import type { DataTransfer } from '../../storage/transfer';
import { algorithmError, readHead } from '../../contract/failure';

export interface HostOutput {
  host: string;
  modelDir: string;
  outputDataDir: string;
}

/** `<S3OutputPath>/<job>/output/<name>`, with exactly one '/' between the parts. */
export function outputUri(s3OutputPath: string, job: string, name: string): string {
  return `${s3OutputPath.replace(/\/+$/, '')}/${job}/output/${name}`;
}

/** One directory holding every host's files; a single host's directory is used as is. */
async function merged(dirs: readonly string[], into: string): Promise<string> {
  if (dirs.length === 1) {
    await fsp.mkdir(dirs[0]!, { recursive: true });
    return dirs[0]!;
  }
  await fsp.rm(into, { recursive: true, force: true });
  await fsp.mkdir(into, { recursive: true });
  for (const dir of dirs) {
    const exists = await fsp.stat(dir).then((s) => s.isDirectory(), () => false);
    if (!exists) continue;
    for await (const f of walkTree(dir)) {
      const dest = path.join(into, ...f.relativePath.split('/'));
      await fsp.mkdir(path.dirname(dest), { recursive: true });
      await fsp.rm(dest, { recursive: true, force: true });
      await fsp.link(f.absolutePath, dest).catch(() => fsp.copyFile(f.absolutePath, dest));
    }
  }
  return into;
}

/**
 * Packs and uploads model and output data. Returns S3ModelArtifacts. With
 * CompressionType NONE the model files are uploaded one by one under
 * `<job>/output/model/` (that prefix is then S3ModelArtifacts).
 */
export async function uploadOutputs(
  transfer: DataTransfer,
  opts: { hosts: readonly HostOutput[]; scratch: string; s3OutputPath: string; job: string; compression: string },
): Promise<string> {
  const { hosts, scratch, s3OutputPath, job } = opts;
  await fsp.mkdir(scratch, { recursive: true });
  const modelDir = await merged(hosts.map((h) => h.modelDir), path.join(scratch, 'model'));
  let modelArtifacts: string;
  if (opts.compression === 'NONE') {
    modelArtifacts = outputUri(s3OutputPath, job, 'model/');
    await transfer.uploadDir(modelDir, modelArtifacts);
  } else {
    const tarball = path.join(scratch, 'model.tar.gz');
    await transfer.packTarGz(modelDir, tarball);
    modelArtifacts = outputUri(s3OutputPath, job, 'model.tar.gz');
    await transfer.uploadFile(tarball, modelArtifacts);
  }
  const dataDir = await merged(hosts.map((h) => h.outputDataDir), path.join(scratch, 'output-data'));
  const outTarball = path.join(scratch, 'output.tar.gz');
  await transfer.packTarGz(dataDir, outTarball);
  await transfer.uploadFile(outTarball, outputUri(s3OutputPath, job, 'output.tar.gz'));
  return modelArtifacts;
}

export interface HostExit {
  host: string;
  exitCode?: number;
  /** Epoch ms the container exited, when the engine still knows. */
  finishedAt?: number;
  oomKilled?: boolean;
  failureFile: string;
}

/**
 * `AlgorithmError: <failure file text>, exit code: <n>` of the host that
 * failed first (the others were most likely stopped because of it).
 */
export async function algorithmFailure(hosts: readonly HostExit[]): Promise<string | undefined> {
  const failed = hosts.filter((h) => h.exitCode !== undefined && h.exitCode !== 0);
  if (!failed.length) return undefined;
  const texts = await Promise.all(failed.map(async (h) => (await readHead(h.failureFile))?.toString('utf8')));
  const order = failed
    .map((h, i) => ({ h, text: texts[i] }))
    .sort((a, b) => (a.h.finishedAt ?? Infinity) - (b.h.finishedAt ?? Infinity) || Number(b.text !== undefined) - Number(a.text !== undefined));
  const first = order[0]!;
  let text = first.text;
  if (!text?.trim() && first.h.oomKilled) text = `the container of ${first.h.host} was killed for using more memory than its instance type allows`;
  return algorithmError(text, first.h.exitCode!);
}
