/**
 * One serving container's life: create (`IMAGE serve`, env, labels, limits,
 * /opt/ml/model read-only, network isolation), start, find its address, wait
 * for GET /ping 200, stop (SIGTERM, SIGKILL after the grace) and remove.
 *
 * Address: on Linux the container's bridge IP is reached directly (no port is
 * published, no docker-proxy in the path); elsewhere 8080 is published on
 * 127.0.0.1 and that port is used.
 */
import type { ContainerRuntime, ContainerSpec, ContainerState } from '../runtime/container-runtime';
import { resolveCommand } from '../contract/command';
import type { Limits } from '../contract/instance-types';
import { SERVING } from '../contract/paths';
import { ContainerExitedError, HealthCheckTimeoutError, ServingError } from './errors';
import type { Address, InstanceClient } from './instance-client';
import { ensureIsolatedNetwork } from './isolation';
import type { ServingModel } from './serving-model';

export interface ServingContainerSpec {
  /** Docker container name (unique on the engine). */
  name: string;
  model: ServingModel;
  /** Host directory mounted read-only at /opt/ml/model. */
  modelDir: string;
  /** Owner labels (src/runtime/labels.ts). */
  labels: Record<string, string>;
  /** This sagebox's instance id (names the shared isolated network). */
  sageboxInstanceId: string;
  /** Below the model's Environment: ctx.containerEnv() and platform variables (SAGEMAKER_BATCH, ...). */
  platformEnv?: Record<string, string>;
  /** Above the model's Environment (a transform job's Environment). */
  overrideEnv?: Record<string, string>;
  limits?: Limits;
  /** Set false to reach containers through a published 127.0.0.1 port even on Linux. */
  useContainerIp?: boolean;
}

const reachByIp = (spec: { useContainerIp?: boolean }): boolean => spec.useContainerIp ?? process.platform === 'linux';

/** The ContainerSpec of a serving container (pure apart from the isolated network's name). */
export function servingContainerSpec(spec: ServingContainerSpec, network?: string): ContainerSpec {
  const cmd = resolveCommand('serve');
  const out: ContainerSpec = {
    name: spec.name,
    image: spec.model.image,
    cmd: cmd.cmd,
    env: { ...(spec.platformEnv ?? {}), ...spec.model.environment, ...(spec.overrideEnv ?? {}) },
    labels: { ...spec.labels },
    mounts: [{ source: spec.modelDir, target: SERVING.modelDir, readOnly: true }],
    network,
  };
  if (spec.model.containerHostname) out.hostname = spec.model.containerHostname;
  if (!reachByIp(spec)) out.exposePort = SERVING.port;
  if (spec.limits?.cpus !== undefined) out.cpus = spec.limits.cpus;
  if (spec.limits?.memoryBytes !== undefined) out.memoryBytes = spec.limits.memoryBytes;
  return out;
}

/** Creates the container (not started); returns its id. The image must be present (runtime.ensureImage). */
export async function createServingContainer(runtime: ContainerRuntime, spec: ServingContainerSpec): Promise<string> {
  const network = spec.model.networkIsolation ? await ensureIsolatedNetwork(runtime, spec.sageboxInstanceId) : undefined;
  return runtime.create(servingContainerSpec(spec, network));
}

/** Where sagebox reaches the container's port 8080, once it runs. */
export function addressOf(state: ContainerState, useContainerIp?: boolean): Address | undefined {
  if (reachByIp({ useContainerIp }) && state.ip) return { host: state.ip, port: SERVING.port };
  if (state.hostPort) return { host: '127.0.0.1', port: state.hostPort };
  return undefined;
}

/** The address of a running serving container; throws ContainerExitedError when it is not running. */
export async function locateServingContainer(runtime: ContainerRuntime, containerId: string, useContainerIp?: boolean): Promise<Address> {
  for (let i = 0; ; i++) {
    const state = await runtime.inspect(containerId);
    if (!state || !state.running) throw new ContainerExitedError(containerId, state?.exitCode);
    const address = addressOf(state, useContainerIp);
    if (address) return address;
    // The engine fills in the published port a moment after start.
    if (i >= 20) throw new ServingError(`Container ${containerId.slice(0, 12)} runs but has no reachable address`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface WaitHealthyOptions {
  /** ContainerStartupHealthCheckTimeoutInSeconds. */
  timeoutSeconds: number;
  /** Per-ping timeout (contract: 2 s). */
  pingTimeoutMs?: number;
  /** Pause between pings (default 200 ms). */
  intervalMs?: number;
  signal?: AbortSignal;
}

/**
 * Polls GET /ping until it answers 200. Rejects with HealthCheckTimeoutError
 * after timeoutSeconds, ContainerExitedError as soon as the container is seen
 * stopped, or the signal's reason when aborted.
 *
 * A 200 counts only if the container is still running after it. The engine
 * hands a stopped container's bridge IP to the next container it starts at
 * once (Docker 20.10 does), so a container that crashed before answering could
 * otherwise be reported healthy on another container's /ping. Containers are
 * never restarted by the engine (no restart policy), so "running after the
 * 200" means it has held its address since it started and the 200 was its own.
 */
export async function waitUntilHealthy(runtime: ContainerRuntime, containerId: string, client: InstanceClient, opts: WaitHealthyOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutSeconds * 1000;
  const interval = opts.intervalMs ?? 200;
  let last = 'no answer yet';
  let lastInspect = 0;
  for (;;) {
    opts.signal?.throwIfAborted();
    const left = deadline - Date.now();
    if (left <= 0) throw new HealthCheckTimeoutError(opts.timeoutSeconds, last);
    try {
      const status = await client.ping(Math.min(opts.pingTimeoutMs ?? 2000, Math.max(left, 1)));
      if (status === 200) {
        const state = await runtime.inspect(containerId);
        if (!state || !state.running) throw new ContainerExitedError(containerId, state?.exitCode);
        return;
      }
      last = `HTTP ${status}`;
    } catch (err) {
      if (err instanceof ContainerExitedError) throw err;
      last = (err as Error).message;
    }
    if (Date.now() - lastInspect >= 1000) {
      lastInspect = Date.now();
      const state = await runtime.inspect(containerId);
      if (!state || !state.running) throw new ContainerExitedError(containerId, state?.exitCode);
    }
    await sleep(Math.min(interval, Math.max(0, deadline - Date.now())), opts.signal);
  }
}

/** SIGTERM, SIGKILL after graceSeconds, then remove. Safe to repeat. */
export async function stopServingContainer(runtime: ContainerRuntime, containerId: string, graceSeconds: number): Promise<void> {
  try {
    await runtime.stop(containerId, graceSeconds);
  } finally {
    // Removal forces the kill when the stop failed.
    await runtime.remove(containerId);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(done, ms);
    function done(): void {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort(): void {
      clearTimeout(timer);
      reject(signal!.reason);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
