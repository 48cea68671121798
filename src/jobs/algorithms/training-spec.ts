/**
 * A training request (CreateTrainingJob, or a validation profile's
 * TrainingJobDefinition) checked against an algorithm's TrainingSpecification:
 * the checks the SageMaker Python SDK's AlgorithmEstimator makes before it
 * calls the service (spec 6.2), made by the service instead, plus content and
 * compression types. Pure: request in, violations and the hyperparameters the
 * container gets (defaults filled) out. Each violation names its rule.
 */
import type { TrainingSpecification } from '@aws-sdk/client-sagemaker';
import type { Wire } from '../../api/sagemaker/wire-types';
import type { TrainingRequest } from '../training/describe';
import { channelInputMode } from '../../contract/training-config';
import { hyperParameterProblem } from './hyperparameters';

export type TrainingSpec = Wire<TrainingSpecification>;

/** The members of a training request the specification constrains. */
export type SpecCheckedRequest = Pick<TrainingRequest, 'AlgorithmSpecification' | 'HyperParameters' | 'InputDataConfig' | 'ResourceConfig'>;

export interface SpecCheck {
  violations: string[];
  /** The request's hyperparameters plus the defaults of those it leaves out. */
  hyperParameters: Record<string, string>;
}

const list = (xs: readonly string[] | undefined): string => (xs?.length ? xs.join(', ') : 'none');

export function checkAgainstSpecification(algorithm: string, spec: TrainingSpec, req: SpecCheckedRequest): SpecCheck {
  const violations: string[] = [];
  const add = (rule: string, msg: string): void => void violations.push(`[${rule}] ${msg}`);
  const of = `algorithm '${algorithm}'`;

  // Channels: declared, required ones present, content/compression/input mode supported.
  const declared = new Map((spec.TrainingChannels ?? []).map((c) => [c.Name!, c]));
  const given = new Set<string>();
  (req.InputDataConfig ?? []).forEach((ch, i) => {
    const name = ch.ChannelName ?? '';
    const at = `inputDataConfig.${i + 1}.member`;
    given.add(name);
    const c = declared.get(name);
    if (!c) return add('TrainingChannels', `Channel '${name}' (${at}.channelName) is not a training channel of ${of}; its channels are: ${list([...declared.keys()])}.`);
    if (ch.ContentType !== undefined && !(c.SupportedContentTypes ?? []).includes(ch.ContentType)) {
      add('SupportedContentTypes', `Content type '${ch.ContentType}' of channel '${name}' (${at}.contentType) is not supported by ${of}; supported: ${list(c.SupportedContentTypes)}.`);
    }
    const compression = ch.CompressionType ?? 'None';
    const compressions = c.SupportedCompressionTypes?.length ? c.SupportedCompressionTypes : ['None'];
    if (!compressions.includes(compression as never)) {
      add('SupportedCompressionTypes', `Compression type '${compression}' of channel '${name}' (${at}.compressionType) is not supported by ${of}; supported: ${list(compressions)}.`);
    }
    const mode = channelInputMode(req as TrainingRequest, ch);
    if (!(c.SupportedInputModes ?? []).includes(mode as never)) {
      const where = ch.InputMode ? `${at}.inputMode` : 'algorithmSpecification.trainingInputMode';
      add('SupportedInputModes', `Input mode '${mode}' of channel '${name}' (${where}) is not supported by ${of}; supported: ${list(c.SupportedInputModes)}.`);
    }
  });
  for (const [name, c] of declared) {
    if (c.IsRequired && !given.has(name)) add('TrainingChannels.IsRequired', `Channel '${name}' is required by ${of} but missing from inputDataConfig.`);
  }

  // Instances: supported types, more than one only with distributed training.
  const rc = req.ResourceConfig;
  const groups = rc?.InstanceGroups?.length
    ? rc.InstanceGroups.map((g, i) => ({ type: g.InstanceType, count: g.InstanceCount ?? 0, at: `resourceConfig.instanceGroups.${i + 1}.member` }))
    : [{ type: rc?.InstanceType, count: rc?.InstanceCount ?? 0, at: 'resourceConfig' }];
  const supportedTypes = spec.SupportedTrainingInstanceTypes ?? [];
  for (const g of groups) {
    if (g.type !== undefined && !supportedTypes.includes(g.type)) {
      add('SupportedTrainingInstanceTypes', `Instance type '${g.type}' (${g.at}.instanceType) is not supported by ${of}; supported: ${list(supportedTypes)}.`);
    }
  }
  const instances = groups.reduce((n, g) => n + g.count, 0);
  if (instances > 1 && !spec.SupportsDistributedTraining) {
    add('SupportsDistributedTraining', `${instances} instances requested, but ${of} does not support distributed training: use one instance.`);
  }

  // Hyperparameters: declared, typed and in range, required ones present; defaults filled.
  const specs = new Map((spec.SupportedHyperParameters ?? []).map((h) => [h.Name!, h]));
  const hyperParameters: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.HyperParameters ?? {})) {
    hyperParameters[name] = value;
    const h = specs.get(name);
    if (!h) {
      add('SupportedHyperParameters', `Hyperparameter '${name}' is not a hyperparameter of ${of}; its hyperparameters are: ${list([...specs.keys()])}.`);
      continue;
    }
    const problem = hyperParameterProblem(h, value);
    if (problem) add(`HyperParameter.${h.Type}`, `Hyperparameter '${name}' ${problem}.`);
  }
  for (const [name, h] of specs) {
    if (name in hyperParameters) continue;
    if (h.DefaultValue !== undefined) hyperParameters[name] = h.DefaultValue;
    else if (h.IsRequired) add('HyperParameter.IsRequired', `Hyperparameter '${name}' is required by ${of} but not given.`);
  }
  return { violations, hyperParameters };
}
