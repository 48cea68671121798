/**
 * Training jobs as a resource: create (persist, then launch), describe,
 * list, stop. The wire layer (src/api/sagemaker/training-jobs.ts) only maps
 * requests to these calls.
 */
import type { AppContext } from '../../app/context';
import { ResourceInUse, ValidationException, notFound } from '../../api/errors';
import { DuplicateResourceError, ResourceRepo, type ListQuery } from '../../store/resource-repo';
import { listPage } from '../engine/job-operations';
import { epochSeconds } from '../../util/clock';
import { JobEngine } from '../engine/job-engine';
import type { JobInternal } from '../engine/types';
import { initialDoc, summaryOf, type TrainingDoc, type TrainingExtra, type TrainingRequest } from './describe';
import { STEPS, isTerminal } from './status';
import { TrainingKind } from './training-kind';
import { validateTrainingRequest } from './validate';
import { algorithmForTraining } from '../algorithms/training-algorithm';

/** ListTrainingJobs' default order: the operation's own note says "from the most current to the oldest". */
export const LIST_DEFAULT_ORDER = 'Descending';

export class TrainingJobs {
  readonly repo: ResourceRepo<TrainingDoc, JobInternal>;
  readonly kind: TrainingKind;
  readonly engine: JobEngine<TrainingDoc>;

  constructor(private readonly ctx: AppContext) {
    this.repo = new ResourceRepo<TrainingDoc, JobInternal>(ctx.db, 'training-job');
    this.kind = new TrainingKind(ctx, this.repo);
    this.engine = new JobEngine(ctx, this.kind);
  }

  private get log() {
    return this.ctx.logger.child({ component: 'training' });
  }

  create(req: TrainingRequest): { TrainingJobArn: string } {
    // An algorithm resource (src/jobs/algorithms) checks the request against its specification and supplies the image.
    const alg = req.AlgorithmSpecification;
    const algorithm = alg?.AlgorithmName && !alg.TrainingImage ? algorithmForTraining(this.ctx, req) : undefined;
    validateTrainingRequest(req);
    const name = req.TrainingJobName!;
    const arn = this.ctx.arns.of('training-job', name);
    const now = epochSeconds(this.ctx.clock.now());
    const doc = initialDoc(req, arn, now);
    doc.TrainingJobName = name;
    const extra: TrainingExtra = {};
    if (algorithm) {
      doc.HyperParameters = algorithm.hyperParameters;
      doc.AlgorithmSpecification = { ...doc.AlgorithmSpecification!, MetricDefinitions: algorithm.metricDefinitions };
      extra.algorithmImage = algorithm.image;
    }
    try {
      this.repo.insert({
        name,
        arn,
        status: doc.TrainingJobStatus,
        creationTime: now,
        lastModifiedTime: now,
        doc,
        internal: { phase: 'preparing', attempt: 1, hosts: [], extra: extra as Record<string, unknown> },
      }, req.Tags);
    } catch (err) {
      if (err instanceof DuplicateResourceError) {
        throw new ResourceInUse(
          `Training job names must be unique within an AWS account and region, and a training job with this name already exists (${err.existing.arn})`,
        );
      }
      throw err;
    }
    this.log.info({ job: name, arn, image: req.AlgorithmSpecification?.TrainingImage ?? algorithm?.image, algorithm: algorithm?.arn }, 'training job created');
    this.engine.launch(name);
    return { TrainingJobArn: arn };
  }

  describe(name: string): TrainingDoc {
    const row = this.repo.get(this.ctx.arns.nameFrom('training-job', name));
    if (!row) throw notFound();
    return row.doc;
  }

  list(q: ListQuery & { WarmPoolStatusEquals?: string; TrainingPlanArnEquals?: string }): { TrainingJobSummaries: ReturnType<typeof summaryOf>[]; NextToken?: string } {
    // sagebox keeps no warm pools and knows no training plans: no job matches these filters.
    if (q.WarmPoolStatusEquals || q.TrainingPlanArnEquals) return { TrainingJobSummaries: [] };
    const { items, NextToken } = listPage(this.repo, q, LIST_DEFAULT_ORDER, summaryOf);
    return { TrainingJobSummaries: items, ...(NextToken ? { NextToken } : {}) };
  }

  stop(nameOrArn: string): void {
    const name = this.ctx.arns.nameFrom('training-job', nameOrArn);
    const row = this.repo.get(name);
    if (!row) throw notFound();
    if (isTerminal(row.status)) {
      throw new ValidationException(`The request was rejected because the training job is in status ${row.status}.`);
    }
    if (row.status === 'Stopping') return;
    this.kind.step(row.name, STEPS.stopping);
    this.log.info({ job: row.name }, 'stop requested');
    this.engine.requestStop(row.name, 'user');
  }

  start(): Promise<void> {
    return this.engine.recover();
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}
