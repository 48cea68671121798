/**
 * Training as a kind of the shared job engine: stage channels and config
 * files into per-host directories, one container per host running
 * `IMAGE train` (or the request's entrypoint/arguments), metrics from the
 * log lines, checkpoints synced while it runs, and at the end model.tar.gz,
 * output.tar.gz and the terminal status.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { AppContext } from '../../app/context';
import type { ContainerSpec, LogLine, Mount } from '../../runtime/container-runtime';
import type { ResourceRepo } from '../../store/resource-repo';
import { StorageError } from '../../storage/errors';
import { parseUri } from '../../storage/uri';
import { TRAINING } from '../../contract/paths';
import { resolveCommand } from '../../contract/command';
import { limitsFor } from '../../contract/instance-types';
import { clientError } from '../../contract/failure';
import { clusterOf, inputDataConfig, trainingConfigFiles, type ClusterHost } from '../../contract/training-config';
import { epochSeconds } from '../../util/clock';
import type { JobInternal, JobKind, JobRow, PreparedHost, RunOutcome } from '../engine/types';
import { PlatformError } from '../engine/types';
import { receivingHosts, stageChannels } from './channels';
import { CHECKPOINT_SYNC_INTERVAL_MS, CheckpointSync } from './checkpoints';
import { DEFAULT_CHECKPOINT_PATH, jobConfigView, type TrainingDoc, type TrainingExtra, type TrainingRequest } from './describe';
import { MetricMatcher, TrainingMetrics } from './metrics';
import { algorithmFailure, uploadOutputs } from './outputs';
import { STEPS, applyStep, isAt, isTerminal, type Step } from './status';
import { StreamedChannels, type HostPaths } from './streamed-channels';

export const TRAINING_LOG_GROUP = '/aws/sagemaker/TrainingJobs';

/** A host's directories below the job's work directory. */
export function hostDirs(workDir: string, host: string) {
  const root = path.join(workDir, host);
  return {
    root,
    input: path.join(root, 'input'),
    config: path.join(root, 'input', 'config'),
    data: path.join(root, 'input', 'data'),
    model: path.join(root, 'model'),
    output: path.join(root, 'output'),
    outputData: path.join(root, 'output', 'data'),
    failure: path.join(root, 'output', 'failure'),
    checkpoints: path.join(root, 'checkpoints'),
  };
}

/** Pipe/FastFile paths of a host: its /opt/ml/input/data, and a directory of its own the container does not see. */
function streamPaths(workDir: string, host: string): HostPaths {
  const d = hostDirs(workDir, host);
  return { data: d.data, state: path.join(d.root, 'input-state') };
}

export class TrainingKind implements JobKind<TrainingDoc> {
  readonly kind = 'training-job' as const;
  readonly logGroup = TRAINING_LOG_GROUP;
  readonly endsWith = 'containers' as const;
  readonly metrics: TrainingMetrics;
  private readonly matchers = new Map<string, MetricMatcher>();
  private readonly checkpointSyncs = new Map<string, CheckpointSync>();
  private readonly streams: StreamedChannels;

  constructor(private readonly ctx: AppContext, readonly repo: ResourceRepo<TrainingDoc, JobInternal>) {
    this.metrics = new TrainingMetrics(ctx.db);
    this.streams = new StreamedChannels(ctx, streamPaths);
  }

  private get log() {
    return this.ctx.logger.child({ component: 'training' });
  }

  private now(): number {
    return epochSeconds(this.ctx.clock.now());
  }

  /** Moves the job to a step (once: recovery repeats phases) and returns the row. */
  step(name: string, s: Step, also?: (doc: TrainingDoc) => void): JobRow<TrainingDoc> | undefined {
    return this.repo.update(name, (r) => {
      if (isAt(r.doc, s) && !also) return;
      const now = this.now();
      if (!isAt(r.doc, s) && !applyStep(r.doc, s, now)) return;
      also?.(r.doc);
      r.status = r.doc.TrainingJobStatus;
      r.doc.LastModifiedTime = now;
      r.lastModifiedTime = now;
    });
  }

  maxRuntimeSeconds(job: JobRow<TrainingDoc>): number | undefined {
    return job.doc.StoppingCondition?.MaxRuntimeInSeconds;
  }

  stopGraceSeconds(): number {
    return this.ctx.config.stopGraceSeconds.jobs;
  }

  onPhase(name: string, phase: 'downloading' | 'running' | 'uploading' | 'stopping'): void {
    const row = this.repo.get(name);
    if (!row || isTerminal(row.status)) return;
    if (phase === 'downloading' && row.doc.SecondaryStatus === 'Starting') this.step(name, STEPS.launching);
    else if (phase === 'running' && row.status === 'InProgress') this.step(name, STEPS.training);
    else if (phase === 'stopping' && row.status === 'InProgress') this.step(name, STEPS.stopping);
  }

  async prepare(job: JobRow<TrainingDoc>, workDir: string): Promise<PreparedHost[]> {
    const name = job.name;
    const req = job.doc as TrainingRequest;
    if (job.doc.SecondaryStatus === 'Starting') this.step(name, STEPS.preparing);
    const cluster = clusterOf(req);
    for (const h of cluster) {
      const d = hostDirs(workDir, h.host);
      for (const dir of [d.config, d.data, d.model, d.outputData, d.checkpoints]) await fsp.mkdir(dir, { recursive: true });
      // Images that run as another user than root must still be able to write their outputs.
      for (const dir of [d.model, d.output, d.outputData, d.checkpoints]) await fsp.chmod(dir, 0o777);
    }
    await this.checkOutputBucket(req.OutputDataConfig!.S3OutputPath!);

    this.step(name, STEPS.downloadingData, (doc) => void (doc.TrainingStartTime ??= this.now()));
    await stageChannels(this.ctx.transfer, req, cluster, (host) => hostDirs(workDir, host).data);
    await this.streams.prepare(name, req, cluster, workDir);
    const ck = this.checkpointSync(job, workDir);
    if (ck) {
      try {
        await ck.restore();
      } catch (err) {
        if (err instanceof StorageError) throw new PlatformError(`Restoring checkpoints from ${req.CheckpointConfig!.S3Uri} failed: ${err.message}`);
        throw err;
      }
    }
    const describe = jobConfigView(job.doc);
    const allChannels = inputDataConfig(req);
    // The document fills CompressionType 'None' in; the file names it only when the request did something with it.
    for (const c of Object.values(allChannels)) if (c.CompressionType === 'None') delete c.CompressionType;
    for (const h of cluster) {
      const files = trainingConfigFiles(req, describe, cluster, h);
      files['inputdataconfig.json'] = Object.fromEntries(
        (req.InputDataConfig ?? []).filter((ch) => receivingHosts(ch, cluster).some((r) => r.host === h.host)).map((ch) => [ch.ChannelName!, allChannels[ch.ChannelName!]!]),
      );
      for (const [file, value] of Object.entries(files)) await fsp.writeFile(path.join(hostDirs(workDir, h.host).config, file), JSON.stringify(value));
    }
    this.step(name, STEPS.downloadingImage);
    return cluster.map((h) => ({ host: h.host, spec: this.containerSpec(job, workDir, h, cluster.length) }));
  }

  private containerSpec(job: JobRow<TrainingDoc>, workDir: string, h: ClusterHost, hostCount: number): ContainerSpec {
    const alg = job.doc.AlgorithmSpecification!;
    const d = hostDirs(workDir, h.host);
    const command = resolveCommand('train', alg.ContainerEntrypoint, alg.ContainerArguments);
    const mounts: Mount[] = [
      { source: d.input, target: '/opt/ml/input' },
      { source: d.config, target: TRAINING.configDir, readOnly: true },
      { source: d.model, target: TRAINING.modelDir },
      { source: d.output, target: TRAINING.outputDir },
      { source: d.checkpoints, target: job.doc.CheckpointConfig?.LocalPath || DEFAULT_CHECKPOINT_PATH },
      ...this.streams.mounts(job.doc as TrainingRequest, clusterOf(job.doc as TrainingRequest), h.host, workDir),
    ];
    const region = this.ctx.config.region;
    const limits = limitsFor(h.instanceType, this.ctx.config.enforceInstanceLimits);
    const spec: ContainerSpec = {
      name: '',
      image: alg.TrainingImage ?? (job.internal.extra as TrainingExtra | undefined)?.algorithmImage ?? '',
      ...command,
      env: {
        AWS_REGION: region,
        AWS_DEFAULT_REGION: region,
        ...job.doc.Environment,
        TRAINING_JOB_NAME: job.name,
        TRAINING_JOB_ARN: job.arn,
      },
      labels: {},
      mounts,
      hostname: h.host,
      ...limits,
    };
    if (job.doc.EnableNetworkIsolation) spec.network = hostCount > 1 ? 'internal' : 'none';
    return spec;
  }

  private async checkOutputBucket(uri: string): Promise<void> {
    const target = parseUri(uri);
    if (target.scheme !== 's3') return;
    if (!(await this.ctx.transfer.exists(`s3://${target.bucket}`))) {
      throw new PlatformError(`The bucket '${target.bucket}' of OutputDataConfig.S3OutputPath (${uri}) does not exist. Create it before starting the job.`);
    }
  }

  private checkpointSync(job: JobRow<TrainingDoc>, workDir: string): CheckpointSync | undefined {
    const cfg = job.doc.CheckpointConfig;
    if (!cfg?.S3Uri) return undefined;
    let sync = this.checkpointSyncs.get(job.name);
    if (!sync) {
      const dirs = clusterOf(job.doc as TrainingRequest).map((h) => hostDirs(workDir, h.host).checkpoints);
      sync = new CheckpointSync(this.ctx.transfer, this.ctx.objectStore, cfg.S3Uri, dirs);
      this.checkpointSyncs.set(job.name, sync);
    }
    return sync;
  }

  async duringRun(job: JobRow<TrainingDoc>, workDir: string, signal: AbortSignal): Promise<void> {
    const req = job.doc as TrainingRequest;
    const streaming = this.streams.run(job.name, req, clusterOf(req), workDir, signal);
    const syncing = async (): Promise<void> => {
      const sync = this.checkpointSync(job, workDir);
      if (!sync) return;
      while (!signal.aborted) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, CHECKPOINT_SYNC_INTERVAL_MS);
          signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
        });
        if (signal.aborted) break;
        await sync.sync().catch((err) => this.log.warn({ err, job: job.name }, 'checkpoint upload failed; retrying at the next interval'));
      }
    };
    await Promise.all([streaming, syncing()]);
  }

  onLine(job: JobRow<TrainingDoc>, _host: string, line: LogLine): void {
    let m = this.matchers.get(job.name);
    if (!m) {
      m = new MetricMatcher(job.doc.AlgorithmSpecification?.MetricDefinitions ?? []);
      this.matchers.set(job.name, m);
    }
    if (m.empty) return;
    const samples = m.match(line.message);
    if (samples.length) this.metrics.record(job.name, line.timestamp, samples);
  }

  async finalize(job: JobRow<TrainingDoc>, workDir: string, outcome: RunOutcome): Promise<void> {
    const name = job.name;
    const row = this.repo.get(name);
    if (!row || isTerminal(row.status)) return;
    const ran = row.internal.hosts.some((h) => h.containerId);
    let end: Step;
    let failure: string | undefined;
    if (outcome.platformError) {
      end = STEPS.failed;
      failure = outcome.platformError.startsWith('ClientError:') ? outcome.platformError : clientError(outcome.platformError);
    } else if (outcome.stop) {
      end = outcome.stop === 'max-runtime' ? STEPS.maxRuntimeExceeded : STEPS.stopped;
    } else {
      failure = await this.hostFailure(row, workDir);
      end = failure ? STEPS.failed : STEPS.completed;
    }

    let modelArtifacts: string | undefined;
    if (ran) {
      const ck = this.checkpointSync(row, workDir);
      if (ck) await ck.sync().catch((err) => this.log.warn({ err, job: name }, 'final checkpoint upload failed'));
    }
    if (ran && end !== STEPS.failed) {
      if (end === STEPS.completed) this.step(name, STEPS.uploading);
      const out = row.doc.OutputDataConfig!;
      try {
        modelArtifacts = await uploadOutputs(this.ctx.transfer, {
          hosts: row.internal.hosts.map((h) => ({ host: h.host, modelDir: hostDirs(workDir, h.host).model, outputDataDir: hostDirs(workDir, h.host).outputData })),
          scratch: path.join(workDir, '_upload'),
          s3OutputPath: out.S3OutputPath!,
          job: name,
          compression: out.CompressionType ?? 'GZIP',
        });
      } catch (err) {
        this.log.warn({ err, job: name }, 'uploading the training outputs failed');
        end = STEPS.failed;
        failure = clientError(`Uploading the model and output data to ${out.S3OutputPath} failed: ${(err as Error).message}`);
      }
    }

    const metricNames = (row.doc.AlgorithmSpecification?.MetricDefinitions ?? []).map((m) => m.Name!).filter(Boolean);
    const finalMetrics = this.metrics.finalValues(name, metricNames);
    this.repo.update(name, (r) => {
      const now = this.now();
      // A stop that arrived after the containers ended (during the upload) still ends the job as Stopped.
      if (r.doc.TrainingJobStatus === 'Stopping' && end === STEPS.completed) end = STEPS.stopped;
      applyStep(r.doc, end, now);
      const doc = r.doc;
      if (failure) doc.FailureReason = failure;
      if (modelArtifacts) doc.ModelArtifacts = { S3ModelArtifacts: modelArtifacts };
      doc.TrainingStartTime ??= doc.CreationTime;
      doc.TrainingEndTime = now;
      const seconds = Math.max(1, Math.round(now - (doc.TrainingStartTime ?? now)));
      doc.TrainingTimeInSeconds = seconds;
      doc.BillableTimeInSeconds = seconds;
      if (finalMetrics.length) doc.FinalMetricDataList = finalMetrics;
      doc.LastModifiedTime = now;
      r.status = doc.TrainingJobStatus;
      r.lastModifiedTime = now;
    });
    this.matchers.delete(name);
    this.checkpointSyncs.delete(name);
    this.streams.forget(name);
    this.log.info({ job: name, status: end.primary, failure }, 'training job finished');
  }

  /** The AlgorithmError of the first failed host, or undefined when every host exited 0. */
  private async hostFailure(row: JobRow<TrainingDoc>, workDir: string): Promise<string | undefined> {
    const hosts = row.internal.hosts;
    if (!hosts.length) return clientError('No container ran for this job.');
    const missing = hosts.filter((h) => h.exitCode === undefined);
    if (missing.length) return clientError(`The container of host ${missing[0]!.host} did not report an exit code.`);
    if (hosts.every((h) => h.exitCode === 0)) return undefined;
    const exits = await Promise.all(
      hosts.map(async (h) => {
        const st = h.containerId ? await this.ctx.runtime.inspect(h.containerId).catch(() => undefined) : undefined;
        return { host: h.host, exitCode: h.exitCode, finishedAt: st?.finishedAt, oomKilled: st?.oomKilled, failureFile: hostDirs(workDir, h.host).failure };
      }),
    );
    return algorithmFailure(exits);
  }
}
