/**
 * ContainerRuntime on a Docker engine, through dockerode. Every engine call is
 * logged before and after with the container (or network, or image) it is about;
 * failures are logged and rethrown. Calls on a container that no longer exists
 * are no-ops for stop/kill/remove and `undefined` for inspect, so shutdown and
 * clean-up paths can be repeated safely.
 */
import * as os from 'node:os';
import Dockerode from 'dockerode';
import type { ContainerRuntime, ContainerSpec, ContainerState, ExitCause, LogLine } from '../container-runtime';
import { ContainerNotFoundError, EngineUnavailableError, ImageNotFoundError } from '../errors';
import { instanceSelector } from '../labels';
import { noopLogger, type RuntimeLogger } from '../logger';
import { toContainerState } from './container-state';
import { toCreateOptions } from './create-options';
import { engineMessage, isConnectionError, isStatus } from './engine-errors';
import { ExitCauses } from './exit-causes';
import { pullImage } from './image-pull';
import { followLogs, type LogOptions } from './log-follow';

export interface DockerRuntimeOptions {
  /** Default /var/run/docker.sock. */
  socketPath?: string;
  logger?: RuntimeLogger;
  /** A pull that gets no progress message for this long is given up. Default 60 s. */
  pullIdleTimeoutMs?: number;
  /** Longer lines are delivered in pieces of this size. Default 1 MiB. */
  maxLogLineBytes?: number;
  /** How long wait() waits for an engine that went away to answer again. Default 15 min. */
  engineWaitMs?: number;
}

type Level = 'debug' | 'info';
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

export class DockerRuntime implements ContainerRuntime {
  private readonly docker: Dockerode;
  private readonly socketPath: string;
  private readonly log: RuntimeLogger;
  private readonly pullIdleTimeoutMs: number;
  private readonly maxLogLineBytes: number | undefined;
  private readonly exits: ExitCauses;
  private readonly engineWaitMs: number;

  constructor(options: DockerRuntimeOptions = {}) {
    this.socketPath = options.socketPath ?? '/var/run/docker.sock';
    this.docker = new Dockerode({ socketPath: this.socketPath });
    this.log = options.logger ?? noopLogger;
    this.pullIdleTimeoutMs = options.pullIdleTimeoutMs ?? 60_000;
    this.maxLogLineBytes = options.maxLogLineBytes;
    this.engineWaitMs = options.engineWaitMs ?? 15 * 60_000;
    this.exits = new ExitCauses(this.docker, this.log);
  }

  /** Logs `start...`, runs fn, logs `done` with its duration (and what describe says of the result), or the error. */
  private async call<T>(
    level: Level,
    [start, done]: [string, string],
    context: object,
    fn: () => Promise<T>,
    describe?: (result: T) => object,
  ): Promise<T> {
    this.log[level](context, `${start}...`);
    const began = Date.now();
    try {
      const result = await fn();
      this.log[level]({ ...context, ...describe?.(result), ms: Date.now() - began }, done);
      return result;
    } catch (err) {
      this.log.error({ ...context, err, ms: Date.now() - began }, `${start} failed: ${engineMessage(err)}`);
      throw err;
    }
  }

  async ping(): Promise<void> {
    try {
      await this.call('debug', ['Pinging engine', 'Engine answered'], { socketPath: this.socketPath }, () => this.docker.ping());
    } catch (err) {
      throw new EngineUnavailableError(this.socketPath, engineMessage(err));
    }
  }

  async ensureImage(image: string): Promise<{ id: string; digest?: string }> {
    const local = await this.inspectImage(image);
    if (local) return local;
    await this.call('info', ['Pulling image', 'Pulled image'], { image }, () => pullImage(this.docker, image, this.pullIdleTimeoutMs, this.log));
    const pulled = await this.inspectImage(image);
    if (!pulled) throw new ImageNotFoundError(image, 'the engine reported a successful pull but does not have the image');
    return pulled;
  }

  private async inspectImage(image: string): Promise<{ id: string; digest?: string } | undefined> {
    return this.call('debug', ['Inspecting image', 'Inspected image'], { image }, async () => {
      try {
        const info = await this.docker.getImage(image).inspect();
        const digest = info.RepoDigests?.[0];
        return digest ? { id: info.Id, digest } : { id: info.Id };
      } catch (err) {
        if (isStatus(err, 404)) return undefined;
        throw err;
      }
    });
  }

  async create(spec: ContainerSpec): Promise<string> {
    const context = { name: spec.name, image: spec.image };
    const container = await this.call(
      'info',
      ['Creating container', 'Created container'],
      context,
      () => this.docker.createContainer(toCreateOptions(spec)),
      (c) => ({ containerId: c.id }),
    );
    return container.id;
  }

  async start(id: string): Promise<void> {
    // Kill events must be followed before the container can receive one.
    await this.exits.ensureFollowing();
    this.exits.started(id);
    await this.call('info', ['Starting container', 'Started container'], { containerId: id }, async () => {
      try {
        await this.docker.getContainer(id).start();
      } catch (err) {
        if (isStatus(err, 404)) throw new ContainerNotFoundError(id);
        if (!isStatus(err, 304)) throw err; // 304: already running
      }
    });
  }

  /**
   * Losing the engine while waiting (it was stopped or crashed) is not the
   * container's exit: the wait goes on once the engine answers again, for up
   * to engineWaitMs. A container that is no longer running by then was ended
   * by the engine going away (exitCause says so).
   */
  async wait(id: string): Promise<{ exitCode: number }> {
    const until = Date.now() + this.engineWaitMs;
    for (;;) {
      try {
        return await this.waitOnce(id);
      } catch (err) {
        if (!isConnectionError(err) || Date.now() > until) throw err;
        this.log.info({ containerId: id, err: engineMessage(err) }, 'Lost the engine while waiting for a container; waiting for the engine');
        await this.untilEngineAnswers(until);
        const state = await this.inspect(id);
        if (!state) throw new ContainerNotFoundError(id);
        if (!state.running) this.exits.engineLost(id);
      }
    }
  }

  async exitCause(id: string): Promise<ExitCause> {
    return this.exits.cause(id);
  }

  private async untilEngineAnswers(until: number): Promise<void> {
    for (;;) {
      try {
        await this.docker.ping();
        return;
      } catch (err) {
        if (Date.now() > until) throw err;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  close(): void {
    this.exits.close();
  }

  private async waitOnce(id: string): Promise<{ exitCode: number }> {
    return this.call('debug', ['Waiting for container', 'Container exited'], { containerId: id }, async () => {
      const state = await this.inspect(id);
      if (!state) throw new ContainerNotFoundError(id);
      if (state.exitCode !== undefined) return { exitCode: state.exitCode };
      if (state.status !== 'created') return this.waitRequest(id, 'not-running');
      // A created container counts as not running, so wait for the next exit.
      // It may start and exit before the daemon registers that wait: a slow
      // inspect poll covers that gap.
      const controller = new AbortController();
      try {
        return await Promise.race([this.waitRequest(id, 'next-exit', controller.signal), this.pollExit(id, controller.signal)]);
      } finally {
        controller.abort();
      }
    });
  }

  private async waitRequest(id: string, condition: 'not-running' | 'next-exit', signal?: AbortSignal): Promise<{ exitCode: number }> {
    try {
      const result = (await this.docker.getContainer(id).wait({ condition, abortSignal: signal })) as { StatusCode: number };
      return { exitCode: result.StatusCode };
    } catch (err) {
      if (isStatus(err, 404)) throw new ContainerNotFoundError(id);
      throw err;
    }
  }

  private async pollExit(id: string, signal: AbortSignal): Promise<{ exitCode: number }> {
    for (;;) {
      await sleep(1000, signal);
      const state = await this.inspect(id);
      if (!state) throw new ContainerNotFoundError(id);
      if (state.exitCode !== undefined) return { exitCode: state.exitCode };
    }
  }

  async stop(id: string, graceSeconds: number): Promise<void> {
    const t = Math.max(0, Math.ceil(graceSeconds));
    this.exits.expectStop(id);
    await this.call('info', ['Stopping container', 'Stopped container'], { containerId: id, graceSeconds: t }, async () => {
      try {
        await this.docker.getContainer(id).stop({ t });
      } catch (err) {
        if (!isStatus(err, 304, 404)) throw err; // 304: not running; 404: gone
      }
    });
  }

  async kill(id: string, signal = 'SIGKILL'): Promise<void> {
    this.exits.expectStop(id);
    await this.call('info', ['Killing container', 'Killed container'], { containerId: id, signal }, async () => {
      try {
        await this.docker.getContainer(id).kill({ signal });
      } catch (err) {
        if (!isStatus(err, 404, 409)) throw err; // 409: not running
      }
    });
  }

  async remove(id: string): Promise<void> {
    this.exits.expectStop(id);
    await this.call('info', ['Removing container', 'Removed container'], { containerId: id }, async () => {
      try {
        await this.docker.getContainer(id).remove({ force: true, v: true });
      } catch (err) {
        if (!isStatus(err, 404, 409)) throw err; // 409: removal already in progress
      }
      this.exits.forget(id);
    });
  }

  async inspect(id: string): Promise<ContainerState | undefined> {
    return this.call('debug', ['Inspecting container', 'Inspected container'], { containerId: id }, async () => {
      try {
        return toContainerState(await this.docker.getContainer(id).inspect());
      } catch (err) {
        if (isStatus(err, 404)) return undefined;
        throw err;
      }
    });
  }

  logs(id: string, opts: LogOptions): AsyncIterable<LogLine> {
    return followLogs({ docker: this.docker, log: this.log, inspect: (c) => this.inspect(c), maxLineBytes: this.maxLogLineBytes }, id, opts);
  }

  async listByLabels(labels: Record<string, string>): Promise<ContainerState[]> {
    const found = await this.call('debug', ['Listing containers', 'Listed containers'], { labels }, () =>
      this.docker.listContainers({ all: true, filters: { label: labelFilter(labels) } }),
    );
    const states = await Promise.all(found.map((c) => this.inspect(c.Id)));
    return states.filter((s): s is ContainerState => s !== undefined);
  }

  async createNetwork(name: string, labels: Record<string, string>, opts: { internal?: boolean } = {}): Promise<string> {
    const internal = opts.internal ?? false;
    return this.call('info', ['Creating network', 'Created network'], { network: name, internal }, async () => {
      try {
        const network = await this.docker.createNetwork({ Name: name, Driver: 'bridge', Internal: internal, Labels: labels, CheckDuplicate: true });
        this.log.debug({ network: name, networkId: network.id }, 'Network id');
        return network.id;
      } catch (err) {
        if (!isStatus(err, 409)) throw err;
        // Same name: reuse it when it is ours (a restart re-creating it), else fail.
        const existing = await this.docker.getNetwork(name).inspect();
        const ours = Object.entries(labels).every(([k, v]) => existing.Labels?.[k] === v) && existing.Internal === internal;
        if (!ours) throw err;
        this.log.info({ network: name, networkId: existing.Id }, 'Network exists with the same labels: reusing it');
        return existing.Id as string;
      }
    });
  }

  async networkGateway(name: string): Promise<string | undefined> {
    return this.call('debug', ['Inspecting network', 'Inspected network'], { network: name }, async () => {
      try {
        const info = await this.docker.getNetwork(name).inspect();
        const configs = (info.IPAM?.Config ?? []) as { Gateway?: string; Subnet?: string }[];
        const gateway = configs.map((c) => c.Gateway).find((g) => g !== undefined && IPV4.test(g));
        if (gateway) return gateway;
        // The default bridge often reports no gateway: it is the address of its host interface (docker0).
        const iface = (info.Options as Record<string, string> | undefined)?.['com.docker.network.bridge.name'];
        const hostAddr = iface ? os.networkInterfaces()[iface]?.find((a) => a.family === 'IPv4')?.address : undefined;
        if (hostAddr) return hostAddr;
        // Else Docker's own default: the first address of the subnet.
        const subnet = configs.map((c) => c.Subnet).find((s) => s !== undefined && IPV4.test(s.split('/')[0] ?? ''));
        const m = subnet && /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(subnet);
        if (!m) return undefined;
        const base = m.slice(1, 5).reduce((acc, o) => acc * 256 + Number(o), 0);
        const mask = Number(m[5]) === 0 ? 0 : (0xffffffff << (32 - Number(m[5]))) >>> 0;
        const first = ((base & mask) >>> 0) + 1;
        return [24, 16, 8, 0].map((sh) => (first >>> sh) & 0xff).join('.');
      } catch (err) {
        if (isStatus(err, 404)) return undefined;
        throw err;
      }
    });
  }

  async removeNetwork(name: string): Promise<void> {
    await this.call('info', ['Removing network', 'Removed network'], { network: name }, async () => {
      try {
        await this.docker.getNetwork(name).remove();
      } catch (err) {
        if (!isStatus(err, 404)) throw err;
      }
    });
  }

  async reapOrphans(
    instanceId: string,
    keep: (labels: Record<string, string>) => boolean,
  ): Promise<{ containers: string[]; networks: string[] }> {
    const selector = labelFilter(instanceSelector(instanceId));
    const reaped = { containers: [] as string[], networks: [] as string[] };
    const containers = await this.call('debug', ['Listing containers to reap', 'Listed containers to reap'], { instanceId }, () =>
      this.docker.listContainers({ all: true, filters: { label: selector } }),
    );
    for (const c of containers) {
      if (keep(c.Labels ?? {})) continue;
      this.log.info({ containerId: c.Id, name: c.Names[0], labels: c.Labels }, 'Reaping orphaned container');
      await this.remove(c.Id);
      reaped.containers.push(c.Id);
    }
    const networks = await this.call('debug', ['Listing networks to reap', 'Listed networks to reap'], { instanceId }, () =>
      this.docker.listNetworks({ filters: { label: selector } }),
    );
    for (const n of networks) {
      if (keep(n.Labels ?? {})) continue;
      this.log.info({ networkId: n.Id, network: n.Name, labels: n.Labels }, 'Reaping orphaned network');
      try {
        await this.removeNetwork(n.Id);
        reaped.networks.push(n.Id);
      } catch (err) {
        // Most likely a container that is kept is still attached to it.
        this.log.warn({ networkId: n.Id, network: n.Name, err }, 'Could not reap network');
      }
    }
    return reaped;
  }
}

function labelFilter(labels: Record<string, string>): string[] {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });
}
