/**
 * The serving module on its own (what batch transform builds on): model
 * directories, a serving container's start / health / stop, and the instance
 * client's errors.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { containerLabels } from '../src/runtime/labels';
import {
  ConnectionFailedError, ContainerExitedError, HealthCheckTimeoutError, InstanceClient, InvocationTimeoutError, ModelDataError,
  createServingContainer, locateServingContainer, prepareModelDir, resolveServingModel, stopServingContainer, waitUntilHealthy,
  type ServingModel,
} from '../src/serving';
import { startServer, type TestServer } from './helpers/server';
import { PROBE, TEST_CONFIG, putModelArchive, removeServerContainers } from './helpers/endpoints';

describe('the serving module', { timeout: 120_000 }, () => {
  let s: TestServer;
  let work: string;

  before(async () => {
    s = await startServer(TEST_CONFIG);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'sagebox-serving-'));
  });
  after(async () => {
    await s.stop();
    await removeServerContainers(s);
    fs.rmSync(work, { recursive: true, force: true });
  });

  const start = async (model: ServingModel, name: string): Promise<{ id: string; client: InstanceClient }> => {
    const dir = path.join(work, name);
    await prepareModelDir(s.app.ctx.transfer, model.modelData, dir);
    const id = await createServingContainer(s.app.ctx.runtime, {
      name: `sagebox-${s.app.config.instanceId}-module-${name}`,
      model,
      modelDir: dir,
      labels: containerLabels({ instance: s.app.config.instanceId, kind: 'transform-job', resource: `module-${name}`, host: 'algo-1' }),
      sageboxInstanceId: s.app.config.instanceId,
      platformEnv: { SAGEMAKER_BATCH: 'true' },
      overrideEnv: { FROM_JOB: 'job' },
    });
    await s.app.ctx.runtime.start(id);
    return { id, client: new InstanceClient(await locateServingContainer(s.app.ctx.runtime, id)) };
  };

  it('resolves a model record, prepares /opt/ml/model, serves, and stops', async () => {
    const uri = await putModelArchive(s, 'models', 'module/model.tar.gz', { 'm.txt': 'm' });
    const model = resolveServingModel({ ModelName: 'm', ModelArn: 'arn', CreationTime: 0, PrimaryContainer: { Image: PROBE, ModelDataUrl: uri, Environment: { FROM_MODEL: 'model', FROM_JOB: 'model' } } });
    assert.deepEqual(model.modelData, { kind: 'archive', uri });
    const { id, client } = await start(model, 'ok');
    await waitUntilHealthy(s.app.ctx.runtime, id, client, { timeoutSeconds: 30 });
    assert.equal(await client.ping(), 200);
    const res = await client.invoke({ body: Buffer.from('a,b'), headers: { 'content-type': 'text/csv' }, timeoutMs: 5000 });
    assert.equal(res.statusCode, 200);
    const seen = JSON.parse(res.body.toString());
    assert.equal(seen.env.SAGEMAKER_BATCH, 'true');
    assert.equal(seen.env.FROM_MODEL, 'model');
    assert.equal(seen.env.FROM_JOB, 'job', 'overrideEnv wins over the model Environment');
    assert.deepEqual(seen.model_files.map((f: { path: string }) => f.path), ['m.txt']);
    await assert.rejects(client.invoke({ body: Buffer.from('x'), headers: { 'x-amzn-sagemaker-custom-attributes': 'probe-delay-ms=2000' }, timeoutMs: 300 }), InvocationTimeoutError);
    await client.destroy();
    await stopServingContainer(s.app.ctx.runtime, id, 1);
    assert.equal(await s.app.ctx.runtime.inspect(id), undefined);
  });

  it('gives up on /ping at the deadline, and at once when the container exits', async () => {
    const unhealthy = await start({ modelName: 'u', image: PROBE, environment: { PROBE_PING_STATUS: '500' }, networkIsolation: false }, 'unhealthy');
    const t0 = Date.now();
    await assert.rejects(waitUntilHealthy(s.app.ctx.runtime, unhealthy.id, unhealthy.client, { timeoutSeconds: 1.5 }), (e: Error) => e instanceof HealthCheckTimeoutError && /HTTP 500/.test(e.message));
    assert.ok(Date.now() - t0 < 4000);
    const crashing = await start({ modelName: 'c', image: PROBE, environment: { SAGEMAKER_BIND_TO_PORT: 'x' }, networkIsolation: false }, 'crashing').catch((e: unknown) => e);
    if (!(crashing instanceof ContainerExitedError)) {
      const c = crashing as { id: string; client: InstanceClient };
      await assert.rejects(waitUntilHealthy(s.app.ctx.runtime, c.id, c.client, { timeoutSeconds: 30 }), ContainerExitedError);
      await c.client.destroy();
    }
    await unhealthy.client.destroy();
  });

  it("does not take another container's 200 for a crashed container's (the engine reuses a stopped container's IP)", async () => {
    // The situation CI met: the container sagebox started crashed, and the address it had answers
    // /ping 200 from a container started after it. Here the other container's address is given outright.
    const other = await start({ modelName: 'o', image: PROBE, environment: {}, networkIsolation: false }, 'other');
    await waitUntilHealthy(s.app.ctx.runtime, other.id, other.client, { timeoutSeconds: 30 });
    const dir = path.join(work, 'gone');
    fs.mkdirSync(dir, { recursive: true });
    const gone = await createServingContainer(s.app.ctx.runtime, {
      name: `sagebox-${s.app.config.instanceId}-module-gone`,
      model: { modelName: 'g', image: PROBE, environment: { SAGEMAKER_BIND_TO_PORT: 'x' }, networkIsolation: false },
      modelDir: dir,
      labels: containerLabels({ instance: s.app.config.instanceId, kind: 'transform-job', resource: 'module-gone', host: 'algo-1' }),
      sageboxInstanceId: s.app.config.instanceId,
    });
    await s.app.ctx.runtime.start(gone);
    assert.notEqual((await s.app.ctx.runtime.wait(gone)).exitCode, 0);
    await assert.rejects(waitUntilHealthy(s.app.ctx.runtime, gone, other.client, { timeoutSeconds: 30 }), ContainerExitedError);
    await other.client.destroy();
    await stopServingContainer(s.app.ctx.runtime, other.id, 1);
    await s.app.ctx.runtime.remove(gone);
  });

  it('prepares model directories from a prefix and refuses archives that climb out', async () => {
    await s.app.ctx.objectStore.put('models', 'module-prefix/a/b.txt', Buffer.from('b'));
    const dir = path.join(work, 'prefix');
    await prepareModelDir(s.app.ctx.transfer, { kind: 'prefix', uri: 's3://models/module-prefix/' }, dir);
    assert.equal(fs.readFileSync(path.join(dir, 'a', 'b.txt'), 'utf8'), 'b');
    const evil = await putModelArchive(s, 'models', 'module-evil/model.tar.gz', { 'ok.txt': 'ok' }, { rawEntries: ['../escape.txt'] });
    const bad = path.join(work, 'evil');
    await assert.rejects(prepareModelDir(s.app.ctx.transfer, { kind: 'archive', uri: evil }, bad), (e: Error) => e instanceof ModelDataError && /Refusing archive entry "\.\.\/escape\.txt"/.test(e.message));
    assert.equal(fs.existsSync(bad), false, 'nothing is left behind');
    assert.equal(fs.existsSync(path.join(work, 'escape.txt')), false);
    await assert.rejects(prepareModelDir(s.app.ctx.transfer, { kind: 'archive', uri: 's3://models/none.tar.gz' }, path.join(work, 'none')), ModelDataError);
  });

  it('reports a refused connection as retryable', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const client = new InstanceClient({ host: '127.0.0.1', port });
    await assert.rejects(client.invoke({ body: Buffer.from('x'), headers: {}, timeoutMs: 1000 }), (e: Error) => e instanceof ConnectionFailedError && e.retryable && e.code === 'ECONNREFUSED');
    await client.destroy();
  });
});
