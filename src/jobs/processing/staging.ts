/**
 * Prepares every host of a processing job before its container is created:
 * config files, inputs downloaded (File mode, FullyReplicated or one
 * ShardedByS3Key shard per host), output directories created.
 * AppManaged inputs and outputs are left to the container.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { processingJobConfig, processingResourceConfig } from '../../contract/processing-config';
import { hostNames } from '../../contract/paths';
import { StorageError } from '../../storage/errors';
import type { DataTransfer, S3DataType, SourceObject } from '../../storage/transfer';
import { PlatformError } from '../engine/types';
import { requestOf, type ProcessingJobDoc } from './describe';
import { hostLayout, hostPathOf, type HostLayout } from './host-layout';

export interface StagingLogger {
  info(fields: Record<string, unknown>, msg: string): void;
}

export function hostsOf(doc: ProcessingJobDoc): string[] {
  return hostNames(doc.ProcessingResources?.ClusterConfig?.InstanceCount ?? 1);
}

/** Writes the config files and stages inputs and outputs for every host; returns their layouts. */
export async function stageHosts(doc: ProcessingJobDoc, workDir: string, transfer: DataTransfer, log: StagingLogger): Promise<HostLayout[]> {
  const hosts = hostsOf(doc);
  const instanceType = doc.ProcessingResources?.ClusterConfig?.InstanceType ?? 'ml.m5.large';
  const jobConfig = processingJobConfig(requestOf(doc), doc.ProcessingJobArn!);
  const listed = await listInputs(doc, transfer);
  const layouts: HostLayout[] = [];
  for (const [index, host] of hosts.entries()) {
    const layout = hostLayout(workDir, host);
    await fs.mkdir(layout.configDir, { recursive: true });
    await fs.mkdir(layout.outputDir, { recursive: true });
    await fs.mkdir(layout.processingDir, { recursive: true });
    await fs.writeFile(path.join(layout.configDir, 'processingjobconfig.json'), JSON.stringify(jobConfig));
    await fs.writeFile(path.join(layout.configDir, 'resourceconfig.json'), JSON.stringify(processingResourceConfig(hosts, host, instanceType)));
    for (const input of listed) {
      const dest = hostPathOf(layout, input.localPath);
      const objects = input.sharded ? transfer.shard(input.objects, index, hosts.length) : input.objects;
      log.info({ job: doc.ProcessingJobName, host, input: input.name, objects: objects.length, localPath: input.localPath }, 'Staging processing input');
      await guard(() => transfer.download(objects, dest));
    }
    for (const o of doc.ProcessingOutputConfig?.Outputs ?? []) {
      if (o.AppManaged || !o.S3Output?.LocalPath) continue;
      await fs.mkdir(hostPathOf(layout, normalised(o.S3Output.LocalPath)), { recursive: true });
    }
    layouts.push(layout);
  }
  return layouts;
}

interface ListedInput {
  name: string;
  localPath: string;
  sharded: boolean;
  objects: SourceObject[];
}

/** Lists each input's objects once (every host gets them all, or its shard). */
async function listInputs(doc: ProcessingJobDoc, transfer: DataTransfer): Promise<ListedInput[]> {
  const out: ListedInput[] = [];
  for (const input of doc.ProcessingInputs ?? []) {
    const s3 = input.S3Input;
    if (input.AppManaged || !s3?.S3Uri || !s3.LocalPath || s3.S3InputMode === 'Pipe') continue; // Pipe: pipe-inputs.ts
    const objects = await guard(() => transfer.listSource({ uri: s3.S3Uri!, dataType: (s3.S3DataType ?? 'S3Prefix') as S3DataType }));
    out.push({ name: input.InputName ?? '', localPath: normalised(s3.LocalPath), sharded: s3.S3DataDistributionType === 'ShardedByS3Key', objects });
  }
  return out;
}

/** Storage problems (missing data, bad manifest, unsafe keys) are the user's: they fail the job as ClientError. */
async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StorageError) throw new PlatformError(err.message);
    throw err;
  }
}

export function normalised(localPath: string): string {
  return path.posix.normalize(localPath).replace(/\/+$/, '');
}
