/**
 * A restart of the Docker engine while sagebox runs a transform job, a
 * training job and an endpoint. The engine stops every container as it shuts
 * down. Expected: the transform job starts its container again and completes
 * with every output exactly once and its log lines each stored once; the
 * training job fails with a reason naming the outside stop (its process is
 * gone; it is not an AlgorithmError); the endpoint stays InService and serves
 * again from a replacement instance.
 *
 * Runs alone (scripts/test.sh runs test/serial/ after everything else): the
 * restart would stop the other suites' containers.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, it } from 'node:test';
import { DescribeEndpointCommand } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { restartEngine } from '../helpers/engine';
import { createEndpoint, removeServerContainers, runtimeClient, waitForStatus } from '../helpers/endpoints';
import type { TestServer } from '../helpers/server';
import * as training from '../helpers/training';
import { BUCKET, LOG_GROUP, createJob, createModel, getText, jobLogs, listKeys, putObject, settle, sleep, uniqueName } from '../helpers/transform';

let s: TestServer;
before(async () => {
  s = await training.startTrainingServer();
});
after(async () => {
  await s.stop();
  await removeServerContainers(s);
});

async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  for (const end = Date.now() + timeoutMs; ; await sleep(200)) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
}

it('a restart of the Docker engine: the transform job goes on, the training job fails saying why, the endpoint serves again', { timeout: 300_000 }, async () => {
  const xf = uniqueName('engine-xf');
  await createModel(s, `${xf}-model`, { RECORDER_DELAY_MS: '700' });
  for (let i = 0; i < 6; i++) await putObject(s, `${xf}/in/part-${i}.txt`, `object-${i}\n`);
  await createJob(s, { name: xf, model: `${xf}-model`, input: `s3://${BUCKET}/${xf}/in/`, output: `s3://${BUCKET}/${xf}/out` });

  const tr = training.jobName('engine-train');
  await training.createJob(s, training.probeJob(tr, { env: { PROBE_SLEEP: '120' } }));

  const ep = uniqueName('engine-ep');
  await createEndpoint(s, { name: ep });
  await waitForStatus(s, ep, ['InService']);
  const rt = runtimeClient(s);
  const invoke = async (): Promise<string> => Buffer.from((await rt.send(new InvokeEndpointCommand({ EndpointName: ep, Body: Buffer.from('hello') }))).Body!).toString();
  assert.match(await invoke(), /hello/);

  const outDir = `${s.dataDir}/jobs/transform-job/${xf}/out`;
  await eventually('two transform outputs', async () => (fs.existsSync(outDir) && fs.readdirSync(outDir).filter((f) => f.endsWith('.out')).length >= 2 ? true : undefined));
  await eventually('the training container running', async () => ((await training.describe(s, tr)).SecondaryStatus === 'Training' ? true : undefined));

  await restartEngine();

  const x = await settle(s, xf, 180_000);
  assert.equal(x.TransformJobStatus, 'Completed', x.FailureReason);
  assert.deepEqual(await listKeys(s, `${xf}/out/`), [0, 1, 2, 3, 4, 5].map((i) => `${xf}/out/part-${i}.txt.out`));
  for (let i = 0; i < 6; i++) assert.equal((JSON.parse(await getText(s, `${xf}/out/part-${i}.txt.out`)) as { body: string }).body, `object-${i}\n`);
  const lines = [...jobLogs(s, xf).entries()].filter(([k]) => !k.endsWith('/data-log')).flatMap(([, v]) => v);
  assert.ok(lines.filter((l) => l.startsWith('RECORDER listening')).length >= 2, 'the start lines of both runs are stored');
  assert.ok(lines.filter((l) => l.startsWith('RECORDER request')).length >= 6, 'the requests of both runs are stored');
  const events = s.app.ctx.logs.streams(LOG_GROUP, `${xf}/`).flatMap((st) => s.app.ctx.logs.events(st.id, { limit: 100_000 }).map((e) => `${st.name} ${e.timestamp} ${e.message}`));
  assert.equal(new Set(events).size, events.length, 'no line is stored twice (same stream, time and text)');

  const t = await training.settle(s, tr, 180_000);
  assert.equal(t.TrainingJobStatus, 'Failed');
  assert.match(t.FailureReason ?? '', /^ClientError: The container of algo-1 \(SIGTERM\) was stopped from outside sagebox while the job ran: the Docker engine shut down or restarted/);

  assert.match(await eventually('the endpoint serving again', () => invoke()), /hello/);
  const d = await s.sagemaker.send(new DescribeEndpointCommand({ EndpointName: ep }));
  assert.equal(d.EndpointStatus, 'InService');
  assert.equal(d.ProductionVariants?.[0]?.CurrentInstanceCount, 1);
  rt.destroy();
});
