/**
 * A restart of sagebox does not take endpoints down: stopping the App leaves
 * the containers running, a new App on the same data directory re-attaches
 * them and serves; an instance whose container vanished while sagebox was
 * down is started again; an endpoint left Creating finishes creating.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DescribeEndpointCommand } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import Dockerode from 'dockerode';
import { startServer, type TestServer } from './helpers/server';
import { FASTSERVE, TEST_CONFIG, createEndpoint, eventually, removeServerContainers, runtimeClient, waitForStatus } from './helpers/endpoints';

const docker = new Dockerode({ socketPath: '/var/run/docker.sock' });

async function invoke(s: TestServer, endpoint: string, text: string): Promise<string> {
  const rt = runtimeClient(s);
  try {
    const r = await rt.send(new InvokeEndpointCommand({ EndpointName: endpoint, Body: Buffer.from(text) }));
    return Buffer.from(r.Body!).toString();
  } finally {
    rt.destroy();
  }
}

describe('endpoints across a restart of sagebox', { timeout: 300_000 }, () => {
  let current: TestServer | undefined;
  after(async () => {
    if (current) {
      await current.stop();
      await removeServerContainers(current);
    }
  });

  it('re-attaches running containers, brings back missing ones and resumes an interrupted creation', async () => {
    const first = await startServer(TEST_CONFIG);
    current = first;
    await createEndpoint(first, { name: 'steady', container: { Image: FASTSERVE }, variants: [{ InitialInstanceCount: 2 }] });
    await waitForStatus(first, 'steady', ['InService']);
    assert.equal(await invoke(first, 'steady', 'before'), 'before');
    const running = async (): Promise<string[]> =>
      (await first.app.ctx.runtime.listByLabels({ 'sagebox.resource': 'steady', 'sagebox.instance': first.app.config.instanceId })).filter((c) => c.running).map((c) => c.id).sort();
    const ids = await running();
    assert.equal(ids.length, 2);

    // Stop: the containers keep running.
    await first.stop();
    current = undefined;
    assert.deepEqual(await running(), ids, 'stopping sagebox leaves the endpoint containers running');

    // Start again on the same data directory: the same containers serve at once.
    const second = await startServer({ ...TEST_CONFIG, dataDir: first.dataDir });
    current = second;
    const d = await second.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'steady' }));
    assert.equal(d.EndpointStatus, 'InService');
    assert.equal(d.ProductionVariants?.[0]?.CurrentInstanceCount, 2);
    assert.equal(await invoke(second, 'steady', 'after'), 'after');
    assert.deepEqual(await running(), ids, 're-attached, not recreated');

    // Lose a container while sagebox is down, and stop in the middle of a creation.
    await createEndpoint(second, { name: 'late', container: { Image: FASTSERVE } });
    await second.stop();
    current = undefined;
    await docker.getContainer(ids[0]!).remove({ force: true });

    const third = await startServer({ ...TEST_CONFIG, dataDir: first.dataDir });
    current = third;
    assert.equal((await third.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'steady' }))).EndpointStatus, 'InService');
    assert.equal(await invoke(third, 'steady', 'one left'), 'one left', 'the surviving instance serves at once');
    await eventually('the missing instance back', async () => {
      const x = await third.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'steady' }));
      return x.ProductionVariants?.[0]?.CurrentInstanceCount === 2 ? true : undefined;
    });
    const now = await running();
    assert.equal(now.length, 2);
    assert.ok(now.includes(ids[1]!) && !now.includes(ids[0]!));
    await waitForStatus(third, 'late', ['InService']);
    assert.equal(await invoke(third, 'late', 'created'), 'created');
  });
});
