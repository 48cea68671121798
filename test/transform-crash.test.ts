/**
 * Crash safety: `sagebox up` is killed with SIGKILL while a transform job is
 * half done; a new server on the same data directory re-attaches to the
 * serving container, redoes only the objects whose output was not finished,
 * and the job completes with exactly one output object per input object.
 */
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { kill9, stopChild, upChild, type ChildServer } from './helpers/child-server';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buffer } from 'node:stream/consumers';
import Dockerode from 'dockerode';
import { CreateModelCommand, CreateTransformJobCommand, DescribeTransformJobCommand } from '@aws-sdk/client-sagemaker';
import { loadConfig } from '../src/config/config';
import { LocalObjectStore } from '../src/storage/local-store';
import { removeLabelled } from './helpers/docker';
import { BUCKET, RECORDER, jobRequest, sleep, uniqueName, type Recorded } from './helpers/transform';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sagebox-xform-crash-'));
fs.writeFileSync(path.join(dataDir, 'config.json'), JSON.stringify({ stopGraceSeconds: { jobs: 3, endpoints: 3 }, logLevel: 'warn' }));
const children: ChildProcess[] = [];

after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await removeLabelled(new Dockerode(), { 'sagebox.instance': loadConfig({ dataDir }, {}).instanceId });
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function up(): Promise<ChildServer> {
  const server = await upChild(dataDir);
  children.push(server.child);
  return server;
}

async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(150);
  }
}

it('a transform job survives kill -9 of the server: finished objects are kept, the rest are done once', async () => {
  const store = new LocalObjectStore({ root: path.join(dataDir, 's3') });
  await store.ensureBucket(BUCKET);
  const inputs = Array.from({ length: 6 }, (_, i) => `object-${i}`);
  for (const [i, line] of inputs.entries()) await store.put(BUCKET, `crash/in/part-${i}.txt`, `${line}\n`);
  const name = uniqueName('xform-crash');

  const first = await up();
  await first.sm.send(new CreateModelCommand({ ModelName: `${name}-model`, PrimaryContainer: { Image: RECORDER, Environment: { RECORDER_DELAY_MS: '1500' } } }));
  await first.sm.send(new CreateTransformJobCommand(jobRequest({ name, model: `${name}-model`, input: `s3://${BUCKET}/crash/in/`, output: `s3://${BUCKET}/crash/out` })));
  const outDir = path.join(dataDir, 'jobs', 'transform-job', name, 'out');
  await eventually('two objects done', () => (fs.existsSync(outDir) && fs.readdirSync(outDir).length >= 2 ? true : undefined), 90_000);
  await kill9(first);
  const doneBeforeCrash = fs.readdirSync(outDir).length;
  assert.ok(doneBeforeCrash < inputs.length, 'the crash happened mid-job');

  const second = await up();
  const d = await eventually('the job to finish', async () => {
    const x = await second.sm.send(new DescribeTransformJobCommand({ TransformJobName: name }));
    return ['Completed', 'Failed', 'Stopped'].includes(x.TransformJobStatus!) ? x : undefined;
  }, 120_000);
  assert.equal(d.TransformJobStatus, 'Completed', d.FailureReason);

  const keys: string[] = [];
  for await (const o of store.list(BUCKET, 'crash/out/')) keys.push(o.key);
  assert.deepEqual(keys, inputs.map((_, i) => `crash/out/part-${i}.txt.out`));
  const seqs: number[] = [];
  for (const [i, key] of keys.entries()) {
    const reqs = (await buffer(await store.get(BUCKET, key))).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Recorded);
    assert.equal(reqs.length, 1, `${key} holds one response`);
    assert.equal(reqs[0]!.body, `${inputs[i]}\n`);
    seqs.push(reqs[0]!.seq);
  }
  // The same container served both runs: its request counter shows at most the one request in flight at the crash was sent again.
  assert.ok(Math.max(...seqs) <= inputs.length + 1, `requests: ${seqs.join(',')}`);
  await stopChild(second, 'SIGTERM');
});

it('a transform job whose container stopped while the server was down (a host reboot does both) resumes in the same container', async () => {
  const store = new LocalObjectStore({ root: path.join(dataDir, 's3') });
  await store.ensureBucket(BUCKET);
  const inputs = Array.from({ length: 6 }, (_, i) => `down-${i}`);
  for (const [i, line] of inputs.entries()) await store.put(BUCKET, `down/in/part-${i}.txt`, `${line}\n`);
  const name = uniqueName('xform-down');

  const first = await up();
  await first.sm.send(new CreateModelCommand({ ModelName: `${name}-model`, PrimaryContainer: { Image: RECORDER, Environment: { RECORDER_DELAY_MS: '1000' } } }));
  await first.sm.send(new CreateTransformJobCommand(jobRequest({ name, model: `${name}-model`, input: `s3://${BUCKET}/down/in/`, output: `s3://${BUCKET}/down/out` })));
  const outDir = path.join(dataDir, 'jobs', 'transform-job', name, 'out');
  await eventually('two objects done', () => (fs.existsSync(outDir) && fs.readdirSync(outDir).filter((f) => f.endsWith('.out')).length >= 2 ? true : undefined), 90_000);
  await kill9(first);
  const docker = new Dockerode();
  const [container] = await docker.listContainers({ filters: { label: [`sagebox.resource=${name}`] } });
  assert.ok(container, 'the serving container runs');
  await docker.getContainer(container.Id).stop({ t: 1 });

  const second = await up();
  const d = await eventually('the job to finish', async () => {
    const x = await second.sm.send(new DescribeTransformJobCommand({ TransformJobName: name }));
    return ['Completed', 'Failed', 'Stopped'].includes(x.TransformJobStatus!) ? x : undefined;
  }, 120_000);
  assert.equal(d.TransformJobStatus, 'Completed', d.FailureReason);
  const keys: string[] = [];
  for await (const o of store.list(BUCKET, 'down/out/')) keys.push(o.key);
  assert.deepEqual(keys, inputs.map((_, i) => `down/out/part-${i}.txt.out`));
  for (const [i, key] of keys.entries()) {
    const reqs = (await buffer(await store.get(BUCKET, key))).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Recorded);
    assert.equal(reqs.length, 1, `${key} holds one response`);
    assert.equal(reqs[0]!.body, `${inputs[i]}\n`);
  }
  await stopChild(second, 'SIGTERM');
});
