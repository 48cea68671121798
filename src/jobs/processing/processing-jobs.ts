/**
 * The processing job operations, independent of the wire: create (persist,
 * then launch), describe, list, stop. The engine does the running.
 */
import type { DescribeProcessingJobResponse, ListProcessingJobsRequest, ListProcessingJobsResponse } from '@aws-sdk/client-sagemaker';
import type { AppContext } from '../../app/context';
import { ResourceInUse, notFound } from '../../api/errors';
import type { Wire } from '../../api/sagemaker/wire-types';
import type { ProcessingRequest } from '../../contract/processing-config';
import { DuplicateResourceError, ResourceRepo } from '../../store/resource-repo';
import { epochSeconds } from '../../util/clock';
import { JobEngine } from '../engine/job-engine';
import { listPage, markStopping } from '../engine/job-operations';
import type { JobInternal } from '../engine/types';
import { describeFromRequest, summaryOf, type ProcessingJobDoc } from './describe';
import { ProcessingJobKind } from './processing-kind';
import { checkCreateProcessingJob } from './request-checks';

export class ProcessingJobs {
  readonly repo: ResourceRepo<ProcessingJobDoc, JobInternal>;
  readonly engine: JobEngine<ProcessingJobDoc>;

  constructor(private readonly ctx: AppContext) {
    this.repo = new ResourceRepo<ProcessingJobDoc, JobInternal>(ctx.db, 'processing-job');
    this.engine = new JobEngine(ctx, new ProcessingJobKind(ctx, this.repo));
  }

  private get log() {
    return this.ctx.logger.child({ component: 'processing-job' });
  }

  create(req: ProcessingRequest): { ProcessingJobArn: string } {
    checkCreateProcessingJob(req);
    const name = req.ProcessingJobName!;
    const arn = this.ctx.arns.of('processing-job', name);
    const existing = this.repo.get(name);
    if (existing) throw duplicate(existing.arn);
    const nowS = epochSeconds(this.ctx.clock.now());
    const doc = describeFromRequest(req, arn, nowS);
    try {
      this.repo.insert({ name, arn, status: 'InProgress', creationTime: nowS, lastModifiedTime: nowS, doc, internal: { phase: 'preparing', attempt: 1, hosts: [] } }, req.Tags);
    } catch (err) {
      if (err instanceof DuplicateResourceError) throw duplicate(err.existing.arn);
      throw err;
    }
    this.log.info({ job: name, arn, image: req.AppSpecification?.ImageUri, instances: req.ProcessingResources?.ClusterConfig?.InstanceCount }, 'processing job created');
    this.engine.launch(name);
    return { ProcessingJobArn: arn };
  }

  describe(name: string): Wire<DescribeProcessingJobResponse> {
    const row = this.repo.get(this.ctx.arns.nameFrom('processing-job', name));
    if (!row) throw notFound();
    return row.doc;
  }

  list(q: Wire<ListProcessingJobsRequest>): Wire<ListProcessingJobsResponse> {
    // SageMaker documents Ascending but lists newest first; see docs/processing.md.
    const { items, NextToken } = listPage(this.repo, q, 'Descending', summaryOf);
    return { ProcessingJobSummaries: items, ...(NextToken ? { NextToken } : {}) };
  }

  /** InProgress -> Stopping (persisted with the stop request), then the engine signals the containers. */
  stop(name: string): void {
    const jobName = this.ctx.arns.nameFrom('processing-job', name);
    if (!markStopping(this.repo, jobName, 'ProcessingJobStatus', 'processing job', epochSeconds(this.ctx.clock.now()))) return;
    this.log.info({ job: jobName }, 'stopping processing job');
    this.engine.requestStop(jobName, 'user');
  }

  start(): Promise<void> {
    return this.engine.recover();
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}

function duplicate(arn: string): ResourceInUse {
  return new ResourceInUse(`Job name must be unique within an AWS account and region, and a job with this name already exists (${arn})`);
}
