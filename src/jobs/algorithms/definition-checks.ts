/**
 * CreateAlgorithm checks the AWS model cannot express: unique hyperparameter,
 * channel and metric names, hyperparameter ranges and defaults that make
 * sense, metric regexes that compile, images sagebox can run, and a
 * validation profile that itself satisfies the training specification (so a
 * profile that could never run is refused at once rather than failing later).
 */
import type { CreateAlgorithmInput, InferenceSpecification } from '@aws-sdk/client-sagemaker';
import type { Wire } from '../../api/sagemaker/wire-types';
import { translatePythonRegex } from '../training/metrics';
import { specificationProblems } from './hyperparameters';
import { checkAgainstSpecification } from './training-spec';

export type AlgorithmRequest = Wire<CreateAlgorithmInput>;

function duplicates(names: (string | undefined)[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const n of names) {
    if (n === undefined) continue;
    if (seen.has(n)) dup.add(n);
    seen.add(n);
  }
  return [...dup];
}

/** Every container of an inference specification must name an image sagebox can run. */
export function inferenceProblems(spec: Wire<InferenceSpecification> | undefined, at: string): string[] {
  if (!spec) return [];
  const out: string[] = [];
  (spec.Containers ?? []).forEach((c, i) => {
    if (!c.Image) out.push(`'${at}.containers.${i + 1}.member.image' is required: sagebox runs the image named there.`);
  });
  return out;
}

export function algorithmDefinitionProblems(req: AlgorithmRequest): string[] {
  const out: string[] = [];
  const ts = req.TrainingSpecification!;
  for (const d of duplicates((ts.SupportedHyperParameters ?? []).map((h) => h.Name))) out.push(`Duplicate hyperparameter name '${d}' in 'trainingSpecification.supportedHyperParameters'.`);
  (ts.SupportedHyperParameters ?? []).forEach((h, i) => {
    for (const p of specificationProblems(h)) out.push(`Hyperparameter '${h.Name}' ('trainingSpecification.supportedHyperParameters.${i + 1}.member'): ${p}.`);
  });
  for (const d of duplicates((ts.TrainingChannels ?? []).map((c) => c.Name))) out.push(`Duplicate channel name '${d}' in 'trainingSpecification.trainingChannels'.`);
  for (const d of duplicates((ts.MetricDefinitions ?? []).map((m) => m.Name))) out.push(`Duplicate metric name '${d}' in 'trainingSpecification.metricDefinitions'.`);
  (ts.MetricDefinitions ?? []).forEach((m, i) => {
    try {
      new RegExp(translatePythonRegex(m.Regex ?? ''));
    } catch (err) {
      out.push(`'trainingSpecification.metricDefinitions.${i + 1}.member.regex' of metric '${m.Name}' is not a valid regular expression: ${(err as Error).message}`);
    }
  });
  out.push(...inferenceProblems(req.InferenceSpecification, 'inferenceSpecification'));

  (req.ValidationSpecification?.ValidationProfiles ?? []).forEach((p, i) => {
    const at = `validationSpecification.validationProfiles.${i + 1}.member`;
    const def = p.TrainingJobDefinition;
    if (def) {
      const check = checkAgainstSpecification(req.AlgorithmName!, ts, {
        AlgorithmSpecification: { TrainingInputMode: def.TrainingInputMode },
        HyperParameters: def.HyperParameters,
        InputDataConfig: def.InputDataConfig,
        ResourceConfig: def.ResourceConfig,
      });
      for (const v of check.violations) out.push(`Validation profile '${p.ProfileName}' ('${at}.trainingJobDefinition'): ${v}`);
    }
    if (p.TransformJobDefinition && !req.InferenceSpecification) {
      out.push(`Validation profile '${p.ProfileName}' has a TransformJobDefinition ('${at}.transformJobDefinition'), which needs an InferenceSpecification to run.`);
    }
  });
  return out;
}
