/**
 * CreateProcessingJob, DescribeProcessingJob, ListProcessingJobs,
 * StopProcessingJob on the SageMaker wire. Input arrives validated against
 * the model; the rules beyond it and the work are in src/jobs/processing.
 */
import type { ListProcessingJobsRequest } from '@aws-sdk/client-sagemaker';
import type { AppContext, Feature } from '../../app/context';
import type { ProcessingRequest } from '../../contract/processing-config';
import { ProcessingJobs } from '../../jobs/processing/processing-jobs';
import type { Registry } from '../registry';
import type { Wire } from './wire-types';

export function processingJobsFeature(ctx: AppContext): Feature & { jobs: ProcessingJobs } {
  const jobs = new ProcessingJobs(ctx);
  return {
    name: 'processing-jobs',
    jobs,
    register(registry: Registry): void {
      registry.sagemaker({
        CreateProcessingJob: (input) => jobs.create(input as ProcessingRequest),
        DescribeProcessingJob: (input) => jobs.describe(String(input.ProcessingJobName)),
        ListProcessingJobs: (input) => jobs.list(input as Wire<ListProcessingJobsRequest>),
        StopProcessingJob: (input) => {
          jobs.stop(String(input.ProcessingJobName));
          return {};
        },
      });
    },
    start: () => jobs.start(),
    stop: () => jobs.close(),
  };
}
