/**
 * What the training suites share: a request that runs the probe image, a
 * poll until a job is terminal, objects in and out of the embedded store,
 * archives read back, and the probe's report from the job's log streams.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CreateTrainingJobCommand,
  DescribeTrainingJobCommand,
  type CreateTrainingJobCommandInput,
  type DescribeTrainingJobCommandOutput,
} from '@aws-sdk/client-sagemaker';
import { extractTarGz } from '../../src/storage/tar-gz';
import { requireDocker } from './docker';
import { startServer, type TestServer } from './server';
import { jobHelpers, uniqueName } from './jobs';
import { eventually, sleep, untilTerminal } from './wait';

export { eventually, sleep };

export const PROBE_IMAGE = 'sagebox-test/probe:latest';
export const ROLE = 'arn:aws:iam::123456789012:role/SageMakerRole';
export const BUCKET = 'train-bucket';
export const LOG_GROUP = '/aws/sagemaker/TrainingJobs';

export { uniqueName as jobName };
export const { putObject, getObject, listKeys, jobLogs, probeReports } = jobHelpers(BUCKET, LOG_GROUP);

/** The server the job suites run on: Docker checked first, a 3 s stop grace, the training bucket made. */
export async function startTrainingServer(): Promise<TestServer> {
  await requireDocker();
  const s = await startServer({ stopGraceSeconds: { jobs: 3, endpoints: 3 } });
  await s.app.ctx.objectStore.ensureBucket(BUCKET);
  return s;
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

export function probeReport(s: TestServer, name: string, host = 'algo-1'): any {
  const r = probeReports(s, name).get(host);
  if (!r) throw new Error(`no probe report of ${host} in the logs of ${name}: ${JSON.stringify([...jobLogs(s, name).entries()]).slice(0, 2000)}`);
  return r;
}
