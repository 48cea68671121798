/**
 * /metrics scraped while a training job runs and an endpoint is called: the
 * job, staging and invocation series move.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/protocol-http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { startServer, type TestServer, REGION, TEST_CREDENTIALS } from './helpers/server';
import { BUCKET, createJob, jobName, probeJob, settle } from './helpers/training';
import { FASTSERVE, TEST_CONFIG, createEndpoint, deleteEndpointQuietly, removeServerContainers, runtimeClient, waitForStatus } from './helpers/endpoints';

let s: TestServer;
before(async () => {
  s = await startServer(TEST_CONFIG);
  await s.app.ctx.objectStore.ensureBucket(BUCKET);
  await s.app.ctx.objectStore.put(BUCKET, 'metrics/train/data.csv', Buffer.alloc(4096, 'x'));
});
after(async () => {
  await removeServerContainers(s);
  await s.stop();
});

async function scrape(): Promise<string> {
  const url = new URL(s.url);
  const signer = new SignatureV4({ credentials: TEST_CREDENTIALS, region: REGION, service: 'sagemaker', sha256: Sha256, applyChecksum: false });
  const signed = await signer.sign(new HttpRequest({ method: 'GET', hostname: url.hostname, port: Number(url.port), path: '/metrics', headers: { host: url.host } }));
  const res = await fetch(`${s.url}/metrics`, { headers: signed.headers as Record<string, string> });
  assert.equal(res.status, 200);
  return res.text();
}

/** The value of one series (0 when absent). */
function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

it('jobs, staging and invocations show up in /metrics as they happen', async () => {
  const before = await scrape();
  const completed = 'sagebox_jobs_total{kind="training-job",status="Completed"}';
  const name = jobName('metrics');
  await createJob(s, probeJob(name, {
    InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/metrics/train/` } } }],
  }));
  assert.equal((await settle(s, name)).TrainingJobStatus, 'Completed');
  const afterJob = await scrape();
  assert.equal(value(afterJob, completed), value(before, completed) + 1);
  assert.ok(value(afterJob, 'sagebox_staging_bytes_total') >= value(before, 'sagebox_staging_bytes_total') + 4096, 'the channel was staged');
  assert.ok(value(afterJob, 'sagebox_job_duration_seconds_count{kind="training-job"}') >= 1);

  const ep = `metrics-ep-${process.pid}`;
  await createEndpoint(s, { name: ep, container: { Image: FASTSERVE } });
  await waitForStatus(s, ep, ['InService']);
  const rt = runtimeClient(s);
  for (let i = 0; i < 3; i++) await rt.send(new InvokeEndpointCommand({ EndpointName: ep, Body: Buffer.from(`call ${i}`), ContentType: 'text/plain' }));
  const afterCalls = await scrape();
  assert.equal(value(afterCalls, `sagebox_invocations_total{endpoint="${ep}",variant="AllTraffic",code="200"}`), 3);
  assert.equal(value(afterCalls, `sagebox_invocation_latency_seconds_count{endpoint="${ep}",variant="AllTraffic"}`), 3);
  rt.destroy();
  await deleteEndpointQuietly(s, ep);
});
