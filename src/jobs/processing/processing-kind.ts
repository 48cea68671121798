/**
 * Processing jobs as a kind of the shared job engine: what to stage, which
 * container to run on each host, the Continuous output watcher, and how the
 * run ends (outputs uploaded, terminal status written).
 */
import type { AppContext } from '../../app/context';
import { resolveCommand } from '../../contract/command';
import { FAILURE_REASON_MAX, clientError, readHead } from '../../contract/failure';
import { limitsFor } from '../../contract/instance-types';
import type { ResourceRepo } from '../../store/resource-repo';
import { epochSeconds } from '../../util/clock';
import type { JobInternal, JobKind, JobRow, PreparedHost, RunOutcome } from '../engine/types';
import type { ProcessingJobDoc } from './describe';
import { DEFAULT_MAX_RUNTIME_SECONDS } from './describe';
import { failureFileOf, hostLayout, messageFileOf, mountsOf } from './host-layout';
import { verdictOf, type HostFiles, type Verdict } from './outcome';
import { outputTargets, uploadOutputs, watchContinuous } from './output-upload';
import { hostsOf, stageHosts } from './staging';
import { PipeInputs } from './pipe-inputs';
import { canTransition, isTerminal, type ProcessingJobStatus } from './status';

export type ProcessingRepo = ResourceRepo<ProcessingJobDoc, JobInternal>;

export const PROCESSING_LOG_GROUP = '/aws/sagemaker/ProcessingJobs';

export class ProcessingJobKind implements JobKind<ProcessingJobDoc> {
  readonly kind = 'processing-job' as const;
  readonly logGroup = PROCESSING_LOG_GROUP;
  readonly endsWith = 'containers' as const;

  private readonly pipes: PipeInputs;

  constructor(private readonly ctx: AppContext, readonly repo: ProcessingRepo) {
    this.pipes = new PipeInputs(ctx);
  }

  private get log() {
    return this.ctx.logger.child({ component: 'processing-job' });
  }

  async prepare(job: JobRow<ProcessingJobDoc>, workDir: string): Promise<PreparedHost[]> {
    const doc = job.doc;
    const layouts = await stageHosts(doc, workDir, this.ctx.transfer, this.log);
    await this.pipes.prepare(doc, layouts);
    const app = doc.AppSpecification;
    const command = resolveCommand(undefined, app?.ContainerEntrypoint, app?.ContainerArguments);
    const limits = limitsFor(doc.ProcessingResources?.ClusterConfig?.InstanceType, this.ctx.config.enforceInstanceLimits);
    // Network isolation: no network for one host; an internal network (hosts see each other, nothing else) for several.
    const isolated = doc.NetworkConfig?.EnableNetworkIsolation === true;
    const network = isolated ? (layouts.length > 1 ? 'internal' : 'none') : undefined;
    return layouts.map((l) => ({
      host: l.host,
      spec: {
        name: '',
        image: app!.ImageUri!,
        entrypoint: command.entrypoint,
        cmd: command.cmd,
        env: { ...doc.Environment },
        labels: {},
        mounts: mountsOf(l),
        cpus: limits.cpus,
        memoryBytes: limits.memoryBytes,
        network,
      },
    }));
  }

  async duringRun(job: JobRow<ProcessingJobDoc>, workDir: string, signal: AbortSignal): Promise<void> {
    // The hosts prepare() staged, in that order (the engine's running hosts are the same ones).
    const layouts = hostsOf(job.doc).map((h) => hostLayout(workDir, h));
    const targets = outputTargets(job.doc, layouts);
    const feeding = this.pipes.run(job.doc, layouts, signal);
    const watching = watchContinuous(this.ctx.transfer, targets, signal, {
      now: () => this.ctx.clock.now(),
      onError: (err, t, rel) => this.log.warn({ err, job: job.name, host: t.host, output: t.name, file: rel }, 'continuous upload failed; retrying when the file changes or at the end of the job'),
    });
    await Promise.all([feeding, watching]);
  }

  async finalize(job: JobRow<ProcessingJobDoc>, workDir: string, outcome: RunOutcome): Promise<void> {
    if (isTerminal(job.status)) return; // a restart after the terminal status was written
    const layouts = hostsOf(job.doc).map((h) => hostLayout(workDir, h));
    const files: HostFiles[] = await Promise.all(
      layouts.map(async (l) => ({ host: l.host, message: await readSafely(messageFileOf(l)), failure: await readSafely(failureFileOf(l)) })),
    );
    let verdict = verdictOf(outcome, layouts.map((l) => l.host), files);
    // Outputs are uploaded whatever the outcome: a stopped or failed job keeps what it wrote.
    try {
      await uploadOutputs(this.ctx.transfer, outputTargets(job.doc, layouts));
    } catch (err) {
      this.log.warn({ err, job: job.name }, 'uploading the outputs failed');
      if (verdict.status === 'Completed') verdict = { ...verdict, status: 'Failed', failureReason: clientError(`Uploading the outputs failed: ${(err as Error).message}`) };
    }
    this.writeVerdict(job.name, verdict);
    this.pipes.forget(job.name);
  }

  private writeVerdict(name: string, verdict: Verdict): void {
    const nowS = epochSeconds(this.ctx.clock.now());
    this.repo.update(name, (r) => {
      const from = (r.doc.ProcessingJobStatus ?? 'InProgress') as ProcessingJobStatus;
      // Stopping never ends Completed: the user asked for a stop.
      const to: ProcessingJobStatus = from === 'Stopping' && verdict.status === 'Completed' ? 'Stopped' : verdict.status;
      if (!canTransition(from, to)) return;
      r.doc.ProcessingJobStatus = to;
      if (verdict.failureReason !== undefined && to === 'Failed') r.doc.FailureReason = verdict.failureReason;
      if (verdict.exitMessage !== undefined) r.doc.ExitMessage = verdict.exitMessage;
      r.doc.ProcessingEndTime = nowS;
      r.doc.LastModifiedTime = nowS;
      r.status = to;
      r.lastModifiedTime = nowS;
    });
    this.log.info({ job: name, status: verdict.status, failureReason: verdict.failureReason }, 'processing job finished');
  }

  onPhase(name: string, phase: 'downloading' | 'running' | 'uploading' | 'stopping'): void {
    if (phase !== 'running' && phase !== 'stopping') return;
    const nowS = epochSeconds(this.ctx.clock.now());
    this.repo.update(name, (r) => {
      if (phase === 'running') {
        if (r.doc.ProcessingStartTime !== undefined) return;
        // When the engine began starting the containers (MaxRuntimeInSeconds counts from there too).
        r.doc.ProcessingStartTime = r.internal.runStartedAt !== undefined ? epochSeconds(r.internal.runStartedAt) : nowS;
      } else {
        if (r.doc.ProcessingJobStatus !== 'InProgress') return;
        r.doc.ProcessingJobStatus = 'Stopping';
        r.status = 'Stopping';
      }
      r.doc.LastModifiedTime = nowS;
      r.lastModifiedTime = nowS;
    });
  }

  maxRuntimeSeconds(job: JobRow<ProcessingJobDoc>): number {
    return job.doc.StoppingCondition?.MaxRuntimeInSeconds ?? DEFAULT_MAX_RUNTIME_SECONDS;
  }

  stopGraceSeconds(): number {
    return this.ctx.config.stopGraceSeconds.jobs;
  }
}

/** The first bytes of a file the container may have written; anything unreadable (a directory, say) counts as absent. */
async function readSafely(file: string): Promise<Buffer | undefined> {
  return readHead(file, FAILURE_REASON_MAX).catch(() => undefined);
}
