/**
 * CreateTrainingJob, DescribeTrainingJob, ListTrainingJobs, StopTrainingJob.
 * Input arrives validated against the model; the training domain
 * (src/jobs/training) does the rest.
 */
import type { AppContext, Feature } from '../../app/context';
import type { ListQuery } from '../../store/resource-repo';
import { TrainingJobs } from '../../jobs/training/training-jobs';
import type { TrainingRequest } from '../../jobs/training/describe';
import type { Registry } from '../registry';
import { addConstraintCheck } from '../validation/validator';
import { trainingRangeChecks } from '../../jobs/training/validate';

export function trainingJobsFeature(ctx: AppContext): Feature & { jobs: TrainingJobs } {
  const jobs = new TrainingJobs(ctx);
  return {
    name: 'training-jobs',
    jobs,
    register(registry: Registry) {
      addConstraintCheck('sagemaker', 'CreateTrainingJob', 'training-ranges', trainingRangeChecks);
      registry.sagemaker({
        CreateTrainingJob: (input) => jobs.create(input as TrainingRequest),
        DescribeTrainingJob: (input) => jobs.describe(String(input.TrainingJobName)),
        ListTrainingJobs: (input) => jobs.list(input as ListQuery),
        StopTrainingJob: (input) => {
          jobs.stop(String(input.TrainingJobName));
          return {};
        },
      });
    },
    start: () => jobs.start(),
    stop: () => jobs.close(),
  };
}
