/**
 * Runs the validation profiles of algorithms and model packages (spec 6.1):
 *
 *   training: the profile's TrainingJobDefinition as a training job
 *             `<name>-validation-<n>` (algorithms only);
 *   transform: a model from the inference image and the model data (the
 *             training job's artifacts, or the package's own), then the
 *             profile's TransformJobDefinition as a transform job, which must
 *             write output.
 *
 * Every job goes through the same operations a client calls (InternalSageMaker),
 * so they are ordinary jobs: listed, described, logged. The runner is a
 * poller: each pass moves every Pending/InProgress resource on by at most one
 * step. The chosen names are persisted before a job is created and a job that
 * already exists is not created again, so a restart resumes where it stopped.
 */
import type { ContainerDefinition, TransformJobDefinition } from '@aws-sdk/client-sagemaker';
import type { AppContext } from '../../app/context';
import type { Wire } from '../../api/sagemaker/wire-types';
import type { InternalSageMaker } from '../../api/internal-calls';
import { AwsError } from '../../api/errors';
import { ResourceRepo, type ResourceRow } from '../../store/resource-repo';
import { StorageError } from '../../storage/errors';
import { epochSeconds } from '../../util/clock';
import { VALIDATING, setItem, type ProductStatus, type StatusItem, type ValidatedInternal, type ValidationProgress } from './status';

/** What one validation profile asks for, in terms of the operations it calls. */
export interface ValidationPlan {
  profile: string;
  role: string;
  /** Base of the job names: `<base>-validation-<n>`. */
  baseName: string;
  /** CreateTrainingJob input without TrainingJobName. */
  training?: Record<string, unknown>;
  transform?: {
    definition: Wire<TransformJobDefinition>;
    /** The model's container; `modelDataUrl` is the training job's artifacts when there was one. */
    container(modelDataUrl: string | undefined): Wire<ContainerDefinition>;
  };
}

/** A kind of resource that is validated (algorithms, model packages). */
export interface ValidationSubject<D> {
  readonly noun: string;
  readonly repo: ResourceRepo<D, ValidatedInternal>;
  status(doc: D): ProductStatus | undefined;
  setStatus(doc: D, status: ProductStatus, nowSeconds: number): void;
  items(doc: D): StatusItem[];
  /** The plan of the row's (only) profile; throws a user-facing Error when it cannot run. */
  plan(row: ResourceRow<D, ValidatedInternal>): ValidationPlan;
}

type AnySubject = ValidationSubject<any>;
type Row = ResourceRow<unknown, ValidatedInternal>;

export const DEFAULT_VALIDATION_POLL_MS = 1000;
const MAX_NAME = 63;

/** Statuses of the jobs the runner waits on. */
const JOB_RUNNING = new Set(['InProgress', 'Stopping']);

class StepFailed extends Error {}

export class ValidationRunner {
  private timer?: NodeJS.Timeout;
  private pass?: Promise<void>;
  private again = false;
  private closed = false;

  constructor(
    private readonly ctx: AppContext,
    private readonly calls: InternalSageMaker,
    private readonly subjects: readonly AnySubject[],
    readonly settings: { pollMs: number } = { pollMs: DEFAULT_VALIDATION_POLL_MS },
  ) {}

  private get log() {
    return this.ctx.logger.child({ component: 'validation' });
  }

  /** Schedules a pass now (after a create, at start-up). */
  kick(): void {
    if (this.closed) return;
    if (this.pass) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.runPass(), 0);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.pass;
  }

  private runPass(): void {
    this.timer = undefined;
    this.pass = this.advanceAll()
      .catch((err) => this.log.error({ err }, 'validation pass failed'))
      .then((pending) => {
        this.pass = undefined;
        if (this.closed) return;
        const soon = this.again;
        this.again = false;
        if (pending || soon) this.timer = setTimeout(() => this.runPass(), soon ? 0 : this.settings.pollMs);
      });
  }

  /** Returns whether any resource is still validating. */
  private async advanceAll(): Promise<boolean> {
    let pending = false;
    for (const subject of this.subjects) {
      for (const row of subject.repo.all([...VALIDATING]) as Row[]) {
        if (this.closed) return false;
        try {
          await this.advance(subject, row);
        } catch (err) {
          if (err instanceof StepFailed) this.finish(subject, row.name, 'Failed', err.message);
          else this.log.warn({ err, [subject.noun]: row.name }, 'validation step failed; retrying');
        }
        const now = subject.repo.get(row.name);
        if (now && VALIDATING.includes(subject.status(now.doc) as ProductStatus)) pending = true;
      }
    }
    return pending;
  }

  private async advance(subject: AnySubject, row: Row): Promise<void> {
    let plan: ValidationPlan;
    try {
      plan = subject.plan(row);
    } catch (err) {
      throw new StepFailed((err as Error).message);
    }
    let v = row.internal.validation;
    if (!v) {
      const name = this.freeName(plan.baseName);
      v = { profile: plan.profile, step: plan.training ? 'training' : 'transform', trainingJob: plan.training ? name : undefined, model: name, transformJob: name };
      const started = v;
      if (!this.save(subject, row.name, (doc, internal) => {
        subject.setStatus(doc, 'InProgress', this.now());
        setItem(subject.items(doc), plan.profile, 'InProgress');
        internal.validation = started;
      })) return;
      this.log.info({ [subject.noun]: row.name, profile: plan.profile, jobs: name }, 'validation started');
    }
    if (v.step === 'training') await this.training(subject, row.name, plan, v);
    else if (v.step === 'transform') await this.transform(subject, row.name, plan, v);
  }

  private async training(subject: AnySubject, name: string, plan: ValidationPlan, v: ValidationProgress): Promise<void> {
    const job = v.trainingJob!;
    if (!this.exists('training-job', job)) {
      await this.create('training job', 'CreateTrainingJob', { ...plan.training, TrainingJobName: job });
    }
    const d = await this.calls.call<{ TrainingJobStatus?: string; FailureReason?: string; ModelArtifacts?: { S3ModelArtifacts?: string } }>('DescribeTrainingJob', { TrainingJobName: job });
    if (JOB_RUNNING.has(d.TrainingJobStatus ?? '')) return;
    if (d.TrainingJobStatus !== 'Completed') {
      throw new StepFailed(`Validation training job ${job} ended ${d.TrainingJobStatus}: ${d.FailureReason ?? 'no reason given'}`);
    }
    if (!plan.transform) return this.finish(subject, name, 'Completed');
    const modelDataUrl = d.ModelArtifacts?.S3ModelArtifacts;
    this.save(subject, name, (_doc, internal) => {
      internal.validation = { ...v, step: 'transform', modelDataUrl };
    });
    this.log.info({ [subject.noun]: name, job }, 'validation training completed; starting the transform');
  }

  private async transform(subject: AnySubject, name: string, plan: ValidationPlan, v: ValidationProgress): Promise<void> {
    if (!plan.transform) return this.finish(subject, name, 'Completed');
    const model = v.model!;
    const job = v.transformJob!;
    if (!this.exists('model', model)) {
      await this.create('model', 'CreateModel', { ModelName: model, ExecutionRoleArn: plan.role, PrimaryContainer: plan.transform.container(v.modelDataUrl) });
    }
    if (!this.exists('transform-job', job)) {
      await this.create('transform job', 'CreateTransformJob', { ...plan.transform.definition, TransformJobName: job, ModelName: model });
    }
    const d = await this.calls.call<{ TransformJobStatus?: string; FailureReason?: string }>('DescribeTransformJob', { TransformJobName: job });
    if (JOB_RUNNING.has(d.TransformJobStatus ?? '')) return;
    if (d.TransformJobStatus !== 'Completed') {
      throw new StepFailed(`Validation transform job ${job} ended ${d.TransformJobStatus}: ${d.FailureReason ?? 'no reason given'}`);
    }
    const out = plan.transform.definition.TransformOutput?.S3OutputPath ?? '';
    let written = 0;
    try {
      written = (await this.ctx.transfer.listSource({ uri: out, dataType: 'S3Prefix', allowEmpty: true })).length;
    } catch (err) {
      if (!(err instanceof StorageError)) throw err;
    }
    if (written === 0) throw new StepFailed(`Validation transform job ${job} completed but wrote no output under ${out}.`);
    this.finish(subject, name, 'Completed');
  }

  /** A create whose refusal ends the validation with the operation's message. */
  private async create(what: string, op: string, input: Record<string, unknown>): Promise<void> {
    try {
      await this.calls.call(op, input);
    } catch (err) {
      if (err instanceof AwsError) throw new StepFailed(`Could not create the validation ${what}: ${err.message}`);
      throw err;
    }
  }

  private finish(subject: AnySubject, name: string, status: 'Completed' | 'Failed', reason?: string): void {
    this.save(subject, name, (doc, internal) => {
      subject.setStatus(doc, status, this.now());
      setItem(subject.items(doc), internal.validation?.profile ?? subject.items(doc)[0]?.Name ?? 'ValidationProfile', status, reason);
      if (internal.validation) internal.validation.step = 'done';
    });
    this.log.info({ [subject.noun]: name, status, reason }, 'validation finished');
  }

  /** Writes a change to a row still validating; false when it is gone or done. */
  private save(subject: AnySubject, name: string, change: (doc: any, internal: ValidatedInternal) => void): boolean {
    let changed = false;
    subject.repo.update(name, (r) => {
      if (!VALIDATING.includes(subject.status(r.doc) as ProductStatus)) return;
      change(r.doc, r.internal);
      r.status = subject.status(r.doc);
      r.lastModifiedTime = this.now();
      changed = true;
    });
    return changed;
  }

  private exists(kind: 'training-job' | 'model' | 'transform-job', name: string): boolean {
    return new ResourceRepo(this.ctx.db, kind).get(name) !== undefined;
  }

  /** `<base>-validation-<n>` with the smallest n no training job, model or transform job uses, within 63 characters. */
  private freeName(base: string): string {
    for (let n = 1; ; n++) {
      const suffix = `-validation-${n}`;
      const name = `${base.slice(0, MAX_NAME - suffix.length)}${suffix}`;
      if (!this.exists('training-job', name) && !this.exists('model', name) && !this.exists('transform-job', name)) return name;
    }
  }

  private now(): number {
    return epochSeconds(this.ctx.clock.now());
  }
}
