/**
 * Fleets under load (loopback, bounded concurrency, the JS SDK without
 * retries): three endpoints in service at once, a 3:1 weighted split over two
 * variants of two instances each, live weights and capacities, a blue/green
 * UpdateEndpoint with zero failed requests, a killed instance replaced with
 * zero failed requests, and an update whose new fleet fails being rolled back.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateEndpointConfigCommand, CreateModelCommand, DescribeEndpointCommand, ListEndpointsCommand, UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import Dockerode from 'dockerode';
import { startServer, type TestServer } from './helpers/server';
import { FASTSERVE, PROBE, TEST_CONFIG, createEndpoint, endpointsFeature, eventually, removeServerContainers, runtimeClient, waitForStatus } from './helpers/endpoints';

const docker = new Dockerode({ socketPath: '/var/run/docker.sock' });

interface LoadResult {
  ok: number;
  errors: string[];
  variants: Record<string, number>;
}

/** `workers` clients invoking `endpoint` back to back until stop() is called. */
function steadyLoad(rt: SageMakerRuntimeClient, endpoint: string, workers: number): { stop(): Promise<LoadResult>; result: LoadResult } {
  const result: LoadResult = { ok: 0, errors: [], variants: {} };
  let running = true;
  const loops = Array.from({ length: workers }, async (_, w) => {
    for (let i = 0; running; i++) {
      const body = Buffer.from(`worker ${w} request ${i}`);
      try {
        // A request that never ends fails the test instead of hanging it.
        const r = await rt.send(new InvokeEndpointCommand({ EndpointName: endpoint, Body: body }), { abortSignal: AbortSignal.timeout(90_000) });
        if (Buffer.compare(Buffer.from(r.Body!), body) !== 0) throw new Error('wrong body');
        result.ok++;
        const v = r.InvokedProductionVariant ?? '?';
        result.variants[v] = (result.variants[v] ?? 0) + 1;
      } catch (err) {
        result.errors.push(`${(err as Error).name}: ${(err as Error).message}`);
      }
    }
  });
  return {
    result,
    async stop() {
      running = false;
      await Promise.all(loops);
      return result;
    },
  };
}

describe('endpoint fleets under load', { timeout: 300_000 }, () => {
  let s: TestServer;
  let rt: SageMakerRuntimeClient;
  const containersOf = async (endpoint: string) =>
    (await s.app.ctx.runtime.listByLabels({ 'sagebox.resource': endpoint, 'sagebox.instance': s.app.config.instanceId })).filter((c) => c.running);

  before(async () => {
    s = await startServer(TEST_CONFIG);
    rt = runtimeClient(s);
    await s.sagemaker.send(new CreateModelCommand({ ModelName: 'fast', PrimaryContainer: { Image: FASTSERVE } }));
    await s.sagemaker.send(new CreateModelCommand({ ModelName: 'crash', PrimaryContainer: { Image: PROBE, Environment: { SAGEMAKER_BIND_TO_PORT: 'notaport' } } }));
    const variant = { ModelName: 'fast', InstanceType: 'ml.m5.large' as const, InitialInstanceCount: 2 };
    await s.sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'blue', ProductionVariants: [{ ...variant, VariantName: 'Blue' }] }));
    await s.sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'green', ProductionVariants: [{ ...variant, VariantName: 'Green' }] }));
    await s.sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'broken', ProductionVariants: [{ ...variant, ModelName: 'crash', VariantName: 'Broken' }] }));
    await Promise.all([
      createEndpoint(s, { name: 'split', container: { Image: FASTSERVE }, variants: [{ VariantName: 'A', InitialInstanceCount: 2, InitialVariantWeight: 3 }, { VariantName: 'B', InitialInstanceCount: 2, InitialVariantWeight: 1 }] }),
      createEndpoint(s, { name: 'third', container: { Image: PROBE } }),
      (async () => {
        const { CreateEndpointCommand } = await import('@aws-sdk/client-sagemaker');
        await s.sagemaker.send(new CreateEndpointCommand({ EndpointName: 'rolling', EndpointConfigName: 'blue' }));
      })(),
    ]);
    await Promise.all(['split', 'third', 'rolling'].map((e) => waitForStatus(s, e, ['InService'])));
  });
  after(async () => {
    rt.destroy();
    await s.stop();
    await removeServerContainers(s);
  });

  it('has three endpoints in service at once, one with two variants of two instances each', async () => {
    const listed = await s.sagemaker.send(new ListEndpointsCommand({ StatusEquals: 'InService', SortBy: 'Name', SortOrder: 'Ascending' }));
    assert.deepEqual(listed.Endpoints?.map((e) => e.EndpointName), ['rolling', 'split', 'third']);
    const split = await s.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'split' }));
    assert.deepEqual(
      split.ProductionVariants?.map((v) => [v.VariantName, v.CurrentInstanceCount, v.DesiredInstanceCount, v.CurrentWeight]),
      [['A', 2, 2, 3], ['B', 2, 2, 1]],
    );
    assert.equal((await containersOf('split')).length, 4);
    for (const e of ['split', 'third', 'rolling']) {
      const r = await rt.send(new InvokeEndpointCommand({ EndpointName: e, Body: Buffer.from('ping') }));
      assert.equal(r.$metadata.httpStatusCode, 200);
    }
  });

  it('splits traffic 3:1 by weight over 2,000 calls, spread over both instances of each variant', async () => {
    const counts: Record<string, number> = {};
    const perInstance = new Map<string, number>();
    const fleet = (s.app.features.find((f) => f.name === 'endpoints') as unknown as { fleet: { lookup(n: string): any } }).fleet;
    const routes = fleet.lookup('split').routes;
    // Count which instance takes each request by wrapping the clients' invoke (the router's choice).
    for (const v of routes.variants) {
      for (const inst of v.ready) {
        const original = inst.client.invoke.bind(inst.client);
        inst.client.invoke = (req: unknown) => {
          perInstance.set(inst.id, (perInstance.get(inst.id) ?? 0) + 1);
          return original(req);
        };
      }
    }
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < 2000) {
          next++;
          const r = await rt.send(new InvokeEndpointCommand({ EndpointName: 'split', Body: Buffer.from('x') }));
          counts[r.InvokedProductionVariant!] = (counts[r.InvokedProductionVariant!] ?? 0) + 1;
        }
      }),
    );
    const total = (counts.A ?? 0) + (counts.B ?? 0);
    assert.equal(total, 2000);
    const share = (counts.A ?? 0) / total;
    assert.ok(Math.abs(share - 0.75) < 0.04, `variant A took ${(share * 100).toFixed(1)}% (expected 75% +- 4)`);
    assert.equal(perInstance.size, 4, 'all four instances served');
    for (const [id, n] of perInstance) assert.ok(n > 200, `instance ${id} took ${n} requests`);
    const targeted = await Promise.all(Array.from({ length: 50 }, () => rt.send(new InvokeEndpointCommand({ EndpointName: 'split', TargetVariant: 'B', Body: Buffer.from('x') }))));
    assert.ok(targeted.every((r) => r.InvokedProductionVariant === 'B'));
  });

  it('changes weights and instance counts live with UpdateEndpointWeightsAndCapacities, without failed requests', async () => {
    const load = steadyLoad(rt, 'split', 3);
    await s.sagemaker.send(new UpdateEndpointWeightsAndCapacitiesCommand({ EndpointName: 'split', DesiredWeightsAndCapacities: [{ VariantName: 'A', DesiredWeight: 0 }, { VariantName: 'B', DesiredInstanceCount: 3 }] }));
    const updating = await s.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'split' }));
    assert.equal(updating.EndpointStatus, 'Updating');
    const before = { ...load.result.variants };
    const d = await waitForStatus(s, 'split', ['InService']);
    assert.deepEqual(d.ProductionVariants?.map((v) => [v.VariantName, v.CurrentWeight, v.DesiredWeight, v.CurrentInstanceCount, v.DesiredInstanceCount]), [['A', 0, 0, 2, 2], ['B', 1, 1, 3, 3]]);
    await new Promise((r) => setTimeout(r, 300));
    const mid = { ...load.result.variants };
    assert.equal(mid.A, before.A, 'weight 0: no request reaches A any more');
    await s.sagemaker.send(new UpdateEndpointWeightsAndCapacitiesCommand({ EndpointName: 'split', DesiredWeightsAndCapacities: [{ VariantName: 'B', DesiredInstanceCount: 1 }, { VariantName: 'A', DesiredWeight: 1 }] }));
    const after = await waitForStatus(s, 'split', ['InService']);
    assert.deepEqual(after.ProductionVariants?.map((v) => [v.VariantName, v.CurrentWeight, v.CurrentInstanceCount]), [['A', 1, 2], ['B', 1, 1]]);
    const result = await load.stop();
    assert.deepEqual(result.errors, []);
    assert.ok(result.ok > 50, `${result.ok} requests served`);
    assert.equal((await containersOf('split')).length, 3);
  });

  it('updates to a new configuration under steady load with zero failed requests (blue/green)', async () => {
    const blue = (await containersOf('rolling')).map((c) => c.id).sort();
    assert.equal(blue.length, 2);
    const load = steadyLoad(rt, 'rolling', 4);
    await new Promise((r) => setTimeout(r, 200));
    await s.sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'rolling', EndpointConfigName: 'green' }));
    const during = await s.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'rolling' }));
    assert.equal(during.EndpointStatus, 'Updating');
    assert.equal(during.EndpointConfigName, 'blue');
    assert.equal(during.PendingDeploymentSummary?.EndpointConfigName, 'green');
    const d = await waitForStatus(s, 'rolling', ['InService']);
    await new Promise((r) => setTimeout(r, 200));
    const result = await load.stop();
    assert.deepEqual(result.errors, [], 'no request failed during the update');
    assert.ok((result.variants.Blue ?? 0) > 0 && (result.variants.Green ?? 0) > 0, `served by both fleets: ${JSON.stringify(result.variants)}`);
    assert.equal(d.EndpointConfigName, 'green');
    assert.equal(d.FailureReason, undefined);
    assert.deepEqual(d.ProductionVariants?.map((v) => [v.VariantName, v.CurrentInstanceCount]), [['Green', 2]]);
    assert.equal(d.PendingDeploymentSummary, undefined);
    const green = (await containersOf('rolling')).map((c) => c.id).sort();
    assert.equal(green.length, 2);
    assert.ok(green.every((id) => !blue.includes(id)), 'the blue containers are gone');
  });

  it('replaces a killed instance mid-load with zero failed requests', async () => {
    const [victim, survivor] = await containersOf('rolling');
    assert.ok(victim && survivor);
    const load = steadyLoad(rt, 'rolling', 4);
    await new Promise((r) => setTimeout(r, 300));
    await docker.getContainer(victim.id).kill();
    await eventually('a replacement instance', async () => {
      const now = await containersOf('rolling');
      const d = await s.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'rolling' }));
      return now.length === 2 && !now.some((c) => c.id === victim.id) && d.ProductionVariants?.[0]?.CurrentInstanceCount === 2 ? true : undefined;
    });
    await new Promise((r) => setTimeout(r, 300));
    const result = await load.stop();
    assert.deepEqual(result.errors, [], 'no request failed while an instance died');
    assert.ok(result.ok > 50, `${result.ok} requests served`);
    assert.equal((await s.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'rolling' }))).EndpointStatus, 'InService');
  });

  it('replaces an instance that stops answering /ping (health monitor)', async () => {
    const settings = endpointsFeature(s).settings;
    const saved = { ...settings };
    settings.healthIntervalMs = 300;
    settings.pingFailureThreshold = 2;
    try {
      const [hung] = await containersOf('third');
      assert.ok(hung);
      await docker.getContainer(hung.id).pause();
      await eventually('the hung instance replaced', async () => {
        const all = await s.app.ctx.runtime.listByLabels({ 'sagebox.resource': 'third', 'sagebox.instance': s.app.config.instanceId });
        const d = await s.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'third' }));
        return all.length === 1 && all[0]!.id !== hung.id && all[0]!.running && d.ProductionVariants?.[0]?.CurrentInstanceCount === 1 ? true : undefined;
      }, 30_000);
      const r = await rt.send(new InvokeEndpointCommand({ EndpointName: 'third', Body: Buffer.from('x') }));
      assert.equal(r.$metadata.httpStatusCode, 200);
      assert.equal((await s.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'third' }))).EndpointStatus, 'InService');
    } finally {
      Object.assign(settings, saved);
    }
  });

  it('rolls back an update whose new fleet fails its health check: stays InService on the old fleet with a FailureReason', async () => {
    const before = (await containersOf('rolling')).map((c) => c.id).sort();
    const load = steadyLoad(rt, 'rolling', 2);
    await s.sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'rolling', EndpointConfigName: 'broken' }));
    const d = await eventually('the roll-back', async () => {
      const x = await s.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'rolling' }));
      return x.EndpointStatus === 'InService' && x.FailureReason ? x : undefined;
    });
    const result = await load.stop();
    assert.deepEqual(result.errors, []);
    assert.equal(d.FailureReason, 'Update rolled back: The primary container for production variant Broken did not pass the ping health check. Please check CloudWatch logs for this endpoint.');
    assert.equal(d.EndpointConfigName, 'green');
    assert.deepEqual(d.ProductionVariants?.map((v) => [v.VariantName, v.CurrentInstanceCount]), [['Green', 2]]);
    assert.deepEqual((await containersOf('rolling')).map((c) => c.id).sort(), before, 'the old fleet kept running');
    const r = await rt.send(new InvokeEndpointCommand({ EndpointName: 'rolling', Body: Buffer.from('x') }));
    assert.equal(r.InvokedProductionVariant, 'Green');
  });
});
