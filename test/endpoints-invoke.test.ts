/**
 * InvokeEndpoint and the serving contract through the JS SDK runtime client:
 * what the container sees (`serve`, Environment, /opt/ml/model read-only from
 * a .tar.gz or an uncompressed prefix, forwarded headers), what comes back,
 * ModelError / ValidationError / ServiceUnavailable as AWS words them, the
 * invocation timeout, the 6 MiB limit, logs per instance, network isolation.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { promisify } from 'node:util';
import { CloudWatchLogsClient, DescribeLogStreamsCommand, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { InvokeEndpointCommand, ModelError, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import Dockerode from 'dockerode';
import { REGION, TEST_CREDENTIALS, startServer, type TestServer } from './helpers/server';
import {
  PROBE, TEST_CONFIG, createEndpoint, endpointsFeature, eventually, putModelArchive, removeServerContainers, runtimeClient, waitForStatus,
} from './helpers/endpoints';

const run = promisify(execFile);
const ACCOUNT = '000000000000';
const docker = new Dockerode({ socketPath: '/var/run/docker.sock' });

async function rejects(p: Promise<unknown>, name: string, check: (err: any) => void): Promise<void> {
  await assert.rejects(p, (err: any) => {
    assert.equal(err.name, name, `error name (message: ${err.message})`);
    check(err);
    return true;
  });
}

function json(body: Uint8Array | undefined): any {
  return JSON.parse(Buffer.from(body ?? []).toString('utf8'));
}

describe('InvokeEndpoint and the serving contract', { timeout: 300_000 }, () => {
  let s: TestServer;
  let rt: SageMakerRuntimeClient;
  const containersOf = async (endpoint: string) => s.app.ctx.runtime.listByLabels({ 'sagebox.resource': endpoint, 'sagebox.instance': s.app.config.instanceId });

  before(async () => {
    s = await startServer(TEST_CONFIG);
    rt = runtimeClient(s);
    const archive = await putModelArchive(s, 'models', 'ep/model.tar.gz', { 'weights.txt': 'w', 'sub/a.txt': 'a' });
    const store = s.app.ctx.objectStore;
    await store.put('models', 'prefix/one.bin', Buffer.from('1'));
    await store.put('models', 'prefix/nested/two.bin', Buffer.from('22'));
    await store.put('models', 'single/only.txt', Buffer.from('only'));
    await putModelArchive(s, 'models', 'evil/model.tar.gz', { 'ok.txt': 'ok' }, { rawEntries: ['../escape.txt'] });
    await Promise.all([
      createEndpoint(s, { name: 'contract', container: { Image: PROBE, ModelDataUrl: archive, Environment: { MODEL_ENV: 'from-model', AWS_REGION: 'eu-west-1' } } }),
      createEndpoint(s, { name: 'prefix', container: { Image: PROBE, ModelDataSource: { S3DataSource: { S3Uri: 's3://models/prefix/', S3DataType: 'S3Prefix', CompressionType: 'None' } } } }),
      createEndpoint(s, { name: 'single', container: { Image: PROBE, ModelDataSource: { S3DataSource: { S3Uri: 's3://models/single/only.txt', S3DataType: 'S3Object', CompressionType: 'None' } } } }),
      createEndpoint(s, { name: 'isolated', container: { Image: PROBE }, networkIsolation: true }),
    ]);
    await Promise.all(['contract', 'prefix', 'single', 'isolated'].map((e) => waitForStatus(s, e, ['InService'])));
  });
  after(async () => {
    rt.destroy();
    await s.stop();
    await removeServerContainers(s);
  });

  it('runs `IMAGE serve` with the model Environment over the platform environment and /opt/ml/model read-only', async () => {
    const [c] = await containersOf('contract');
    assert.ok(c);
    const info = await docker.getContainer(c.id).inspect();
    assert.deepEqual(info.Config.Cmd, ['serve']);
    const mount = info.Mounts.find((m) => m.Destination === '/opt/ml/model');
    assert.equal(mount?.RW, false, '/opt/ml/model is mounted read-only');
    assert.equal(info.Config.Labels['sagebox.kind'], 'endpoint');
    assert.equal(info.Config.Labels['sagebox.variant'], 'AllTraffic');
    const write = await run('docker', ['exec', c.id, 'sh', '-c', 'touch /opt/ml/model/x 2>&1; echo rc=$?']).then((r) => r.stdout);
    assert.match(write, /Read-only file system/);
    const res = await rt.send(new InvokeEndpointCommand({ EndpointName: 'contract', Body: Buffer.from('{}') }));
    const seen = json(res.Body);
    assert.equal(seen.env.MODEL_ENV, 'from-model');
    assert.equal(seen.env.AWS_REGION, 'eu-west-1', 'the model Environment wins over the platform environment');
    assert.equal(seen.env.AWS_DEFAULT_REGION, REGION, 'the platform environment is there');
    assert.deepEqual(seen.model_files.filter((f: any) => f.type === 'file').map((f: any) => f.path), ['sub/a.txt', 'weights.txt']);
  });

  it('copies an uncompressed S3Prefix and a single S3Object into /opt/ml/model', async () => {
    const prefix = json((await rt.send(new InvokeEndpointCommand({ EndpointName: 'prefix', Body: Buffer.from('x') }))).Body);
    assert.deepEqual(prefix.model_files.filter((f: any) => f.type === 'file').map((f: any) => [f.path, f.size]), [['nested/two.bin', 2], ['one.bin', 1]]);
    const single = json((await rt.send(new InvokeEndpointCommand({ EndpointName: 'single', Body: Buffer.from('x') }))).Body);
    assert.deepEqual(single.model_files.map((f: any) => f.path), ['only.txt']);
  });

  it('forwards Content-Type, Accept and the SageMaker headers, and returns the container body and headers', async () => {
    const res = await rt.send(
      new InvokeEndpointCommand({
        EndpointName: 'contract',
        Body: Buffer.from('a,b\n1,2\n'),
        ContentType: 'text/csv',
        Accept: 'application/json',
        CustomAttributes: 'trace=abc; tenant=t1',
        TargetModel: 'model-a.tar.gz',
        InferenceId: 'inference-1',
      }),
    );
    assert.equal(res.$metadata.httpStatusCode, 200);
    assert.equal(res.InvokedProductionVariant, 'AllTraffic');
    assert.equal(res.ContentType, 'application/json');
    assert.equal(res.CustomAttributes, 'trace=abc; tenant=t1');
    const seen = json(res.Body);
    assert.equal(seen.method, 'POST');
    assert.equal(seen.path, '/invocations');
    assert.equal(seen.body, 'a,b\n1,2\n');
    assert.equal(seen.content_type, 'text/csv');
    assert.equal(seen.accept, 'application/json');
    const headers = Object.fromEntries(Object.entries(seen.headers as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]));
    assert.equal(headers['x-amzn-sagemaker-custom-attributes'], 'trace=abc; tenant=t1');
    assert.equal(headers['x-amzn-sagemaker-target-model'], 'model-a.tar.gz');
    assert.equal(headers['x-amzn-sagemaker-inference-id'], 'inference-1');
    assert.equal(headers.authorization, undefined, 'the client signature is not forwarded');
    assert.equal(headers['x-amz-date'], undefined);
    // A body the container sends without custom attributes comes back without them.
    const plain = await rt.send(new InvokeEndpointCommand({ EndpointName: 'contract', Body: Buffer.from('x') }));
    assert.equal(plain.CustomAttributes, undefined);
  });

  it('passes binary bodies through byte for byte, up to exactly 6 MiB', async () => {
    const body = Buffer.alloc(6 * 1024 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 0xff;
    const res = await rt.send(new InvokeEndpointCommand({ EndpointName: 'contract', Body: body, ContentType: 'application/octet-stream' }));
    const seen = json(res.Body);
    assert.equal(seen.body_len, 6291456);
    const { createHash } = await import('node:crypto');
    assert.equal(seen.body_sha256, createHash('sha256').update(body).digest('hex'));
  });

  it('refuses a payload over 6 MiB, a bad endpoint name and an unknown TargetVariant with ValidationError', async () => {
    await rejects(rt.send(new InvokeEndpointCommand({ EndpointName: 'contract', Body: Buffer.alloc(6291457) })), 'ValidationError', (e) => {
      assert.equal(e.$metadata.httpStatusCode, 400);
      assert.match(e.message, /at 'body' failed to satisfy constraint: Member must have length less than or equal to 6291456/);
    });
    await rejects(rt.send(new InvokeEndpointCommand({ EndpointName: 'bad_name', Body: Buffer.from('x') })), 'ValidationError', (e) =>
      assert.match(e.message, /Value 'bad_name' at 'endpointName' failed to satisfy constraint: Member must satisfy regular expression pattern/),
    );
    await rejects(rt.send(new InvokeEndpointCommand({ EndpointName: 'contract', TargetVariant: 'Nope', Body: Buffer.from('x') })), 'ValidationError', (e) =>
      assert.match(e.message, /no production variant named Nope/),
    );
    const ok = await rt.send(new InvokeEndpointCommand({ EndpointName: 'contract', TargetVariant: 'AllTraffic', Body: Buffer.from('x') }));
    assert.equal(ok.InvokedProductionVariant, 'AllTraffic');
  });

  it('turns a container error status into ModelError 424 worded as AWS', async () => {
    const group = '/aws/sagemaker/Endpoints/contract';
    for (const [status, kind] of [[400, 'client'], [500, 'server']] as const) {
      await rejects(rt.send(new InvokeEndpointCommand({ EndpointName: 'contract', Body: Buffer.from(`probe-status=${status}`) })), 'ModelError', (e: ModelError) => {
        assert.ok(e instanceof ModelError);
        assert.equal(e.$metadata.httpStatusCode, 424);
        assert.equal(e.OriginalStatusCode, status);
        assert.equal(JSON.parse(e.OriginalMessage!).status, status);
        assert.equal(e.LogStreamArn, `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${group}`);
        // Long container messages are cut at 1024 characters inside Message (OriginalMessage keeps up to 2048).
        const shown = e.OriginalMessage!.length > 1024 ? `${e.OriginalMessage!.slice(0, 1024)}...` : e.OriginalMessage;
        assert.equal(
          e.message,
          `Received ${kind} error (${status}) from primary with message "${shown}". See https://${REGION}.console.aws.amazon.com/cloudwatch/home?region=${REGION}#logEventViewer:group=${group} in account ${ACCOUNT} for more information.`,
        );
      });
    }
  });

  it('answers ModelError with the timeout message when the container is too slow', async () => {
    const settings = endpointsFeature(s).settings;
    const saved = settings.invocationTimeoutMs;
    settings.invocationTimeoutMs = 1000;
    try {
      const started = Date.now();
      await rejects(rt.send(new InvokeEndpointCommand({ EndpointName: 'contract', CustomAttributes: 'probe-delay-ms=4000', Body: Buffer.from('slow') })), 'ModelError', (e: ModelError) => {
        assert.equal(e.OriginalStatusCode, 0);
        assert.equal(
          e.OriginalMessage,
          'Your invocation timed out while waiting for a response from container primary. Review the latency metrics for each container in Amazon CloudWatch, resolve the issue, and try again.',
        );
        assert.match(e.message, /^Received server error \(0\) from primary with message "Your invocation timed out/);
      });
      assert.ok(Date.now() - started < 3500, 'answered at the timeout, not when the container finished');
    } finally {
      settings.invocationTimeoutMs = saved;
    }
  });

  it('writes each instance log into /aws/sagemaker/Endpoints/<name>, stream <Variant>/<instance-id>', async () => {
    const logs = new CloudWatchLogsClient({ endpoint: s.url, region: REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    const group = '/aws/sagemaker/Endpoints/contract';
    const streams = await logs.send(new DescribeLogStreamsCommand({ logGroupName: group, logStreamNamePrefix: 'AllTraffic/' }));
    assert.equal(streams.logStreams?.length, 1);
    const name = streams.logStreams![0]!.logStreamName!;
    assert.match(name, /^AllTraffic\/i-[0-9a-f]{17}$/);
    const events = await eventually('the serve line', async () => {
      const r = await logs.send(new GetLogEventsCommand({ logGroupName: group, logStreamName: name, startFromHead: true }));
      const text = r.events?.map((e) => e.message).join('\n') ?? '';
      return /PROBE: listening on 0\.0\.0\.0:8080/.test(text) ? text : undefined;
    });
    assert.match(events, /PROBE: serve argv=\["serve"\]/);
    logs.destroy();
  });

  it('serves a model with EnableNetworkIsolation from an internal network without outbound access', async () => {
    const res = await rt.send(new InvokeEndpointCommand({ EndpointName: 'isolated', Body: Buffer.from('isolated') }));
    assert.equal(json(res.Body).body, 'isolated');
    const [iso] = await containersOf('isolated');
    const [open] = await containersOf('contract');
    const info = await docker.getContainer(iso!.id).inspect();
    const networks = Object.keys(info.NetworkSettings.Networks);
    assert.deepEqual(networks, [`sagebox-${s.app.config.instanceId}-isolated`]);
    assert.equal((await docker.getNetwork(networks[0]!).inspect()).Internal, true);
    const target = (await lookup('deb.debian.org', { family: 4 }).catch(() => ({ address: '1.1.1.1' }))).address;
    const port = target === '1.1.1.1' ? '53' : '80';
    const probe = `import socket\ntry:\n  socket.create_connection(('${target}', ${port}), 3).close(); print('reached')\nexcept OSError as e:\n  print('blocked', e)`;
    const fromOpen = await run('docker', ['exec', open!.id, 'python3', '-c', probe]);
    assert.match(fromOpen.stdout, /reached/, `the control container reaches ${target}:${port}`);
    const fromIsolated = await run('docker', ['exec', iso!.id, 'python3', '-c', probe]);
    assert.match(fromIsolated.stdout, /blocked/, 'the isolated container has no route out');
  });

  it('refuses a model archive with an entry outside the model directory: the endpoint fails', async () => {
    await createEndpoint(s, { name: 'traversal', container: { Image: PROBE, ModelDataUrl: 's3://models/evil/model.tar.gz' } });
    const d = await waitForStatus(s, 'traversal', ['Failed', 'InService']);
    assert.equal(d.EndpointStatus, 'Failed');
    assert.match(d.FailureReason ?? '', /^Failed to download model data for the primary container of production variant AllTraffic from s3:\/\/models\/evil\/model\.tar\.gz: .*Refusing archive entry "\.\.\/escape\.txt"/);
    assert.deepEqual(await containersOf('traversal'), []);
  });

  it('answers ServiceUnavailable while no instance is in service, then the replaced instance serves', async () => {
    await createEndpoint(s, { name: 'lonely' });
    await waitForStatus(s, 'lonely', ['InService']);
    const [c] = await containersOf('lonely');
    await docker.getContainer(c!.id).kill();
    await rejects(rt.send(new InvokeEndpointCommand({ EndpointName: 'lonely', Body: Buffer.from('x') })), 'ServiceUnavailable', (e) => assert.equal(e.$metadata.httpStatusCode, 503));
    const res = await eventually('a replacement instance', () => rt.send(new InvokeEndpointCommand({ EndpointName: 'lonely', Body: Buffer.from('back') })).catch(() => undefined), 30_000, 200);
    assert.equal(json(res.Body).body, 'back');
    const d = await waitForStatus(s, 'lonely', ['InService']);
    assert.equal(d.ProductionVariants?.[0]?.CurrentInstanceCount, 1);
    const now = await containersOf('lonely');
    assert.equal(now.length, 1);
    assert.notEqual(now[0]!.id, c!.id);
  });
});
