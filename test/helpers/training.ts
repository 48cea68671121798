/**
 * What the training suites share: a request that runs the probe image, a
 * poll until a job is terminal, objects in and out of the embedded store,
 * archives read back, and the probe's report from the job's log streams.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buffer } from 'node:stream/consumers';
import {
  CreateTrainingJobCommand,
  DescribeTrainingJobCommand,
  type CreateTrainingJobCommandInput,
  type DescribeTrainingJobCommandOutput,
} from '@aws-sdk/client-sagemaker';
import { extractTarGz } from '../../src/storage/tar-gz';
import type { TestServer } from './server';
import { eventually, sleep, untilTerminal } from './wait';

export { eventually, sleep };

export const PROBE_IMAGE = 'sagebox-test/probe:latest';
export const ROLE = 'arn:aws:iam::123456789012:role/SageMakerRole';
export const BUCKET = 'train-bucket';
export const LOG_GROUP = '/aws/sagemaker/TrainingJobs';

let counter = 0;
/** A fresh job name per call (suites run jobs in parallel on one server). */
export function jobName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`.slice(0, 63);
}

type Alg = NonNullable<CreateTrainingJobCommandInput['AlgorithmSpecification']>;

/** A one-host File-mode job of the probe image; `env` goes to Environment. */
export function probeJob(
  name: string,
  extra: Partial<CreateTrainingJobCommandInput> & { env?: Record<string, string>; alg?: Partial<Alg> } = {},
): CreateTrainingJobCommandInput {
  const { env, alg, ...rest } = extra;
  return {
    TrainingJobName: name,
    RoleArn: ROLE,
    AlgorithmSpecification: { TrainingImage: PROBE_IMAGE, TrainingInputMode: 'File', ...alg },
    OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/out` },
    ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 1 },
    StoppingCondition: { MaxRuntimeInSeconds: 120 },
    ...(env ? { Environment: { PROBE_RESOLVE_TIMEOUT_S: '3', ...env } } : { Environment: { PROBE_RESOLVE_TIMEOUT_S: '3' } }),
    ...rest,
  };
}

export async function createJob(s: TestServer, input: CreateTrainingJobCommandInput): Promise<string> {
  const r = await s.sagemaker.send(new CreateTrainingJobCommand(input));
  return r.TrainingJobArn!;
}

export async function describe(s: TestServer, name: string): Promise<DescribeTrainingJobCommandOutput> {
  return s.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
}


/** Polls DescribeTrainingJob until the job is terminal. */
export async function settle(s: TestServer, name: string, timeoutMs = 120_000): Promise<DescribeTrainingJobCommandOutput> {
  return untilTerminal(name, () => describe(s, name), (d) => d.TrainingJobStatus, timeoutMs);
}


export async function putObject(s: TestServer, key: string, body: string | Buffer, bucket = BUCKET): Promise<void> {
  await s.app.ctx.objectStore.ensureBucket(bucket);
  await s.app.ctx.objectStore.put(bucket, key, body);
}

export async function getObject(s: TestServer, key: string, bucket = BUCKET): Promise<Buffer | undefined> {
  if (!(await s.app.ctx.objectStore.head(bucket, key).catch(() => undefined))) return undefined;
  return buffer(await s.app.ctx.objectStore.get(bucket, key));
}

export async function listKeys(s: TestServer, prefix: string, bucket = BUCKET): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of s.app.ctx.objectStore.list(bucket, prefix)) keys.push(o.key);
  return keys;
}

/** Extracts a tar.gz held in the store; returns relative path -> content of every file. */
export async function archiveFiles(s: TestServer, key: string, bucket = BUCKET): Promise<Map<string, string>> {
  const body = await getObject(s, key, bucket);
  if (!body) throw new Error(`s3://${bucket}/${key} does not exist`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sagebox-archive-'));
  try {
    const file = path.join(dir, 'a.tar.gz');
    fs.writeFileSync(file, body);
    const into = path.join(dir, 'x');
    await extractTarGz(file, into);
    const out = new Map<string, string>();
    const walk = (d: string, rel: string): void => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) walk(path.join(d, e.name), r);
        else out.set(r, fs.readFileSync(path.join(d, e.name), 'utf8'));
      }
    };
    walk(into, '');
    return out;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Every log line of a job, per log stream name. */
export function jobLogs(s: TestServer, name: string): Map<string, string[]> {
  const logs = s.app.ctx.logs;
  const out = new Map<string, string[]>();
  for (const st of logs.streams(LOG_GROUP, `${name}/`)) out.set(st.name, logs.events(st.id, { limit: 100000 }).map((e) => e.message));
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

export function probeReport(s: TestServer, name: string, host = 'algo-1'): any {
  const r = probeReports(s, name).get(host);
  if (!r) throw new Error(`no probe report of ${host} in the logs of ${name}: ${JSON.stringify([...jobLogs(s, name).entries()]).slice(0, 2000)}`);
  return r;
}
