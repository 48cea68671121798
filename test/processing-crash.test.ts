/**
 * Crash safety: `sagebox up` is killed with SIGKILL while a processing job's
 * container runs; a new server on the same data directory re-attaches to the
 * container (or finishes what it left), and the job completes with its outputs
 * uploaded and its log lines captured once.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { crashDataDir, kill9, stopChild, upChild, type ChildServer } from './helpers/child-server';
import * as fs from 'node:fs';
import Dockerode from 'dockerode';
import { DescribeProcessingJobCommand, SageMakerClient, type DescribeProcessingJobCommandOutput } from '@aws-sdk/client-sagemaker';
import { loadConfig } from '../src/config/config';
import { LogStore } from '../src/logs/log-store';
import { openDb } from '../src/store/db';
import type { LocalObjectStore } from '../src/storage/local-store';
import { removeLabelled } from './helpers/docker';
import { BUCKET, LOG_GROUP, createJob, eventually, jobName, probeJob, sleep } from './helpers/processing';

let dataDir: string;
let store: LocalObjectStore;
const children: ChildProcess[] = [];

before(async () => {
  ({ dataDir, store } = await crashDataDir('sagebox-crash-', BUCKET));
});

after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await removeLabelled(new Dockerode(), { 'sagebox.instance': loadConfig({ dataDir }, {}).instanceId });
});

async function up(): Promise<ChildServer> {
  const server = await upChild(dataDir);
  children.push(server.child);
  return server;
}

it('a job survives kill -9 of the server and completes after a restart, with its outputs', async () => {
  await store.put(BUCKET, 'crash/in/data.txt', 'input data');
  const name = jobName('crash');

  const first = await up();
  await createJob({ sagemaker: first.sm } as any, probeJob(name, {
    Environment: { PROBE_SLEEP: '6', PROBE_MESSAGE_TEXT: 'survived' },
    ProcessingInputs: [{ InputName: 'in', S3Input: { S3Uri: `s3://${BUCKET}/crash/in`, LocalPath: '/opt/ml/processing/input', S3DataType: 'S3Prefix' } }],
    ProcessingOutputConfig: { Outputs: [{ OutputName: 'out', S3Output: { S3Uri: `s3://${BUCKET}/crash/out`, LocalPath: '/opt/ml/processing/output', S3UploadMode: 'EndOfJob' } }] },
  }));
  const describe = (c: SageMakerClient): Promise<DescribeProcessingJobCommandOutput> => c.send(new DescribeProcessingJobCommand({ ProcessingJobName: name }));
  await eventually('the container to start', async () => ((await describe(first.sm)).ProcessingStartTime ? true : undefined), 60_000, 200);
  await sleep(1500);
  await kill9(first);

  const second = await up();
  const d = await eventually('the job to finish', async () => {
    const x = await describe(second.sm);
    return ['Completed', 'Failed', 'Stopped'].includes(x.ProcessingJobStatus!) ? x : undefined;
  }, 90_000, 250);
  assert.equal(d.ProcessingJobStatus, 'Completed', d.FailureReason);
  assert.equal(d.ExitMessage, 'survived');
  const keys: string[] = [];
  for await (const o of store.list(BUCKET, 'crash/out/')) keys.push(o.key);
  assert.deepEqual(keys, ['crash/out/report.json']);
  await stopChild(second, 'SIGTERM');

  // The log lines of the one container were captured once, across both servers.
  const db = openDb(dataDir);
  const logs = new LogStore(db);
  const streams = logs.streams(LOG_GROUP, `${name}/`);
  assert.equal(streams.length, 1);
  const lines = logs.events(streams[0]!.id, { limit: 10000 }).map((e) => e.message);
  assert.equal(lines.filter((l) => l.startsWith('PROBE: sleeping')).length, 1, lines.join('\n'));
  assert.equal(lines.filter((l) => l.startsWith('PROBE: exit 0')).length, 1, lines.join('\n'));
  db.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});
