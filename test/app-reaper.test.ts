/**
 * At start-up sagebox removes its own containers that no live resource owns
 * (src/app/reaper.ts), and leaves everything else alone.
 */
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import Dockerode from 'dockerode';
import { startServer, type TestServer } from './helpers/server';
import { removeLabelled, requireDocker } from './helpers/docker';
import { BUCKET, createJob, jobName, probeJob, settle } from './helpers/training';

const BASE = 'sagebox/base:bookworm';
let s: TestServer | undefined;
const foreign = { 'sagebox.instance': `sbt-foreign-${process.pid}`, 'sagebox.kind': 'training-job', 'sagebox.resource': 'someone-elses' };
after(async () => {
  const docker = new Dockerode();
  await removeLabelled(docker, { 'sagebox.instance': foreign['sagebox.instance'] });
  if (s) {
    await s.stop().catch(() => undefined);
    await removeLabelled(docker, { 'sagebox.instance': s.app.config.instanceId });
  }
});

async function sleeper(docker: Dockerode, labels: Record<string, string>): Promise<string> {
  const c = await docker.createContainer({ Image: BASE, Cmd: ['sleep', '300'], Labels: labels });
  await c.start();
  return c.id;
}

const exists = async (docker: Dockerode, id: string): Promise<boolean> => docker.getContainer(id).inspect().then(() => true, () => false);

it('a restarted server removes its containers that no live resource owns, and only those', { timeout: 180_000 }, async () => {
  const docker = await requireDocker();
  const first = await startServer();
  s = first;
  await first.app.ctx.objectStore.ensureBucket(BUCKET);
  const done = jobName('reaped');
  await createJob(first, probeJob(done));
  assert.equal((await settle(first, done)).TrainingJobStatus, 'Completed');
  const instance = first.app.config.instanceId;
  await first.stop();
  s = undefined;

  // While sagebox is down: a container for a resource it never had, one for a job that has ended, one of another sagebox.
  const ghost = await sleeper(docker, { 'sagebox.instance': instance, 'sagebox.kind': 'training-job', 'sagebox.resource': 'never-existed', 'sagebox.host': 'algo-1' });
  const stale = await sleeper(docker, { 'sagebox.instance': instance, 'sagebox.kind': 'training-job', 'sagebox.resource': done, 'sagebox.host': 'algo-1', 'sagebox.attempt': '1' });
  const other = await sleeper(docker, foreign);

  s = await startServer({ dataDir: first.dataDir });
  assert.equal(await exists(docker, ghost), false, 'a container of an unknown resource is removed');
  assert.equal(await exists(docker, stale), false, 'a container of a finished job is removed');
  assert.equal(await exists(docker, other), true, "another sagebox's container is left alone");
});
