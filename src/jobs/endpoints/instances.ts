/**
 * Starting, re-attaching and retiring one endpoint instance (one container).
 * The instance record is persisted before the container is created and its
 * container id right after, so a restart always knows what it owns.
 */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import type { AppContext } from '../../app/context';
import { limitsFor, type Limits } from '../../contract/instance-types';
import type { ContainerState } from '../../runtime/container-runtime';
import { containerLabels } from '../../runtime/labels';
import type { ResourceRepo } from '../../store/resource-repo';
import {
  addressOf, captureContainerLogs, ContainerExitedError, createServingContainer, InstanceClient, locateServingContainer, prepareModelDir,
  ServingError, stopServingContainer, waitUntilHealthy, type LogCapture,
} from '../../serving';
import type { EndpointRuntime, Fleet } from './endpoint-runtime';
import { LiveInstance } from './routing';
import type { EndpointSettings } from './settings';
import type { EndpointDoc, EndpointInternal, InstanceRecord, VariantPlan } from './types';

export const endpointLogGroup = (endpoint: string): string => `/aws/sagemaker/Endpoints/${endpoint}`;

/** Thrown when the server shuts down mid-operation: leave containers and records as they are. */
export class Detached extends Error {
  constructor() {
    super('sagebox is shutting down');
  }
}

export const newInstanceId = (): string => `i-${randomBytes(9).toString('hex').slice(0, 17)}`;

export interface InstanceHooks {
  /** The container stopped (its log stream ended). */
  onExit(ep: EndpointRuntime, fleet: Fleet, live: LiveInstance): void;
}

export class Instances {
  constructor(
    private readonly ctx: AppContext,
    private readonly repo: ResourceRepo<EndpointDoc, EndpointInternal>,
    private readonly settings: EndpointSettings,
    private readonly hooks: InstanceHooks,
    private readonly closed: () => boolean,
  ) {}

  private get log() {
    return this.ctx.logger.child({ component: 'endpoints' });
  }

  /** Commits a change to the endpoint's row; throws Detached once the server is shutting down. */
  persist(name: string, mutate: (internal: EndpointInternal, doc: EndpointDoc) => void): void {
    if (this.closed()) throw new Detached();
    this.repo.update(name, (r) => mutate(r.internal, r.doc));
  }

  endpointDir(endpoint: string): string {
    return path.join(this.ctx.config.dataDir, 'endpoints', endpoint.toLowerCase());
  }

  modelDir(endpoint: string, generation: number, variant: string): string {
    return path.join(this.endpointDir(endpoint), `g${generation}`, variant.toLowerCase(), 'model');
  }

  /** Image present and model directory ready for a variant of a generation. Records the resolved image. */
  async prepareVariant(ep: EndpointRuntime, generation: number, plan: VariantPlan): Promise<void> {
    const image = await this.ctx.runtime.ensureImage(plan.model.image);
    if (!plan.resolvedImage) {
      plan.resolvedImage = image.digest ?? image.id;
      plan.resolutionTime = this.ctx.clock.now() / 1000;
    }
    await prepareModelDir(this.ctx.transfer, plan.model.modelData, this.modelDir(ep.name, generation, plan.variantName), {
      timeoutMs: plan.downloadTimeoutSeconds * 1000,
    });
  }

  private limits(plan: VariantPlan): Limits {
    if (plan.serverlessMemoryMb) return { memoryBytes: plan.serverlessMemoryMb * 1024 * 1024 };
    return limitsFor(plan.instanceType, this.ctx.config.enforceInstanceLimits);
  }

  /**
   * Starts one instance of `plan` in `fleet` and waits until it answers
   * /ping; it is then in rotation. On failure (other than shutdown) the
   * container and the record are removed and the error is rethrown.
   */
  async launch(ep: EndpointRuntime, fleet: Fleet, plan: VariantPlan, signal: AbortSignal): Promise<LiveInstance> {
    const generation = fleet.generation;
    const id = newInstanceId();
    const record: InstanceRecord = {
      id,
      variant: plan.variantName,
      generation,
      containerName: `sagebox-${this.ctx.config.instanceId}-${ep.name}-${id}`.toLowerCase(),
      createdAt: this.ctx.clock.now(),
    };
    this.persist(ep.name, (i) => void i.instances.push(record));
    let live: LiveInstance | undefined;
    let capture: LogCapture | undefined;
    const exited = new AbortController();
    try {
      const containerId = await createServingContainer(this.ctx.runtime, {
        name: record.containerName,
        model: plan.model,
        modelDir: this.modelDir(ep.name, generation, plan.variantName),
        labels: containerLabels({
          instance: this.ctx.config.instanceId, kind: 'endpoint', resource: ep.name, arn: ep.arn, attempt: generation, host: id, variant: plan.variantName,
        }),
        sageboxInstanceId: this.ctx.config.instanceId,
        platformEnv: this.ctx.containerEnv(),
        limits: this.limits(plan),
      });
      record.containerId = containerId;
      this.persist(ep.name, (i) => {
        const r = i.instances.find((x) => x.id === id);
        if (r) r.containerId = containerId;
      });
      signal.throwIfAborted();
      await this.ctx.runtime.start(containerId);
      // Logs from the first line, so a container that crashes at once leaves its traceback.
      capture = this.watch(ep, containerId, record, () => {
        exited.abort(new ContainerExitedError(containerId));
        if (live) this.hooks.onExit(ep, fleet, live);
      });
      const address = await locateServingContainer(this.ctx.runtime, containerId);
      live = new LiveInstance(record, containerId, new InstanceClient(address));
      live.detachLogs = capture.detach;
      fleet.instances.add(live);
      await waitUntilHealthy(this.ctx.runtime, containerId, live.client, {
        timeoutSeconds: plan.startupTimeoutSeconds,
        signal: AbortSignal.any([signal, exited.signal]),
      });
      if (this.closed()) throw new Detached();
      // Retired while starting (scaled in, fleet dropped): it must not join the rotation.
      if (live.state !== 'starting' || ep.fleets.get(generation) !== fleet) throw new ServingError('the instance was retired while it started');
      this.markReady(fleet, live);
      this.log.info({ endpoint: ep.name, variant: plan.variantName, instance: id, containerId, address }, 'instance passed the ping health check');
      return live;
    } catch (err) {
      if (this.closed() || signal.reason === 'shutdown') throw new Detached();
      this.log.warn({ endpoint: ep.name, variant: plan.variantName, instance: id, err }, 'instance failed to start');
      // An exited container's last lines are still being read: let the capture finish before removing it.
      if (capture && (err instanceof ContainerExitedError || exited.signal.aborted)) {
        await Promise.race([capture.done, new Promise((r) => setTimeout(r, 5000))]);
      }
      await this.discard(ep, fleet, record, live);
      throw err;
    }
  }

  /** Re-attaches a container found running after a restart; undefined when it is not running or has no address. */
  attach(ep: EndpointRuntime, fleet: Fleet, record: InstanceRecord, state: ContainerState): LiveInstance | undefined {
    if (!state.running) return undefined;
    const address = addressOf(state);
    if (!address) return undefined;
    const live = new LiveInstance(record, state.id, new InstanceClient(address));
    fleet.instances.add(live);
    live.detachLogs = this.watch(ep, state.id, record, () => this.hooks.onExit(ep, fleet, live)).detach;
    return live;
  }

  markReady(fleet: Fleet, live: LiveInstance): void {
    live.state = 'ready';
    live.pingFailures = 0;
    fleet.routes.variant(live.record.variant)?.add(live);
  }

  /**
   * Takes an instance out of rotation, waits (drain) for its requests in
   * flight, stops and removes its container, then forgets its record.
   */
  retire(ep: EndpointRuntime, fleet: Fleet, live: LiveInstance, opts: { drain: boolean }): Promise<void> {
    if (!live.retirement) {
      live.state = 'retiring';
      fleet.routes.variant(live.record.variant)?.remove(live);
      live.retirement = this.stopAndForget(ep, fleet, live, opts.drain);
    }
    return live.retirement;
  }

  private async stopAndForget(ep: EndpointRuntime, fleet: Fleet, live: LiveInstance, drain: boolean): Promise<void> {
    if (drain) await this.drain(live);
    if (this.closed()) throw new Detached();
    await stopServingContainer(this.ctx.runtime, live.containerId, this.ctx.config.stopGraceSeconds.endpoints).catch((err) =>
      this.log.warn({ endpoint: ep.name, instance: live.id, err }, 'stopping an instance failed'),
    );
    live.state = 'dead';
    await live.client.destroy();
    fleet.instances.delete(live);
    this.persist(ep.name, (i) => void (i.instances = i.instances.filter((r) => r.id !== live.id)));
    this.log.info({ endpoint: ep.name, variant: live.record.variant, instance: live.id }, 'instance retired');
  }

  /** Removes a record's container (if any) and the record, for instances that never served. */
  async discard(ep: EndpointRuntime, fleet: Fleet | undefined, record: InstanceRecord, live?: LiveInstance): Promise<void> {
    if (this.closed()) throw new Detached();
    if (live) {
      live.state = 'dead';
      fleet?.routes.variant(live.record.variant)?.remove(live);
      fleet?.instances.delete(live);
      await live.client.destroy();
    }
    const containerId = record.containerId ?? live?.containerId;
    if (containerId) await this.ctx.runtime.remove(containerId).catch((err) => this.log.warn({ endpoint: ep.name, containerId, err }, 'removing a container failed'));
    this.persist(ep.name, (i) => void (i.instances = i.instances.filter((r) => r.id !== record.id)));
  }

  private async drain(live: LiveInstance): Promise<void> {
    const until = Date.now() + this.settings.drainTimeoutMs;
    while (live.outstanding > 0 && Date.now() < until && !this.closed()) await new Promise((r) => setTimeout(r, 20));
  }

  /** Captures the container's logs into `<Variant>/<instance-id>`; calls onEnd when they end (the container stopped). */
  private watch(ep: EndpointRuntime, containerId: string, record: InstanceRecord, onEnd: () => void): LogCapture {
    const capture = captureContainerLogs(this.ctx.runtime, this.ctx.logs, containerId, endpointLogGroup(ep.name), `${record.variant}/${record.id}`);
    void capture.done.then((end) => {
      if (end === 'detached' || this.closed()) return;
      onEnd();
    });
    return capture;
  }
}
