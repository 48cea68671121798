/**
 * CreateTrainingJob with AlgorithmSpecification.AlgorithmName (spec 6.2): the
 * algorithm (name or ARN) must exist and be Completed (its own validation job
 * excepted), the request must satisfy its TrainingSpecification, and the job
 * then runs the algorithm's TrainingImage with its MetricDefinitions and the
 * hyperparameters with defaults filled in.
 */
import type { MetricDefinition } from '@aws-sdk/client-sagemaker';
import type { AppContext } from '../../app/context';
import type { Wire } from '../../api/sagemaker/wire-types';
import { ValidationException } from '../../api/errors';
import type { TrainingRequest } from '../training/describe';
import { algorithmNotFound, algorithmRepo, findAlgorithm } from './algorithms';
import { checkAgainstSpecification } from './training-spec';

export interface TrainingAlgorithm {
  arn: string;
  image: string;
  /** The algorithm's definitions, then the request's own for other names. */
  metricDefinitions: Wire<MetricDefinition>[];
  /** What hyperparameters.json holds: the request's values plus the defaults. */
  hyperParameters: Record<string, string>;
}

export function algorithmForTraining(ctx: AppContext, req: TrainingRequest): TrainingAlgorithm {
  const nameOrArn = req.AlgorithmSpecification!.AlgorithmName!;
  const row = findAlgorithm(ctx, algorithmRepo(ctx), nameOrArn);
  if (!row) throw algorithmNotFound(ctx, ctx.arns.nameFrom('algorithm', nameOrArn));
  const ownValidationJob = row.internal.validation?.trainingJob?.toLowerCase() === req.TrainingJobName?.toLowerCase();
  if (row.doc.AlgorithmStatus !== 'Completed' && !ownValidationJob) {
    throw new ValidationException(`Algorithm ${row.arn} is in status ${row.doc.AlgorithmStatus}: only a Completed algorithm can train ('algorithmSpecification.algorithmName').`);
  }
  const spec = row.doc.TrainingSpecification!;
  const check = checkAgainstSpecification(row.name, spec, req);
  if (check.violations.length) {
    const n = check.violations.length;
    throw new ValidationException(`${n} violation${n > 1 ? 's' : ''} of the TrainingSpecification of algorithm ${row.arn}: ${check.violations.join(' ')}`);
  }
  const metrics = [...(spec.MetricDefinitions ?? [])];
  for (const m of req.AlgorithmSpecification?.MetricDefinitions ?? []) if (!metrics.some((d) => d.Name === m.Name)) metrics.push(m);
  return { arn: row.arn, image: spec.TrainingImage!, metricDefinitions: metrics, hyperParameters: check.hyperParameters };
}
