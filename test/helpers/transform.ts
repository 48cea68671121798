/**
 * What the transform suites share: a model on the recorder image, a job
 * request with sensible defaults, a poll until the job is terminal, objects
 * in and out of the embedded store, and the recorder's request descriptions
 * read back from an output object.
 */
import {
  CreateModelCommand, CreateTransformJobCommand, DescribeTransformJobCommand,
  type CreateTransformJobCommandInput, type DescribeTransformJobCommandOutput,
} from '@aws-sdk/client-sagemaker';
import type { TestServer } from './server';
import { jobHelpers, uniqueName } from './jobs';
import { sleep, untilTerminal } from './wait';

export { sleep };

export const RECORDER = 'sagebox-test/recorder:latest';
export const BUCKET = 'xform-bucket';
export const LOG_GROUP = '/aws/sagemaker/TransformJobs';
export const TEST_CONFIG = { stopGraceSeconds: { jobs: 3, endpoints: 2 } };

export { uniqueName };
export const { putObject, getObject, listKeys, jobLogs } = jobHelpers(BUCKET, LOG_GROUP);

/** CreateModel on the recorder image (or another), with its Environment. */
export async function createModel(s: TestServer, name: string, env: Record<string, string> = {}, image = RECORDER, extra: { ModelDataUrl?: string } = {}): Promise<void> {
  await s.sagemaker.send(new CreateModelCommand({ ModelName: name, PrimaryContainer: { Image: image, Environment: env, ...extra } }));
}

export interface JobSpec {
  name: string;
  model: string;
  input: string;
  output: string;
  extra?: Partial<CreateTransformJobCommandInput>;
}

export function jobRequest(spec: JobSpec): CreateTransformJobCommandInput {
  const extra = spec.extra ?? {};
  return {
    TransformJobName: spec.name,
    ModelName: spec.model,
    ...extra,
    TransformInput: { DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: spec.input } }, ...extra.TransformInput },
    TransformOutput: { S3OutputPath: spec.output, ...extra.TransformOutput },
    TransformResources: { InstanceType: 'ml.m5.large', InstanceCount: 1, ...extra.TransformResources },
  };
}

export async function createJob(s: TestServer, spec: JobSpec): Promise<string> {
  return (await s.sagemaker.send(new CreateTransformJobCommand(jobRequest(spec)))).TransformJobArn!;
}

export async function describe(s: TestServer, name: string): Promise<DescribeTransformJobCommandOutput> {
  return s.sagemaker.send(new DescribeTransformJobCommand({ TransformJobName: name }));
}

/** Polls DescribeTransformJob until the job is terminal. */
export async function settle(s: TestServer, name: string, timeoutMs = 180_000): Promise<DescribeTransformJobCommandOutput> {
  return untilTerminal(name, () => describe(s, name), (d) => d.TransformJobStatus, timeoutMs);
}

/** Creates the job and waits for it; fails with the reason unless it ends `expect`. */
export async function runJob(s: TestServer, spec: JobSpec, expect = 'Completed'): Promise<DescribeTransformJobCommandOutput> {
  await createJob(s, spec);
  const d = await settle(s, spec.name);
  if (d.TransformJobStatus !== expect) throw new Error(`job ${spec.name} ended ${d.TransformJobStatus}, expected ${expect}: ${d.FailureReason ?? ''}`);
  return d;
}

export async function getText(s: TestServer, key: string, bucket = BUCKET): Promise<string> {
  const b = await getObject(s, key, bucket);
  if (!b) throw new Error(`no object s3://${bucket}/${key}`);
  return b.toString('utf8');
}

/** What the recorder said about one request (RECORDER_MODE describe). */
export interface Recorded {
  seq: number;
  body_len: number;
  body: string | null;
  sha256: string;
  lines: number;
  content_type: string | null;
  accept: string | null;
  chunked: boolean;
  content_length: string | null;
  inflight: number;
  max_inflight: number;
  attempt: number;
  headers: Record<string, string>;
  env: Record<string, string>;
}

/** The request descriptions in an output object assembled with Line. */
export async function recorded(s: TestServer, key: string): Promise<Recorded[]> {
  const text = await getText(s, key);
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Recorded);
}
