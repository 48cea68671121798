/**
 * Crash safety: `sagebox up` is killed with SIGKILL while a transform job is
 * half done; a new server on the same data directory re-attaches to the
 * serving container, redoes only the objects whose output was not finished,
 * and the job completes with exactly one output object per input object.
 * Also when the container was stopped while the server was down (a host
 * reboot): the job resumes in the same container.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { crashDataDir, kill9, stopChild, upChild, type ChildServer } from './helpers/child-server';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buffer } from 'node:stream/consumers';
import Dockerode from 'dockerode';
import { CreateModelCommand, CreateTransformJobCommand, DescribeTransformJobCommand, type DescribeTransformJobCommandOutput } from '@aws-sdk/client-sagemaker';
import { loadConfig } from '../src/config/config';
import type { LocalObjectStore } from '../src/storage/local-store';
import { removeLabelled } from './helpers/docker';
import { BUCKET, RECORDER, jobRequest, sleep, uniqueName, type Recorded } from './helpers/transform';

let dataDir: string;
let store: LocalObjectStore;
const children: ChildProcess[] = [];

before(async () => {
  ({ dataDir, store } = await crashDataDir('sagebox-xform-crash-', BUCKET));
});
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

interface HalfDone {
  name: string;
  prefix: string;
  inputs: string[];
  server: ChildServer;
  outDir: string;
}

/** Finished outputs in the job directory (out/ also holds their .md5 files). */
const finished = (outDir: string): number => (fs.existsSync(outDir) ? fs.readdirSync(outDir).filter((f) => f.endsWith('.out')).length : 0);

/** A server running a 6-object transform job on the recorder (delayMs per request), once 2 objects are finished. */
async function halfDoneJob(prefix: string, delayMs: number): Promise<HalfDone> {
  const inputs = Array.from({ length: 6 }, (_, i) => `${prefix}-${i}`);
  for (const [i, line] of inputs.entries()) await store.put(BUCKET, `${prefix}/in/part-${i}.txt`, `${line}\n`);
  const name = uniqueName(`xform-${prefix}`);
  const server = await up();
  await server.sm.send(new CreateModelCommand({ ModelName: `${name}-model`, PrimaryContainer: { Image: RECORDER, Environment: { RECORDER_DELAY_MS: String(delayMs) } } }));
  await server.sm.send(new CreateTransformJobCommand(jobRequest({ name, model: `${name}-model`, input: `s3://${BUCKET}/${prefix}/in/`, output: `s3://${BUCKET}/${prefix}/out` })));
  const outDir = path.join(dataDir, 'jobs', 'transform-job', name, 'out');
  await eventually('two objects done', () => (finished(outDir) >= 2 ? true : undefined), 90_000);
  return { name, prefix, inputs, server, outDir };
}

async function settled(server: ChildServer, name: string): Promise<DescribeTransformJobCommandOutput> {
  return eventually('the job to finish', async () => {
    const x = await server.sm.send(new DescribeTransformJobCommand({ TransformJobName: name }));
    return ['Completed', 'Failed', 'Stopped'].includes(x.TransformJobStatus!) ? x : undefined;
  }, 120_000);
}

/** One output object per input, each holding the one response to its input; returns the recorder's request numbers. */
async function oneResponseEach(job: HalfDone): Promise<number[]> {
  const keys: string[] = [];
  for await (const o of store.list(BUCKET, `${job.prefix}/out/`)) keys.push(o.key);
  assert.deepEqual(keys, job.inputs.map((_, i) => `${job.prefix}/out/part-${i}.txt.out`));
  const seqs: number[] = [];
  for (const [i, key] of keys.entries()) {
    const reqs = (await buffer(await store.get(BUCKET, key))).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Recorded);
    assert.equal(reqs.length, 1, `${key} holds one response`);
    assert.equal(reqs[0]!.body, `${job.inputs[i]}\n`);
    seqs.push(reqs[0]!.seq);
  }
  return seqs;
}

it('a transform job survives kill -9 of the server: finished objects are kept, the rest are done once', async () => {
  const job = await halfDoneJob('crash', 1500);
  await kill9(job.server);
  assert.ok(finished(job.outDir) < job.inputs.length, 'the crash happened mid-job');

  const second = await up();
  const d = await settled(second, job.name);
  assert.equal(d.TransformJobStatus, 'Completed', d.FailureReason);
  const seqs = await oneResponseEach(job);
  // The same container served both runs: its request counter shows at most the one request in flight at the crash was sent again.
  assert.ok(Math.max(...seqs) <= job.inputs.length + 1, `requests: ${seqs.join(',')}`);
  await stopChild(second, 'SIGTERM');
});

it('a transform job whose container stopped while the server was down (a host reboot does both) resumes in the same container', async () => {
  const job = await halfDoneJob('down', 1000);
  await kill9(job.server);
  const docker = new Dockerode();
  const [container] = await docker.listContainers({ filters: { label: [`sagebox.resource=${job.name}`] } });
  assert.ok(container, 'the serving container runs');
  await docker.getContainer(container.Id).stop({ t: 1 });

  const second = await up();
  const d = await settled(second, job.name);
  assert.equal(d.TransformJobStatus, 'Completed', d.FailureReason);
  await oneResponseEach(job);
  await stopChild(second, 'SIGTERM');
});
