/**
 * The transform job operations, independent of the wire: create (check,
 * persist, then launch), describe, list, stop. The engine does the running.
 */
import type { DescribeTransformJobResponse, ListTransformJobsRequest, ListTransformJobsResponse } from '@aws-sdk/client-sagemaker';
import type { AppContext } from '../../app/context';
import { ResourceInUse, ValidationException, notFound } from '../../api/errors';
import type { Wire } from '../../api/sagemaker/wire-types';
import { resolveServingModel, UnsupportedModelError, type ModelDoc } from '../../serving';
import { NoSuchBucketError, StorageError } from '../../storage/errors';
import { isFolderMarker } from '../../storage/keys';
import { parseUri } from '../../storage/uri';
import { DuplicateResourceError, ResourceRepo } from '../../store/resource-repo';
import { epochSeconds } from '../../util/clock';
import { JobEngine } from '../engine/job-engine';
import { listPage, markStopping } from '../engine/job-operations';
import type { JobInternal } from '../engine/types';
import { hostingRepos } from '../endpoints/repos';
import { describeFromRequest, summaryOf, type TransformJobDoc, type TransformRequest } from './describe';
import { checkCreateTransformJob } from './request-checks';
import { TransformJobKind, type TransformState } from './transform-kind';

export class TransformJobs {
  readonly repo: ResourceRepo<TransformJobDoc, JobInternal>;
  readonly kind: TransformJobKind;
  readonly engine: JobEngine<TransformJobDoc>;
  private readonly models: ResourceRepo<ModelDoc, unknown>;

  constructor(private readonly ctx: AppContext) {
    this.repo = new ResourceRepo<TransformJobDoc, JobInternal>(ctx.db, 'transform-job');
    this.kind = new TransformJobKind(ctx, this.repo);
    this.engine = new JobEngine(ctx, this.kind);
    this.models = hostingRepos(ctx.db).models;
  }

  private get log() {
    return this.ctx.logger.child({ component: 'transform-job' });
  }

  async create(req: TransformRequest): Promise<{ TransformJobArn: string }> {
    checkCreateTransformJob(req);
    const name = req.TransformJobName!;
    const arn = this.ctx.arns.of('transform-job', name);
    const existing = this.repo.get(name);
    if (existing) throw duplicate(existing.arn);
    const modelRow = this.models.get(req.ModelName!);
    if (!modelRow) throw new ValidationException(`Could not find model "${this.ctx.arns.of('model', req.ModelName!)}".`);
    let model;
    try {
      model = resolveServingModel(modelRow.doc);
    } catch (err) {
      if (err instanceof UnsupportedModelError) throw new ValidationException(err.message);
      throw err;
    }
    const s3 = req.TransformInput!.DataSource!.S3DataSource!;
    await this.requireInput(s3.S3Uri!, s3.S3DataType as 'S3Prefix' | 'ManifestFile');
    const nowS = epochSeconds(this.ctx.clock.now());
    const doc = describeFromRequest(req, arn, nowS);
    const state: TransformState = {
      model,
      requested: { MaxConcurrentTransforms: req.MaxConcurrentTransforms, MaxPayloadInMB: req.MaxPayloadInMB, BatchStrategy: req.BatchStrategy },
    };
    try {
      this.repo.insert({
        name, arn, status: 'InProgress', creationTime: nowS, lastModifiedTime: nowS, doc,
        internal: { phase: 'preparing', attempt: 1, hosts: [], extra: state as unknown as Record<string, unknown> },
      }, req.Tags);
    } catch (err) {
      if (err instanceof DuplicateResourceError) throw duplicate(err.existing.arn);
      throw err;
    }
    this.log.info({ job: name, arn, model: req.ModelName, image: model.image, instances: req.TransformResources?.InstanceCount }, 'transform job created');
    this.engine.launch(name);
    return { TransformJobArn: arn };
  }

  /** SageMaker refuses a job whose input matches nothing at CreateTransformJob already. */
  private async requireInput(uri: string, dataType: 'S3Prefix' | 'ManifestFile'): Promise<void> {
    const missing = (): ValidationException =>
      new ValidationException(
        dataType === 'ManifestFile'
          ? `Could not find the manifest file "${uri}" given in input data source.`
          : `No S3 objects found under S3 URL "${uri}" given in input data source. Please ensure that the bucket exists in the selected region (${this.ctx.config.region}) and that objects exist under that S3 prefix.`,
      );
    try {
      const target = parseUri(uri);
      if (dataType === 'ManifestFile') {
        if (!(await this.ctx.transfer.exists(uri))) throw missing();
        return;
      }
      if (target.scheme === 'file') {
        if ((await this.ctx.transfer.listSource({ uri, dataType, allowEmpty: true })).length === 0) throw missing();
        return;
      }
      for await (const o of this.ctx.objectStore.list(target.bucket, target.key)) if (!isFolderMarker(o.key)) return;
      throw missing();
    } catch (err) {
      if (err instanceof NoSuchBucketError) throw missing();
      if (err instanceof StorageError) throw new ValidationException(`The input data source ${uri} cannot be read: ${err.message}`);
      throw err;
    }
  }

  describe(name: string): Wire<DescribeTransformJobResponse> {
    const row = this.repo.get(this.ctx.arns.nameFrom('transform-job', name));
    if (!row) throw notFound();
    return row.doc;
  }

  list(q: Wire<ListTransformJobsRequest>): Wire<ListTransformJobsResponse> {
    const { items, NextToken } = listPage(this.repo, q, 'Descending', summaryOf);
    return { TransformJobSummaries: items, ...(NextToken ? { NextToken } : {}) };
  }

  /** InProgress -> Stopping (persisted with the stop request); the feeder is cut off and the engine stops the containers. */
  stop(name: string): void {
    const jobName = this.ctx.arns.nameFrom('transform-job', name);
    if (!markStopping(this.repo, jobName, 'TransformJobStatus', 'transform job', epochSeconds(this.ctx.clock.now()))) return;
    this.log.info({ job: jobName }, 'stopping transform job');
    this.kind.abortFeeder(jobName);
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
