/**
 * What the processing suites share: a request that runs the probe image, a
 * poll until a job is terminal, objects in and out of the embedded store, and
 * the probe's report read back from the job's log streams.
 */
import { CreateProcessingJobCommand, DescribeProcessingJobCommand, type CreateProcessingJobCommandInput, type DescribeProcessingJobCommandOutput } from '@aws-sdk/client-sagemaker';
import type { TestServer } from './server';
import { jobHelpers, uniqueName } from './jobs';
import { eventually, sleep, untilTerminal } from './wait';

export { eventually, sleep };

export const PROBE_IMAGE = 'sagebox-test/probe:latest';
export const ROLE = 'arn:aws:iam::123456789012:role/SageMakerRole';
export const BUCKET = 'proc-bucket';
export const LOG_GROUP = '/aws/sagemaker/ProcessingJobs';

const shared = jobHelpers(BUCKET, LOG_GROUP);
export { uniqueName as jobName };
export const { putObject, listKeys, jobLogs, probeReports } = shared;

/** An object's content as text, or undefined when there is none. */
export async function getObject(s: TestServer, key: string, bucket = BUCKET): Promise<string | undefined> {
  return (await shared.getObject(s, key, bucket))?.toString('utf8');
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
