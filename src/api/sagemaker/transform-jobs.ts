/**
 * CreateTransformJob, DescribeTransformJob, ListTransformJobs,
 * StopTransformJob on the SageMaker wire. Input arrives validated against
 * the model; the rules beyond it and the work are in src/jobs/transform.
 */
import type { ListTransformJobsRequest } from '@aws-sdk/client-sagemaker';
import type { AppContext, Feature } from '../../app/context';
import type { TransformRequest } from '../../jobs/transform/describe';
import { TransformJobs } from '../../jobs/transform/transform-jobs';
import type { Registry } from '../registry';
import type { Wire } from './wire-types';

export function transformJobsFeature(ctx: AppContext): Feature & { jobs: TransformJobs } {
  const jobs = new TransformJobs(ctx);
  return {
    name: 'transform-jobs',
    jobs,
    register(registry: Registry): void {
      registry.sagemaker({
        CreateTransformJob: (input) => jobs.create(input as TransformRequest),
        DescribeTransformJob: (input) => jobs.describe(String(input.TransformJobName)),
        ListTransformJobs: (input) => jobs.list(input as Wire<ListTransformJobsRequest>),
        StopTransformJob: (input) => {
          jobs.stop(String(input.TransformJobName));
          return {};
        },
      });
    },
    start: () => jobs.start(),
    stop: () => jobs.close(),
  };
}
