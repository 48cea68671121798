/**
 * What the validation runner needs to know about algorithms and model
 * packages: where their status lives in the Describe document, and what
 * their validation profile runs.
 */
import type { AppContext } from '../../app/context';
import type { ModelPackageDoc } from '../model-packages/package-container';
import { packageContainer } from '../model-packages/package-container';
import type { ResourceRepo } from '../../store/resource-repo';
import type { AlgorithmDoc } from './algorithms';
import type { StatusItem, ValidatedInternal } from './status';
import type { ValidationPlan, ValidationSubject } from './validation-runner';

const noProfile = (noun: string, name: string): Error => new Error(`The ${noun} ${name} has no validation profile.`);

export function algorithmSubject(repo: ResourceRepo<AlgorithmDoc, ValidatedInternal>): ValidationSubject<AlgorithmDoc> {
  return {
    noun: 'algorithm',
    repo,
    status: (doc) => doc.AlgorithmStatus,
    setStatus: (doc, s) => void (doc.AlgorithmStatus = s),
    items: (doc) => ((doc.AlgorithmStatusDetails ??= {}).ValidationStatuses ??= []) as StatusItem[],
    plan(row): ValidationPlan {
      const spec = row.doc.ValidationSpecification;
      const p = spec?.ValidationProfiles?.[0];
      if (!spec || !p) throw noProfile('algorithm', row.name);
      const def = p.TrainingJobDefinition!;
      const plan: ValidationPlan = {
        profile: p.ProfileName!,
        role: spec.ValidationRole!,
        baseName: row.name,
        training: {
          RoleArn: spec.ValidationRole,
          AlgorithmSpecification: { AlgorithmName: row.arn, TrainingInputMode: def.TrainingInputMode },
          ...(def.HyperParameters ? { HyperParameters: def.HyperParameters } : {}),
          InputDataConfig: def.InputDataConfig,
          OutputDataConfig: def.OutputDataConfig,
          ResourceConfig: def.ResourceConfig,
          StoppingCondition: def.StoppingCondition,
        },
      };
      const inference = row.doc.InferenceSpecification?.Containers?.[0];
      if (p.TransformJobDefinition && inference) {
        plan.transform = {
          definition: p.TransformJobDefinition,
          container: (modelDataUrl) => {
            const c: Record<string, unknown> = { Image: inference.Image };
            const data = modelDataUrl ?? inference.ModelDataUrl;
            if (data) c.ModelDataUrl = data;
            if (inference.Environment && Object.keys(inference.Environment).length) c.Environment = inference.Environment;
            return c;
          },
        };
      }
      return plan;
    },
  };
}

export function modelPackageSubject(ctx: AppContext, repo: ResourceRepo<ModelPackageDoc, ValidatedInternal>): ValidationSubject<ModelPackageDoc> {
  return {
    noun: 'modelPackage',
    repo,
    status: (doc) => doc.ModelPackageStatus,
    setStatus: (doc, s, now) => {
      doc.ModelPackageStatus = s;
      doc.LastModifiedTime = now;
    },
    items: (doc) => ((doc.ModelPackageStatusDetails ??= { ValidationStatuses: [] }).ValidationStatuses ??= []) as StatusItem[],
    plan(row): ValidationPlan {
      const spec = row.doc.ValidationSpecification;
      const p = spec?.ValidationProfiles?.[0];
      if (!spec || !p) throw noProfile('model package', row.name);
      const container = packageContainer(ctx, row.doc);
      return {
        profile: p.ProfileName!,
        role: spec.ValidationRole!,
        baseName: row.name.replace('/', '-'),
        transform: { definition: p.TransformJobDefinition!, container: () => container },
      };
    },
  };
}
