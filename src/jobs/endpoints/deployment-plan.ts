/**
 * Endpoint configuration + models -> the Deployment an endpoint runs. The
 * models are copied in (resolved), so a later DeleteModel or
 * DeleteEndpointConfig does not touch a running endpoint.
 */
import { resolveServingModel } from '../../serving';
import type { Deployment, EndpointConfigDoc, ModelDoc, VariantPlan } from './types';

/** Spec 3.3: /ping must pass within 4 minutes by default. */
export const DEFAULT_STARTUP_TIMEOUT_SECONDS = 240;
export const DEFAULT_DOWNLOAD_TIMEOUT_SECONDS = 3600;

export function planDeployment(config: EndpointConfigDoc, models: (name: string) => ModelDoc | undefined, generation: number, nowSeconds: number): Deployment {
  const variants = (config.ProductionVariants ?? []).map((pv): VariantPlan => {
    const doc = models(pv.ModelName ?? '');
    if (!doc) throw new MissingModelError(pv.ModelName ?? '');
    const plan: VariantPlan = {
      variantName: pv.VariantName!,
      modelName: doc.ModelName!,
      model: resolveServingModel(doc),
      weight: pv.InitialVariantWeight ?? 1,
      desiredCount: pv.ServerlessConfig ? 1 : (pv.InitialInstanceCount ?? 1),
      startupTimeoutSeconds: pv.ContainerStartupHealthCheckTimeoutInSeconds ?? DEFAULT_STARTUP_TIMEOUT_SECONDS,
      downloadTimeoutSeconds: pv.ModelDataDownloadTimeoutInSeconds ?? DEFAULT_DOWNLOAD_TIMEOUT_SECONDS,
    };
    if (pv.InstanceType) plan.instanceType = pv.InstanceType;
    if (pv.ServerlessConfig?.MemorySizeInMB) plan.serverlessMemoryMb = pv.ServerlessConfig.MemorySizeInMB;
    return plan;
  });
  return { generation, configName: config.EndpointConfigName!, variants, startedAt: nowSeconds };
}

/**
 * UpdateEndpoint with RetainAllVariantProperties: variants that exist in both
 * keep their current weight and instance count, unless excluded.
 */
export function retainVariantProperties(next: Deployment, current: Deployment | undefined, exclude: readonly string[]): Deployment {
  if (!current) return next;
  const keepWeight = !exclude.includes('DesiredWeight');
  const keepCount = !exclude.includes('DesiredInstanceCount');
  return {
    ...next,
    variants: next.variants.map((v) => {
      const old = current.variants.find((o) => o.variantName.toLowerCase() === v.variantName.toLowerCase());
      if (!old) return v;
      return { ...v, weight: keepWeight ? old.weight : v.weight, desiredCount: keepCount ? old.desiredCount : v.desiredCount };
    }),
  };
}

export class MissingModelError extends Error {
  constructor(readonly modelName: string) {
    super(`model ${modelName} does not exist`);
  }
}
