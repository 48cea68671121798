/**
 * Containers stopped from outside sagebox while a job runs (`docker stop`, as
 * the engine does to every container when it shuts down): a transform job
 * starts the same containers again and finishes with every output exactly
 * once; after three such resumes it fails saying so; a training job fails
 * with a reason naming the outside stop, not as an AlgorithmError. The
 * engine-restart case itself is in test/serial/engine-restart.test.ts.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import Dockerode from 'dockerode';
import { StopTrainingJobCommand } from '@aws-sdk/client-sagemaker';
import type { ContainerState } from '../src/runtime/container-runtime';
import type { TestServer } from './helpers/server';
import * as training from './helpers/training';
import { BUCKET, createJob, createModel, getText, listKeys, putObject, settle, sleep, uniqueName } from './helpers/transform';

const docker = new Dockerode();

describe('containers stopped from outside sagebox', { timeout: 300_000 }, () => {
  let s: TestServer;
  before(async () => {
    s = await training.startTrainingServer();
  });
  after(async () => {
    await s.stop();
  });

  /** The running container of a job's host, once there is one. */
  async function runningContainer(name: string, notId?: string, startedAfter = 0): Promise<ContainerState> {
    for (const until = Date.now() + 60_000; Date.now() < until; await sleep(100)) {
      const [c] = await s.app.ctx.runtime.listByLabels({ 'sagebox.resource': name, 'sagebox.instance': s.app.config.instanceId });
      if (c?.running && c.id !== notId && (c.startedAt ?? 0) > startedAfter) return c;
    }
    throw new Error(`no running container for ${name}`);
  }

  async function outputsDone(name: string, n: number): Promise<void> {
    const out = `${s.dataDir}/jobs/transform-job/${name}/out`;
    for (const until = Date.now() + 60_000; Date.now() < until; await sleep(100)) {
      if (fs.existsSync(out) && fs.readdirSync(out).filter((f) => f.endsWith('.out')).length >= n) return;
    }
    throw new Error(`${name}: ${n} outputs were not finished in time`);
  }

  it('a transform job whose serving container is stopped goes on in the same container; every output exactly once', async () => {
    const name = uniqueName('xstop');
    await createModel(s, `${name}-model`, { RECORDER_DELAY_MS: '700' });
    for (let i = 0; i < 8; i++) await putObject(s, `${name}/in/part-${i}.txt`, `object-${i}\n`);
    await createJob(s, { name, model: `${name}-model`, input: `s3://${BUCKET}/${name}/in/`, output: `s3://${BUCKET}/${name}/out` });
    const first = await runningContainer(name);
    await outputsDone(name, 2);
    await docker.getContainer(first.id).stop({ t: 1 });
    const again = await runningContainer(name, undefined, first.startedAt);
    assert.equal(again.id, first.id, 'the same container is started again');

    const d = await settle(s, name);
    assert.equal(d.TransformJobStatus, 'Completed', d.FailureReason);
    const keys = await listKeys(s, `${name}/out/`);
    assert.deepEqual(keys, [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `${name}/out/part-${i}.txt.out`));
    for (let i = 0; i < 8; i++) {
      const seen = JSON.parse(await getText(s, `${name}/out/part-${i}.txt.out`)) as { body: string };
      assert.equal(seen.body, `object-${i}\n`);
    }
  });

  it('a transform job stopped from outside a fourth time fails, saying how often it was resumed', async () => {
    const name = uniqueName('xstop4');
    await createModel(s, `${name}-model`, { RECORDER_DELAY_MS: '1000' });
    for (let i = 0; i < 30; i++) await putObject(s, `${name}/in/part-${String(i).padStart(2, '0')}.txt`, `object-${i}\n`);
    await createJob(s, { name, model: `${name}-model`, input: `s3://${BUCKET}/${name}/in/`, output: `s3://${BUCKET}/${name}/out` });
    let c = await runningContainer(name);
    for (let round = 1; round <= 4; round++) {
      await docker.getContainer(c.id).stop({ t: 1 });
      if (round < 4) c = await runningContainer(name, undefined, c.startedAt);
    }
    const d = await settle(s, name);
    assert.equal(d.TransformJobStatus, 'Failed');
    assert.match(d.FailureReason ?? '', /^ClientError: The container of algo-1 \(SIGTERM\) was stopped from outside sagebox while the job ran: .* The job was resumed 3 time\(s\) already\./);
  });

  it('a training job whose container is stopped fails with a reason naming the outside stop, not an AlgorithmError', async () => {
    const name = training.jobName('tstop');
    await training.createJob(s, training.probeJob(name, { env: { PROBE_SLEEP: '60' } }));
    const c = await runningContainer(name);
    await docker.getContainer(c.id).stop({ t: 1 });
    const d = await training.settle(s, name);
    assert.equal(d.TrainingJobStatus, 'Failed');
    assert.match(d.FailureReason ?? '', /^ClientError: The container of algo-1 \(SIGTERM\) was stopped from outside sagebox while the job ran: the Docker engine shut down or restarted/);
    assert.match(d.FailureReason ?? '', /The job cannot go on from where it was; run it again\.$/);
  });

  it('a container that sagebox stops itself (StopTrainingJob) is not taken for an outside stop', async () => {
    const name = training.jobName('ownstop');
    await training.createJob(s, training.probeJob(name, { env: { PROBE_SLEEP: '60' } }));
    await runningContainer(name);
    await s.sagemaker.send(new StopTrainingJobCommand({ TrainingJobName: name }));
    const d = await training.settle(s, name);
    assert.equal(d.TrainingJobStatus, 'Stopped');
    assert.equal(d.FailureReason, undefined);
  });
});
