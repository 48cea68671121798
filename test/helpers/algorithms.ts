/**
 * What the algorithm and model package suites share: a CreateAlgorithm
 * request with a full TrainingSpecification, and polls until an algorithm or
 * a model package reaches a status.
 */
import {
  DescribeAlgorithmCommand, DescribeModelPackageCommand,
  type CreateAlgorithmCommandInput, type DescribeAlgorithmCommandOutput, type DescribeModelPackageCommandOutput, type TrainingSpecification,
} from '@aws-sdk/client-sagemaker';
import type { TestServer } from './server';
import type { AlgorithmsFeature } from '../../src/jobs/algorithms/feature';

export const TRAINING_IMAGE = 'sagebox-examples/seed001-training:latest';
export const INFERENCE_IMAGE = 'sagebox-examples/seed001-inference:latest';

/** The seed-001 training image's contract as a TrainingSpecification (examples/README.md). */
export function seed001Spec(overrides: Partial<TrainingSpecification> = {}): TrainingSpecification {
  return {
    TrainingImage: TRAINING_IMAGE,
    SupportedHyperParameters: [
      { Name: 'epochs', Type: 'Integer', Range: { IntegerParameterRangeSpecification: { MinValue: '1', MaxValue: '100' } }, DefaultValue: '10', IsTunable: true },
      { Name: 'alpha', Type: 'Continuous', Range: { ContinuousParameterRangeSpecification: { MinValue: '0', MaxValue: '1' } }, DefaultValue: '0.001' },
      { Name: 'learning_rate', Type: 'Categorical', Range: { CategoricalParameterRangeSpecification: { Values: ['optimal', 'constant', 'invscaling', 'adaptive'] } }, DefaultValue: 'optimal' },
      { Name: 'seed', Type: 'Integer', IsRequired: true },
      { Name: 'fail', Type: 'FreeText' },
    ],
    SupportedTrainingInstanceTypes: ['ml.m5.large', 'ml.m5.xlarge'],
    SupportsDistributedTraining: false,
    MetricDefinitions: [
      { Name: 'train:accuracy', Regex: 'train-accuracy=(.*?);' },
      { Name: 'validation:accuracy', Regex: 'validation-accuracy=(.*?);' },
    ],
    TrainingChannels: [
      { Name: 'train', IsRequired: true, SupportedContentTypes: ['text/csv'], SupportedCompressionTypes: ['None'], SupportedInputModes: ['File'] },
      { Name: 'validation', IsRequired: false, SupportedContentTypes: ['text/csv'], SupportedInputModes: ['File'] },
    ],
    ...overrides,
  };
}

export function algorithmRequest(name: string, extra: Partial<CreateAlgorithmCommandInput> = {}): CreateAlgorithmCommandInput {
  return {
    AlgorithmName: name,
    AlgorithmDescription: 'seed 001 logistic regression',
    TrainingSpecification: seed001Spec(),
    InferenceSpecification: {
      Containers: [{ Image: INFERENCE_IMAGE }],
      SupportedContentTypes: ['text/csv'],
      SupportedResponseMIMETypes: ['text/csv', 'application/json'],
      SupportedTransformInstanceTypes: ['ml.m5.large'],
      SupportedRealtimeInferenceInstanceTypes: ['ml.m5.large'],
    },
    ...extra,
  };
}

export function algorithmsFeature(s: TestServer): AlgorithmsFeature {
  const f = s.app.features.find((x) => x.name === 'algorithms');
  if (!f) throw new Error('the algorithms feature is not registered');
  return f as AlgorithmsFeature;
}

import { sleep } from './wait';

export async function waitAlgorithm(s: TestServer, name: string, statuses: string[], timeoutMs = 180_000): Promise<DescribeAlgorithmCommandOutput> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const d = await s.sagemaker.send(new DescribeAlgorithmCommand({ AlgorithmName: name }));
    if (statuses.includes(d.AlgorithmStatus ?? '')) return d;
    if (Date.now() > until) throw new Error(`algorithm ${name} still ${d.AlgorithmStatus} after ${timeoutMs} ms: ${JSON.stringify(d.AlgorithmStatusDetails)}`);
    await sleep(250);
  }
}

export async function waitModelPackage(s: TestServer, name: string, statuses: string[], timeoutMs = 180_000): Promise<DescribeModelPackageCommandOutput> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const d = await s.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: name }));
    if (statuses.includes(d.ModelPackageStatus ?? '')) return d;
    if (Date.now() > until) throw new Error(`model package ${name} still ${d.ModelPackageStatus} after ${timeoutMs} ms: ${JSON.stringify(d.ModelPackageStatusDetails)}`);
    await sleep(250);
  }
}
