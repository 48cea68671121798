/**
 * The feeder of one transform instance: find the serving container, wait for
 * GET /ping 200, ask GET /execution-parameters, then transform the input
 * objects dealt to this host (those a previous run finished are skipped),
 * several at a time, sharing MaxConcurrentTransforms request slots.
 */
import * as fsp from 'node:fs/promises';
import type { ContainerRuntime } from '../../runtime/container-runtime';
import { InstanceClient, locateServingContainer, waitUntilHealthy, type Address } from '../../serving';
import type { DataTransfer } from '../../storage/transfer';
import type { RecordProcessor } from './data-processing';
import { Semaphore } from './flow';
import { ObjectFailure, transformObject, type ObjectJob } from './object-transform';
import { parseExecutionParameters, resolveParams, type EffectiveParams, type RequestedParams } from './params';
import type { PlanFiles, PlanItem } from './work-plan';

export interface TransformSettings {
  /** How long a container has to answer GET /ping with 200. */
  healthCheckTimeoutSeconds: number;
  /** Pause before retry n is n times this. */
  retryDelayMs: number;
  /** Timeout of GET /execution-parameters. */
  executionParametersTimeoutMs: number;
}

export const DEFAULT_TRANSFORM_SETTINGS: TransformSettings = { healthCheckTimeoutSeconds: 600, retryDelayMs: 200, executionParametersTimeoutMs: 5000 };

/** The instance could not serve at all (no health, container gone): the job fails. */
export class HostFailure extends Error {
  override readonly name = 'HostFailure';
}

export interface HostFeed {
  host: string;
  containerId: string;
  items: PlanItem[];
}

export interface FeederDeps {
  runtime: ContainerRuntime;
  transfer: DataTransfer;
  settings: TransformSettings;
  files: PlanFiles;
  requested: RequestedParams;
  job: ObjectJob;
  processor: RecordProcessor;
  /** The parameters this host settled on (Describe shows the first host's). */
  onParams(host: string, params: EffectiveParams): void;
  /** A line for the host's data log. */
  note(host: string, message: string): void;
  log: { info(o: object, m: string): void; warn(o: object, m: string): void };
}

export async function feedHost(deps: FeederDeps, feed: HostFeed, signal: AbortSignal): Promise<void> {
  const { host } = feed;
  let address: Address;
  try {
    address = await locateServingContainer(deps.runtime, feed.containerId);
  } catch (err) {
    throw new HostFailure(`The serving container of ${host} is not running: ${(err as Error).message}`);
  }
  const control = new InstanceClient(address, { connections: 2 });
  let client: InstanceClient | undefined;
  const onAbort = (): void => {
    void control.destroy();
    void client?.destroy();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    try {
      await waitUntilHealthy(deps.runtime, feed.containerId, control, { timeoutSeconds: deps.settings.healthCheckTimeoutSeconds, signal });
    } catch (err) {
      signal.throwIfAborted();
      throw new HostFailure(`The serving container of ${host} did not pass the ping health check: ${(err as Error).message}`);
    }
    const params = resolveParams(deps.requested, await executionParameters(control, deps.settings.executionParametersTimeoutMs, signal));
    deps.onParams(host, params);
    deps.log.info({ host, ...params, objects: feed.items.length }, 'transform instance healthy');
    client = new InstanceClient(address, { connections: params.maxConcurrent });
    const lane = {
      transfer: deps.transfer,
      client,
      params,
      job: deps.job,
      processor: deps.processor,
      requests: new Semaphore(params.maxConcurrent),
      held: new Semaphore(params.maxConcurrent * 2),
      signal,
      retryDelayMs: deps.settings.retryDelayMs,
      md5Outputs: deps.transfer.takesKnownMd5,
      note: (m: string) => deps.note(host, m),
    };
    const todo: PlanItem[] = [];
    for (const item of feed.items) {
      if (!(await deps.files.isDone(item.index)) && (await deps.files.failure(item.index)) === undefined) todo.push(item);
    }
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < todo.length && !signal.aborted) {
        const item = todo[next++]!;
        const tmp = deps.files.tmpFile(item.index);
        const started = Date.now();
        try {
          const { bytes, md5 } = await transformObject(lane, item.uri, tmp);
          signal.throwIfAborted();
          await deps.files.commit(item.index, tmp, md5);
          deps.log.info({ host, input: item.uri, bytes, ms: Date.now() - started }, 'input object transformed');
        } catch (err) {
          await fsp.rm(tmp, { force: true }).catch(() => undefined);
          if (signal.aborted) return;
          const reason = err instanceof ObjectFailure ? err.message : `an internal error occurred: ${(err as Error).message}`;
          deps.note(host, `${item.uri}: ${reason}`);
          deps.log.warn({ host, input: item.uri, reason }, 'input object failed');
          await deps.files.markFailed(item.index, reason);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(params.maxConcurrent, todo.length)) }, worker));
  } finally {
    signal.removeEventListener('abort', onAbort);
    await control.destroy();
    await client?.destroy();
  }
}

/** The container's suggestions; anything but a 200 with a JSON object counts as none. */
async function executionParameters(client: InstanceClient, timeoutMs: number, signal: AbortSignal): Promise<Partial<EffectiveParams>> {
  try {
    const res = await client.get('/execution-parameters', timeoutMs);
    if (res.statusCode !== 200) return {};
    return parseExecutionParameters(JSON.parse(res.body.toString('utf8')));
  } catch {
    signal.throwIfAborted();
    return {};
  }
}
