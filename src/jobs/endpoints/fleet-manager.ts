/**
 * Runs endpoint fleets: create, blue/green update with roll-back, live
 * weight/capacity changes, delete with drain, replacement of instances that
 * die or fail /ping, and recovery after a restart. The API handlers persist
 * the request (row and status) and then call start*; everything here runs in
 * the background, one operation per endpoint at a time (DeleteEndpoint
 * interrupts the running one).
 *
 * Persistence order (a restart can always pick up): instance records before
 * containers (instances.ts); the new active deployment before traffic is
 * switched; InService only after the old fleet is stopped.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { AppContext } from '../../app/context';
import { LABELS } from '../../runtime/labels';
import type { ContainerState } from '../../runtime/container-runtime';
import { epochSeconds } from '../../util/clock';
import { EndpointRuntime, type Fleet, type Operation } from './endpoint-runtime';
import { failureReasonFor, updateFailed } from './failure-reasons';
import { Detached, Instances } from './instances';
import type { HostingRepos } from './repos';
import type { LiveInstance } from './routing';
import type { EndpointSettings } from './settings';
import type { Deployment, EndpointRow, VariantPlan } from './types';

/** An error met while bringing up one variant. */
class VariantError extends Error {
  constructor(readonly variant: string, override readonly cause: unknown) {
    super(`variant ${variant}: ${(cause as Error)?.message ?? String(cause)}`);
  }
}

export class FleetManager {
  private readonly byName = new Map<string, EndpointRuntime>();
  private closed = false;
  private readonly shutdown = new AbortController();
  private monitor?: NodeJS.Timeout;
  readonly instances: Instances;

  constructor(private readonly ctx: AppContext, private readonly repos: HostingRepos, readonly settings: EndpointSettings) {
    this.instances = new Instances(ctx, repos.endpoints, settings, { onExit: (ep, fleet, live) => this.replace(ep, fleet, live, 'its container exited') }, () => this.closed);
  }

  private get log() {
    return this.ctx.logger.child({ component: 'endpoints' });
  }

  /** The hot-path lookup: the endpoint's in-memory state, or undefined. */
  lookup(name: string): EndpointRuntime | undefined {
    return this.byName.get(name.toLowerCase());
  }

  private now(): number {
    return epochSeconds(this.ctx.clock.now());
  }

  // ---------------------------------------------------------------- operations

  /** CreateEndpoint persisted a Creating row: bring its fleet up. */
  startCreate(row: EndpointRow): void {
    const ep = new EndpointRuntime(row.name, row.arn, 'Creating');
    this.byName.set(row.name.toLowerCase(), ep);
    this.run(ep, 'create', (signal) => this.create(ep, signal));
  }

  /** UpdateEndpoint persisted `pending` and the Updating status. */
  startUpdate(name: string): void {
    const ep = this.lookup(name);
    if (!ep) return;
    ep.setStatus('Updating');
    this.run(ep, 'update', (signal) => this.update(ep, signal));
  }

  /** UpdateEndpointWeightsAndCapacities persisted the new weights and counts in `active` and the Updating status. */
  startScale(name: string): void {
    const ep = this.lookup(name);
    if (!ep) return;
    ep.setStatus('Updating');
    const row = this.repos.endpoints.get(name);
    const fleet = ep.activeFleet();
    if (row?.internal.active && fleet) {
      // Weights apply at once; counts are reached by the operation.
      fleet.deployment = row.internal.active;
      for (const plan of row.internal.active.variants) {
        const route = fleet.routes.variant(plan.variantName);
        if (route) route.weight = plan.weight;
      }
    }
    this.run(ep, 'scale', (signal) => this.scale(ep, signal));
  }

  /** DeleteEndpoint persisted the Deleting status: drain, stop, forget. */
  startDelete(name: string): void {
    const ep = this.lookup(name) ?? this.adopt(name);
    if (!ep) return;
    ep.setStatus('Deleting');
    ep.lifetime.abort('delete');
    if (ep.op?.kind === 'delete') return;
    ep.op?.controller.abort('delete');
    const previous = ep.op?.done;
    this.run(ep, 'delete', async () => {
      await previous;
      await this.delete(ep);
    });
  }

  private adopt(name: string): EndpointRuntime | undefined {
    const row = this.repos.endpoints.get(name);
    if (!row) return undefined;
    const ep = new EndpointRuntime(row.name, row.arn, row.doc.EndpointStatus);
    this.byName.set(name.toLowerCase(), ep);
    return ep;
  }

  private run(ep: EndpointRuntime, kind: Operation['kind'], fn: (signal: AbortSignal) => Promise<void>): void {
    const controller = new AbortController();
    const onShutdown = (): void => controller.abort('shutdown');
    this.shutdown.signal.addEventListener('abort', onShutdown, { once: true });
    const op: Operation = { kind, controller, done: Promise.resolve() };
    op.done = fn(controller.signal)
      .catch((err) => {
        if (err instanceof Detached || this.closed) return;
        this.log.error({ err, endpoint: ep.name, operation: kind }, 'endpoint operation failed unexpectedly');
      })
      .finally(() => {
        this.shutdown.signal.removeEventListener('abort', onShutdown);
        if (ep.op === op) ep.op = undefined;
      });
    ep.op = op;
  }

  private async create(ep: EndpointRuntime, signal: AbortSignal): Promise<void> {
    const row = this.repos.endpoints.get(ep.name);
    if (!row?.internal.active) return;
    const fleet = ep.fleet(row.internal.active);
    try {
      await this.bringUp(ep, fleet, 'active', signal);
    } catch (err) {
      if (err instanceof Detached || this.closed) throw new Detached();
      if (signal.reason === 'delete') return;
      await this.fail(ep, reasonOf(err));
      return;
    }
    this.markInService(ep);
    ep.activate(fleet.generation);
    this.log.info({ endpoint: ep.name }, 'endpoint is InService');
  }

  /**
   * Prepares every variant (image, model directory) and starts the instances
   * each one lacks, in parallel; the first failure stops the others and is thrown.
   */
  private async bringUp(ep: EndpointRuntime, fleet: Fleet, slot: 'active' | 'pending', signal: AbortSignal): Promise<void> {
    const dep = fleet.deployment;
    await Promise.all(
      dep.variants.map((plan) =>
        this.instances.prepareVariant(ep, dep.generation, plan).catch((err) => {
          throw new VariantError(plan.variantName, err);
        }),
      ),
    );
    signal.throwIfAborted();
    this.instances.persist(ep.name, (i) => void (i[slot] = dep));
    const inner = new AbortController();
    const relay = (): void => inner.abort(signal.reason);
    signal.addEventListener('abort', relay, { once: true });
    const launches: Promise<LiveInstance>[] = [];
    for (const plan of dep.variants) {
      for (let k = fleet.wanted(plan.variantName).length; k < plan.desiredCount; k++) {
        launches.push(
          this.instances.launch(ep, fleet, plan, inner.signal).catch((err) => {
            if (!inner.signal.aborted) inner.abort('failed');
            throw err instanceof Detached ? err : new VariantError(plan.variantName, err);
          }),
        );
      }
    }
    try {
      const results = await Promise.allSettled(launches);
      const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
      if (failures.some((f) => f instanceof Detached)) throw new Detached();
      const first = failures.find((f) => f instanceof VariantError && !isAbortReason(f.cause)) ?? failures[0];
      if (first !== undefined) throw first;
    } finally {
      signal.removeEventListener('abort', relay);
    }
  }

  /** Creating failed: Failed with the reason, every container removed (logs stay in the log store). */
  private async fail(ep: EndpointRuntime, reason: string): Promise<void> {
    this.instances.persist(ep.name, (i, d) => {
      d.EndpointStatus = 'Failed';
      d.FailureReason = reason;
      delete i.operationStartedAt;
    });
    this.touch(ep.name, 'Failed');
    ep.setStatus('Failed');
    this.log.warn({ endpoint: ep.name, reason }, 'endpoint failed');
    await this.removeEverything(ep);
  }

  private async update(ep: EndpointRuntime, signal: AbortSignal): Promise<void> {
    const row = this.repos.endpoints.get(ep.name);
    const pending = row?.internal.pending;
    if (!row || !pending) return;
    const fleet = ep.fleet(pending);
    try {
      await this.bringUp(ep, fleet, 'pending', signal);
    } catch (err) {
      if (err instanceof Detached || this.closed) throw new Detached();
      if (signal.reason === 'delete') return;
      const reason = updateFailed(reasonOf(err));
      this.log.warn({ endpoint: ep.name, reason }, 'update failed: rolling back to the current fleet');
      await this.dropFleet(ep, fleet, false);
      this.instances.persist(ep.name, (i, d) => {
        delete i.pending;
        delete i.operationStartedAt;
        d.EndpointStatus = 'InService';
        d.FailureReason = reason;
      });
      this.touch(ep.name, 'InService');
      ep.setStatus('InService');
      return;
    }
    // The new fleet is healthy: make it the active deployment, switch traffic, then retire the old one.
    const old = ep.activeFleet();
    this.instances.persist(ep.name, (i, d) => {
      i.active = fleet.deployment;
      delete i.pending;
      d.EndpointConfigName = fleet.deployment.configName;
    });
    ep.activate(fleet.generation);
    this.log.info({ endpoint: ep.name, generation: fleet.generation }, 'traffic switched to the new fleet');
    if (old && old !== fleet) await this.dropFleet(ep, old, true);
    this.markInService(ep);
  }

  /** The end of a successful create or update: persisted first, then the in-memory status. */
  private markInService(ep: EndpointRuntime): void {
    this.instances.persist(ep.name, (i, d) => {
      d.EndpointStatus = 'InService';
      delete d.FailureReason;
      delete i.operationStartedAt;
    });
    this.touch(ep.name, 'InService');
    ep.setStatus('InService');
  }

  private async scale(ep: EndpointRuntime, signal: AbortSignal): Promise<void> {
    const fleet = ep.activeFleet();
    const dep = this.repos.endpoints.get(ep.name)?.internal.active;
    if (!fleet || !dep) return;
    fleet.deployment = dep;
    const failures: string[] = [];
    await Promise.all(
      dep.variants.map(async (plan) => {
        const wanted = fleet.wanted(plan.variantName);
        const extra = wanted.length - plan.desiredCount;
        if (extra > 0) {
          // Starting ones first, then the least busy.
          const victims = [...wanted].sort((a, b) => (a.state === b.state ? a.outstanding - b.outstanding : a.state === 'starting' ? -1 : 1)).slice(0, extra);
          await Promise.all(victims.map((v) => this.instances.retire(ep, fleet, v, { drain: true })));
          return;
        }
        const launches = [];
        for (let k = wanted.length; k < plan.desiredCount; k++) launches.push(this.instances.launch(ep, fleet, plan, signal));
        const results = await Promise.allSettled(launches);
        for (const r of results) {
          if (r.status === 'fulfilled') continue;
          if (r.reason instanceof Detached || this.closed) throw new Detached();
          if (!isAbortReason(r.reason)) failures.push(failureReasonFor(plan.variantName, r.reason));
        }
      }),
    );
    if (signal.reason === 'delete') return;
    this.instances.persist(ep.name, (i, d) => {
      d.EndpointStatus = 'InService';
      if (failures.length) {
        d.FailureReason = updateFailed(failures[0]!);
        // What runs is what is desired now.
        for (const plan of i.active?.variants ?? []) plan.desiredCount = Math.max(1, fleet.wanted(plan.variantName).length);
      } else delete d.FailureReason;
      delete i.operationStartedAt;
    });
    this.touch(ep.name, 'InService');
    ep.setStatus('InService');
  }

  private async delete(ep: EndpointRuntime): Promise<void> {
    ep.setStatus('Deleting');
    await this.removeEverything(ep, true);
    if (this.closed) throw new Detached();
    this.repos.endpoints.delete(ep.name);
    if (this.lookup(ep.name) === ep) this.byName.delete(ep.name.toLowerCase());
    await fsp.rm(this.instances.endpointDir(ep.name), { recursive: true, force: true }).catch(() => undefined);
    this.log.info({ endpoint: ep.name }, 'endpoint deleted');
  }

  /** Retires every live instance (draining when asked) and removes every container a record names. */
  private async removeEverything(ep: EndpointRuntime, drain = false): Promise<void> {
    await Promise.all([...ep.fleets.values()].map((f) => this.dropFleet(ep, f, drain)));
    await Promise.allSettled([...ep.replacing]);
    const left = this.repos.endpoints.get(ep.name)?.internal.instances ?? [];
    await Promise.all(left.map((r) => this.instances.discard(ep, undefined, r)));
  }

  /** Retires a fleet's instances and forgets the fleet; its records and model directories go too. */
  private async dropFleet(ep: EndpointRuntime, fleet: Fleet, drain: boolean): Promise<void> {
    await Promise.all([...fleet.instances].map((live) => this.instances.retire(ep, fleet, live, { drain })));
    const generation = fleet.generation;
    const records = this.repos.endpoints.get(ep.name)?.internal.instances.filter((r) => r.generation === generation) ?? [];
    await Promise.all(records.map((r) => this.instances.discard(ep, fleet, r)));
    if (ep.fleets.get(generation) === fleet) ep.fleets.delete(generation);
    await fsp.rm(path.join(this.instances.endpointDir(ep.name), `g${generation}`), { recursive: true, force: true }).catch(() => undefined);
  }

  /** LastModifiedTime and the indexed status column follow the document. */
  private touch(name: string, status: string): void {
    if (this.closed) throw new Detached();
    this.repos.endpoints.update(name, (r) => {
      r.status = status;
      r.lastModifiedTime = this.now();
      r.doc.LastModifiedTime = r.lastModifiedTime;
    });
  }

  // ---------------------------------------------------------------- health

  /**
   * A ready instance whose container exited or that failed /ping repeatedly:
   * out of rotation at once, a replacement starts, the old container is stopped.
   */
  private replace(ep: EndpointRuntime, fleet: Fleet, live: LiveInstance, why: string): void {
    if (live.state !== 'ready' || this.closed) return;
    this.log.warn({ endpoint: ep.name, variant: live.record.variant, instance: live.id, why }, 'replacing an instance');
    this.ctx.metrics?.containerRestartsTotal.inc({ endpoint: ep.name });
    // Out of rotation first, so the refill does not count it and no new request goes there.
    const retired = this.instances.retire(ep, fleet, live, { drain: false }).catch(() => undefined);
    const work = Promise.all([this.refill(ep, fleet, live.record.variant), retired]);
    const p: Promise<void> = work
      .then(() => undefined)
      .catch((err) => {
        if (!(err instanceof Detached) && !this.closed) this.log.error({ err, endpoint: ep.name }, 'replacing an instance failed');
      })
      .finally(() => ep.replacing.delete(p));
    ep.replacing.add(p);
  }

  /** Starts instances of `variant` until the fleet has its desired count (retrying after failures) or the fleet is gone. */
  private async refill(ep: EndpointRuntime, fleet: Fleet, variant: string): Promise<void> {
    for (;;) {
      if (this.closed || ep.status === 'Deleting' || ep.status === 'Failed' || ep.fleets.get(fleet.generation) !== fleet) return;
      const plan: VariantPlan | undefined = fleet.deployment.variants.find((v) => v.variantName.toLowerCase() === variant.toLowerCase());
      if (!plan || fleet.wanted(variant).length >= plan.desiredCount) return;
      try {
        await this.instances.prepareVariant(ep, fleet.generation, plan);
        await this.instances.launch(ep, fleet, plan, AbortSignal.any([this.shutdown.signal, ep.lifetime.signal]));
      } catch (err) {
        if (err instanceof Detached || this.closed || ep.lifetime.signal.aborted) return;
        this.log.warn({ err, endpoint: ep.name, variant }, 'a replacement instance did not start; trying again');
        await new Promise((r) => setTimeout(r, this.settings.replaceBackoffMs));
      }
    }
  }

  /** Pings every ready instance every healthIntervalMs (read each time, so tests can shorten it). */
  private startMonitor(): void {
    if (this.closed) return;
    this.monitor = setTimeout(() => {
      void this.healthTick().finally(() => this.startMonitor());
    }, this.settings.healthIntervalMs);
    this.monitor.unref();
  }

  private async healthTick(): Promise<void> {
    if (this.closed) return;
    const checks: Promise<void>[] = [];
    for (const ep of this.byName.values()) {
      if (ep.status === 'Deleting' || ep.status === 'Failed') continue;
      for (const fleet of ep.fleets.values()) {
        for (const live of fleet.instances) {
          if (live.state !== 'ready') continue;
          checks.push(
            live.client.ping(2000).then(
              (status) => this.pingResult(ep, fleet, live, status === 200),
              () => this.pingResult(ep, fleet, live, false),
            ),
          );
        }
      }
    }
    await Promise.all(checks);
  }

  private pingResult(ep: EndpointRuntime, fleet: Fleet, live: LiveInstance, ok: boolean): void {
    if (ok) {
      live.pingFailures = 0;
      return;
    }
    live.pingFailures++;
    if (live.pingFailures >= this.settings.pingFailureThreshold) this.replace(ep, fleet, live, `${live.pingFailures} failed pings in a row`);
  }

  /** A request could not reach this instance: check it now rather than at the next tick. */
  suspect(ep: EndpointRuntime, live: LiveInstance): void {
    if (live.state !== 'ready') return;
    const fleet = [...ep.fleets.values()].find((f) => f.instances.has(live));
    if (!fleet) return;
    void live.client.ping(2000).then(
      (status) => this.pingResult(ep, fleet, live, status === 200),
      () => this.pingResult(ep, fleet, live, false),
    );
  }

  // ---------------------------------------------------------------- restart

  /**
   * Re-attaches every endpoint a previous run left: running containers go
   * back into rotation (after one ping), missing ones are started again,
   * interrupted operations resume, containers nothing owns are removed.
   */
  async recover(): Promise<void> {
    const rows = this.repos.endpoints.all();
    const found = await this.ctx.runtime.listByLabels({ [LABELS.instance]: this.ctx.config.instanceId, [LABELS.kind]: 'endpoint' });
    const byId = new Map(found.map((c) => [c.id, c]));
    const owned = new Set<string>();
    for (const row of rows) for (const r of row.internal.instances) if (r.containerId) owned.add(r.containerId);
    for (const c of found) {
      if (!owned.has(c.id)) {
        this.log.info({ containerId: c.id, name: c.name }, 'removing an endpoint container no endpoint owns');
        await this.ctx.runtime.remove(c.id).catch(() => undefined);
      }
    }
    await Promise.all(rows.map((row) => this.recoverOne(row, byId)));
    this.startMonitor();
  }

  private async recoverOne(row: EndpointRow, containers: Map<string, ContainerState>): Promise<void> {
    const status = row.doc.EndpointStatus;
    const ep = new EndpointRuntime(row.name, row.arn, status);
    this.byName.set(row.name.toLowerCase(), ep);
    if (status === 'Deleting') {
      this.startDelete(row.name);
      return;
    }
    if (status === 'Failed') {
      if (row.internal.instances.length) this.run(ep, 'recover', () => this.removeEverything(ep));
      return;
    }
    const active = row.internal.active;
    if (!active) return;
    const fleet = ep.fleet(active);
    const stale = [];
    const pings: Promise<void>[] = [];
    for (const record of row.internal.instances) {
      const state = record.containerId ? containers.get(record.containerId) : undefined;
      const live = record.generation === active.generation && state ? this.instances.attach(ep, fleet, record, state) : undefined;
      if (!live) {
        stale.push(record);
        continue;
      }
      pings.push(
        live.client.ping(2000).then(
          (s) => (s === 200 ? this.instances.markReady(fleet, live) : this.instances.discard(ep, fleet, record, live)),
          () => this.instances.discard(ep, fleet, record, live),
        ),
      );
    }
    await Promise.all(pings);
    await Promise.all(stale.map((r) => this.instances.discard(ep, undefined, r)));
    this.log.info({ endpoint: row.name, status, ready: fleet.routes.readyCount() }, 're-attached endpoint');
    if (status === 'Creating') {
      this.run(ep, 'create', (signal) => this.create(ep, signal));
      return;
    }
    ep.activate(active.generation);
    ep.setStatus(status);
    if (status === 'Updating' && row.internal.pending) {
      this.run(ep, 'update', (signal) => this.update(ep, signal));
      return;
    }
    if (status === 'Updating') {
      // Scaling (or a switch that was done): reach the desired counts, then InService.
      this.run(ep, 'scale', (signal) => this.scale(ep, signal));
      return;
    }
    for (const plan of active.variants) {
      const p: Promise<void> = this.refill(ep, fleet, plan.variantName).finally(() => ep.replacing.delete(p));
      ep.replacing.add(p);
    }
  }

  /**
   * Detaches without touching containers: operations stop where they are
   * (their state is persisted), logs are flushed, connections closed.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.monitor) clearTimeout(this.monitor);
    this.shutdown.abort('shutdown');
    const ops = [...this.byName.values()].flatMap((ep) => [ep.op?.done, ...ep.replacing]).filter((p): p is Promise<void> => p !== undefined);
    for (const ep of this.byName.values()) for (const live of ep.allInstances()) live.detachLogs();
    await Promise.allSettled(ops);
    for (const ep of this.byName.values()) for (const live of ep.allInstances()) await live.client.destroy();
    this.byName.clear();
  }
}

function isAbortReason(reason: unknown): boolean {
  return reason === 'failed' || reason === 'delete' || reason === 'shutdown';
}

function reasonOf(err: unknown): string {
  if (err instanceof VariantError) return failureReasonFor(err.variant, err.cause);
  return failureReasonFor('AllTraffic', err);
}

export type { Deployment };
