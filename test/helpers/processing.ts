/**
 * What the processing suites share: a request that runs the probe image, a
 * poll until a job is terminal, objects in and out of the embedded store, and
 * the probe's report read back from the job's log streams.
 */
import { buffer } from 'node:stream/consumers';
import { CreateProcessingJobCommand, DescribeProcessingJobCommand, type CreateProcessingJobCommandInput, type DescribeProcessingJobCommandOutput } from '@aws-sdk/client-sagemaker';
import type { TestServer } from './server';
import { eventually, sleep, untilTerminal } from './wait';

export { eventually, sleep };

export const PROBE_IMAGE = 'sagebox-test/probe:latest';
export const ROLE = 'arn:aws:iam::123456789012:role/SageMakerRole';
export const BUCKET = 'proc-bucket';
export const LOG_GROUP = '/aws/sagemaker/ProcessingJobs';

let counter = 0;
/** A fresh job name per call (names are unique per server, and suites run jobs in parallel). */
export function jobName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`.slice(0, 63);
}

export function probeJob(name: string, extra: Partial<CreateProcessingJobCommandInput> = {}): CreateProcessingJobCommandInput {
  return {
    ProcessingJobName: name,
    RoleArn: ROLE,
    AppSpecification: { ImageUri: PROBE_IMAGE },
    ProcessingResources: { ClusterConfig: { InstanceCount: 1, InstanceType: 'ml.m5.large', VolumeSizeInGB: 1 } },
    ...extra,
  };
}

export async function createJob(s: TestServer, input: CreateProcessingJobCommandInput): Promise<string> {
  const r = await s.sagemaker.send(new CreateProcessingJobCommand(input));
  return r.ProcessingJobArn!;
}

export async function describe(s: TestServer, name: string): Promise<DescribeProcessingJobCommandOutput> {
  return s.sagemaker.send(new DescribeProcessingJobCommand({ ProcessingJobName: name }));
}


/** Polls DescribeProcessingJob until the job is terminal (any terminal status, unlike the SDK waiter). */
export async function settle(s: TestServer, name: string, timeoutMs = 120_000): Promise<DescribeProcessingJobCommandOutput> {
  return untilTerminal(name, () => describe(s, name), (d) => d.ProcessingJobStatus, timeoutMs);
}



export async function putObject(s: TestServer, key: string, body: string | Buffer, bucket = BUCKET): Promise<void> {
  await s.app.ctx.objectStore.ensureBucket(bucket);
  await s.app.ctx.objectStore.put(bucket, key, body);
}

export async function getObject(s: TestServer, key: string, bucket = BUCKET): Promise<string | undefined> {
  if (!(await s.app.ctx.objectStore.head(bucket, key).catch(() => undefined))) return undefined;
  return (await buffer(await s.app.ctx.objectStore.get(bucket, key))).toString('utf8');
}

export async function listKeys(s: TestServer, prefix: string, bucket = BUCKET): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of s.app.ctx.objectStore.list(bucket, prefix)) keys.push(o.key);
  return keys;
}

/** Every log line of a job, per log stream name. */
export function jobLogs(s: TestServer, name: string): Map<string, string[]> {
  const logs = s.app.ctx.logs;
  const out = new Map<string, string[]>();
  for (const st of logs.streams(LOG_GROUP, `${name}/`)) {
    out.set(st.name, logs.events(st.id, { limit: 10000 }).map((e) => e.message));
  }
  return out;
}

/** The probe's `PROBE-REPORT <json>` of each host, from the job's logs, keyed by current_host. */
export function probeReports(s: TestServer, name: string): Map<string, any> {
  const reports = new Map<string, any>();
  for (const lines of jobLogs(s, name).values()) {
    for (const l of lines) {
      if (!l.startsWith('PROBE-REPORT ')) continue;
      const r = JSON.parse(l.slice('PROBE-REPORT '.length));
      reports.set(r.current_host, r);
    }
  }
  return reports;
}

/** Stops the server, then removes every container and network it left (a failed test may leave a job running). */
export async function stopAndClean(s: TestServer): Promise<void> {
  const instance = s.app.config.instanceId;
  await s.stop();
  const Dockerode = (await import('dockerode')).default;
  const docker = new Dockerode({ socketPath: s.app.config.docker.socketPath });
  const label = [`sagebox.instance=${instance}`];
  const containers = await docker.listContainers({ all: true, filters: { label } });
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)));
  const networks = await docker.listNetworks({ filters: { label } });
  await Promise.all(networks.map((n) => docker.getNetwork(n.Id).remove().catch(() => undefined)));
}
