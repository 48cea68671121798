/**
 * Transform jobs as a kind of the shared job engine (endsWith 'driver'):
 * prepare stages the model directory and the work plan and returns one
 * serving container per instance; the engine starts them and runs the feeder
 * (duringRun) until every object is transformed, then stops the containers;
 * finalize uploads the outputs of the objects that succeeded and writes the
 * terminal status.
 */
import * as path from 'node:path';
import type { AppContext } from '../../app/context';
import { clientError, truncate } from '../../contract/failure';
import { limitsFor } from '../../contract/instance-types';
import { hostNames } from '../../contract/paths';
import { LogSink } from '../../logs/log-store';
import { ensureIsolatedNetwork, ModelDataError, prepareModelDir, servingContainerSpec, type ServingModel } from '../../serving';
import { forEachLimit } from '../../storage/concurrency';
import { StorageError } from '../../storage/errors';
import type { ResourceRepo } from '../../store/resource-repo';
import { epochSeconds } from '../../util/clock';
import type { JobInternal, JobKind, JobRow, PreparedHost, RunOutcome } from '../engine/types';
import { PlatformError } from '../engine/types';
import { formatOf, RecordProcessor } from './data-processing';
import type { TransformJobDoc } from './describe';
import { DEFAULT_TRANSFORM_SETTINGS, feedHost, HostFailure, type TransformSettings } from './host-feeder';
import type { ObjectJob } from './object-transform';
import { batchEnvironment, type EffectiveParams, type RequestedParams } from './params';
import type { SplitType } from './records';
import { canTransition, isTerminal, type TransformJobStatus } from './status';
import { buildPlan, PlanFiles, type PlanItem } from './work-plan';

export type TransformRepo = ResourceRepo<TransformJobDoc, JobInternal>;

export const TRANSFORM_LOG_GROUP = '/aws/sagemaker/TransformJobs';

/** What sagebox keeps about a transform job beyond its Describe document (internal.extra). */
export interface TransformState {
  /** The model as it was at CreateTransformJob (deleting the model later changes nothing). */
  model: ServingModel;
  /** The batch parameters exactly as the request gave them. */
  requested: RequestedParams;
  /** Every host's feeder finished (set once, so a restart does not feed again). */
  driverDone?: boolean;
  /** An instance that could not serve at all. */
  hostFailure?: string;
}

export const stateOf = (row: JobRow<TransformJobDoc>): TransformState => row.internal.extra as unknown as TransformState;

export class TransformJobKind implements JobKind<TransformJobDoc> {
  readonly kind = 'transform-job' as const;
  readonly logGroup = TRANSFORM_LOG_GROUP;
  readonly endsWith = 'driver' as const;
  /** Timings (tests shorten them). */
  readonly settings: TransformSettings = { ...DEFAULT_TRANSFORM_SETTINGS };
  /** Aborts a running feeder at once on StopTransformJob (the engine then stops the containers). */
  private readonly feeders = new Map<string, AbortController>();

  constructor(private readonly ctx: AppContext, readonly repo: TransformRepo) {}

  private get log() {
    return this.ctx.logger.child({ component: 'transform-job' });
  }

  async prepare(job: JobRow<TransformJobDoc>, workDir: string): Promise<PreparedHost[]> {
    const doc = job.doc;
    const state = stateOf(job);
    const hosts = hostNames(doc.TransformResources?.InstanceCount ?? 1);
    const s3 = doc.TransformInput!.DataSource!.S3DataSource!;
    let objects;
    try {
      objects = await this.ctx.transfer.listSource({ uri: s3.S3Uri!, dataType: s3.S3DataType as 'S3Prefix' | 'ManifestFile' });
    } catch (err) {
      if (err instanceof StorageError) throw new PlatformError(err.message);
      throw err;
    }
    await new PlanFiles(workDir).write(buildPlan(objects, hosts, doc.TransformOutput!.S3OutputPath!));
    const modelDir = path.join(workDir, 'model');
    try {
      await prepareModelDir(this.ctx.transfer, state.model.modelData, modelDir);
    } catch (err) {
      if (err instanceof ModelDataError) throw new PlatformError(err.message);
      throw err;
    }
    // Network isolation: the shared internal network for one instance; an internal per-job network for several.
    let network: string | undefined;
    if (state.model.networkIsolation) network = hosts.length > 1 ? 'internal' : await ensureIsolatedNetwork(this.ctx.runtime, this.ctx.config.instanceId);
    const limits = limitsFor(doc.TransformResources?.InstanceType, this.ctx.config.enforceInstanceLimits);
    return hosts.map((host) => ({
      host,
      spec: servingContainerSpec(
        {
          name: '',
          model: state.model,
          modelDir,
          labels: {},
          sageboxInstanceId: this.ctx.config.instanceId,
          overrideEnv: { ...(doc.Environment ?? {}), ...batchEnvironment(state.requested) },
          limits,
        },
        network,
      ),
    }));
  }

  async duringRun(job: JobRow<TransformJobDoc>, workDir: string, engineSignal: AbortSignal, hosts: { host: string; containerId: string }[]): Promise<void> {
    const name = job.name;
    if (stateOf(job).driverDone) return;
    const abort = new AbortController();
    const onEngineAbort = (): void => abort.abort(engineSignal.reason);
    engineSignal.addEventListener('abort', onEngineAbort, { once: true });
    this.feeders.set(name.toLowerCase(), abort);
    const sinks = new Map<string, LogSink>();
    try {
      if (job.internal.stop) return;
      const files = new PlanFiles(workDir);
      const plan = await files.read();
      if (!plan) return;
      await files.resetTmp();
      const doc = job.doc;
      const deps = {
        runtime: this.ctx.runtime,
        transfer: this.ctx.transfer,
        settings: this.settings,
        files,
        requested: stateOf(job).requested,
        job: objectJobOf(doc),
        processor: new RecordProcessor(doc.DataProcessing, formatOf(doc.TransformInput?.ContentType), formatOf(doc.TransformOutput?.Accept ?? doc.TransformInput?.ContentType)),
        onParams: (host: string, p: EffectiveParams) => this.showParams(name, p),
        note: (host: string, message: string) => this.note(job, host, sinks, message),
        log: this.log.child({ job: name }),
      };
      let hostFailure: string | undefined;
      await Promise.all(
        hosts.map((h) =>
          feedHost(deps, { host: h.host, containerId: h.containerId, items: plan.items.filter((i) => i.host === h.host) }, abort.signal).catch((err: unknown) => {
            if (abort.signal.aborted) return;
            hostFailure ??= err instanceof HostFailure ? err.message : `The feeder of ${h.host} failed: ${(err as Error).message}`;
            this.log.warn({ job: name, host: h.host, err }, 'transform instance failed');
            abort.abort(new HostFailure(hostFailure));
          }),
        ),
      );
      // Aborted by the engine (shutdown, a container gone) or a stop: not done; a restart or finalize takes over.
      if (engineSignal.aborted || this.repo.get(name)?.internal.stop) return;
      this.repo.update(name, (r) => {
        const st = stateOf(r);
        st.driverDone = true;
        if (hostFailure) st.hostFailure = hostFailure;
      });
    } catch (err) {
      // Never rejects: the engine would log it and leave the job without its reason.
      if (engineSignal.aborted) return;
      this.log.error({ err, job: name }, 'the transform feeder failed');
      try {
        this.repo.update(name, (r) => {
          const st = stateOf(r);
          st.driverDone = true;
          st.hostFailure ??= `An internal error occurred while feeding the containers: ${(err as Error).message}`;
        });
      } catch (e) {
        this.log.error({ err: e, job: name }, 'could not record the feeder failure');
      }
    } finally {
      engineSignal.removeEventListener('abort', onEngineAbort);
      this.feeders.delete(name.toLowerCase());
    }
  }

  /**
   * The serving containers were stopped from outside (an engine restart, docker stop). Finished
   * outputs are kept; objects that failed in this run (likely because their container was going
   * away) are tried again, and the feeders start over on the same containers once they run again.
   */
  async onInterrupted(job: JobRow<TransformJobDoc>, workDir: string): Promise<'resume' | 'finished'> {
    const files = new PlanFiles(workDir);
    const plan = (await files.read())?.items ?? [];
    const st = stateOf(job);
    if (st.driverDone && !st.hostFailure && (await everyDone(files, plan))) return 'finished';
    const cleared = await files.clearFailures();
    this.repo.update(job.name, (r) => {
      const s = stateOf(r);
      delete s.driverDone;
      delete s.hostFailure;
    });
    this.log.info({ job: job.name, retriedObjects: cleared }, 'resuming the transform after its containers were stopped from outside');
    return 'resume';
  }

  /** StopTransformJob: requests in flight are cancelled at once. */
  abortFeeder(name: string): void {
    this.feeders.get(name.toLowerCase())?.abort(new Error('StopTransformJob'));
  }

  /**
   * A line in `<job>/<host>-<epoch>/data-log` (failed attempts and objects). Written through at
   * once: these lines are rare, and no flush timer may outlive the server; a line that comes
   * after the store closed (a request failing during shutdown) is dropped.
   */
  private note(job: JobRow<TransformJobDoc>, host: string, sinks: Map<string, LogSink>, message: string): void {
    try {
      let sink = sinks.get(host);
      if (!sink) {
        const stream = job.internal.hosts.find((h) => h.host === host)?.stream ?? `${job.name}/${host}`;
        sink = new LogSink(this.ctx.logs, this.ctx.logs.ensureStream(this.logGroup, `${stream}/data-log`));
        sinks.set(host, sink);
      }
      sink.write({ timestamp: this.ctx.clock.now(), message });
      sink.flush();
    } catch (err) {
      this.log.debug({ err, job: job.name, host }, 'could not write a data-log line');
    }
  }

  /** Describe shows the batch parameters the job runs with once the first instance settled them. */
  private showParams(name: string, p: EffectiveParams): void {
    this.repo.update(name, (r) => {
      if (r.doc.MaxConcurrentTransforms === undefined || r.doc.MaxConcurrentTransforms === 0) r.doc.MaxConcurrentTransforms = p.maxConcurrent;
      r.doc.MaxPayloadInMB ??= p.maxPayloadMb;
      r.doc.BatchStrategy ??= p.strategy;
    });
  }

  async finalize(job: JobRow<TransformJobDoc>, workDir: string, outcome: RunOutcome): Promise<void> {
    if (isTerminal(job.status)) return; // a restart after the terminal status was written
    const name = job.name;
    if (outcome.stop) return this.writeStatus(name, 'Stopped');
    if (outcome.platformError) return this.writeStatus(name, 'Failed', clientError(outcome.platformError));
    const state = stateOf(job);
    if (state.hostFailure) return this.writeStatus(name, 'Failed', clientError(state.hostFailure));
    if (!state.driverDone) {
      const exited = Object.entries(outcome.exitCodes).map(([h, c]) => `${h} (exit code ${c})`).join(', ');
      return this.writeStatus(name, 'Failed', clientError(`The serving container of ${exited || 'an instance'} exited before every input object was transformed. See the job's logs in ${TRANSFORM_LOG_GROUP}.`));
    }
    const files = new PlanFiles(workDir);
    const plan = (await files.read())?.items ?? [];
    const failed: { uri: string; reason: string }[] = [];
    const done: typeof plan = [];
    for (const item of plan) {
      if (await files.isDone(item.index)) done.push(item);
      else failed.push({ uri: item.uri, reason: (await files.failure(item.index)) ?? 'it was not transformed' });
    }
    try {
      await forEachLimit(done, 4, async (item) => {
        if (this.repo.get(name)?.internal.stop) throw new StopDuringUpload();
        // Never written again: the local store links it in. A small output was hashed as it was written; a large one
        // gets an opaque ETag, as a multipart upload would on S3.
        await this.ctx.transfer.uploadFile(files.outFile(item.index), item.outUri, { md5: await files.md5(item.index), immutable: true, opaqueEtag: true });
      });
    } catch (err) {
      if (err instanceof StopDuringUpload) return this.writeStatus(name, 'Stopped');
      this.log.warn({ err, job: name }, 'uploading the outputs failed');
      return this.writeStatus(name, 'Failed', clientError(`Uploading the outputs to ${job.doc.TransformOutput?.S3OutputPath} failed: ${(err as Error).message}`));
    }
    if (failed.length) {
      const first = failed[0]!;
      return this.writeStatus(name, 'Failed', truncate(`ClientError: ${failed.length} of ${plan.length} input object(s) failed; ${first.uri}: ${first.reason}. See the data-log streams of the job in ${TRANSFORM_LOG_GROUP}.`));
    }
    this.writeStatus(name, 'Completed');
  }

  private writeStatus(name: string, status: 'Completed' | 'Failed' | 'Stopped', failureReason?: string): void {
    const nowS = epochSeconds(this.ctx.clock.now());
    this.repo.update(name, (r) => {
      const from = (r.doc.TransformJobStatus ?? 'InProgress') as TransformJobStatus;
      // Stopping never ends Completed: the user asked for a stop.
      const to: TransformJobStatus = from === 'Stopping' && status === 'Completed' ? 'Stopped' : status;
      if (!canTransition(from, to)) return;
      r.doc.TransformJobStatus = to;
      if (failureReason !== undefined && to === 'Failed') r.doc.FailureReason = failureReason;
      r.doc.TransformEndTime = nowS;
      r.doc.LastModifiedTime = nowS;
      r.status = to;
      r.lastModifiedTime = nowS;
    });
    this.log.info({ job: name, status, failureReason }, 'transform job finished');
  }

  onPhase(name: string, phase: 'downloading' | 'running' | 'uploading' | 'stopping'): void {
    if (phase !== 'running' && phase !== 'stopping') return;
    const nowS = epochSeconds(this.ctx.clock.now());
    this.repo.update(name, (r) => {
      if (phase === 'running') {
        if (r.doc.TransformStartTime !== undefined) return;
        r.doc.TransformStartTime = r.internal.runStartedAt !== undefined ? epochSeconds(r.internal.runStartedAt) : nowS;
      } else {
        if (r.doc.TransformJobStatus !== 'InProgress') return;
        r.doc.TransformJobStatus = 'Stopping';
        r.status = 'Stopping';
      }
      r.doc.LastModifiedTime = nowS;
      r.lastModifiedTime = nowS;
    });
  }

  maxRuntimeSeconds(): undefined {
    return undefined;
  }

  stopGraceSeconds(): number {
    return this.ctx.config.stopGraceSeconds.jobs;
  }
}

class StopDuringUpload extends Error {}

function objectJobOf(doc: TransformJobDoc): ObjectJob {
  const job: ObjectJob = {
    split: (doc.TransformInput?.SplitType ?? 'None') as SplitType,
    gzip: doc.TransformInput?.CompressionType === 'Gzip',
    assembleLine: doc.TransformOutput?.AssembleWith === 'Line',
    timeoutMs: (doc.ModelClientConfig?.InvocationsTimeoutInSeconds ?? 600) * 1000,
    maxRetries: doc.ModelClientConfig?.InvocationsMaxRetries ?? 3,
  };
  if (doc.TransformInput?.ContentType) job.contentType = doc.TransformInput.ContentType;
  if (doc.TransformOutput?.Accept) job.accept = doc.TransformOutput.Accept;
  return job;
}

async function everyDone(files: PlanFiles, plan: readonly PlanItem[]): Promise<boolean> {
  for (const item of plan) if (!(await files.isDone(item.index))) return false;
  return true;
}
