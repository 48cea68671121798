/**
 * CreateEndpointConfig, DescribeEndpointConfig, ListEndpointConfigs,
 * DeleteEndpointConfig. Every variant's model must exist when the
 * configuration is created; deleting a configuration leaves endpoints running.
 */
import type { CreateEndpointConfigInput, ProductionVariant } from '@aws-sdk/client-sagemaker';
import type { EndpointConfigDoc } from '../../jobs/endpoints/types';
import { DuplicateResourceError } from '../../store/resource-repo';
import { epochSeconds } from '../../util/clock';
import { ValidationException } from '../errors';
import type { JsonHandler } from '../registry';
import type { Wire } from './wire-types';
import { alreadyExists, getOrThrow, listRows, notFound, page, type HostingDeps } from './hosting-shared';

export function endpointConfigHandlers(deps: HostingDeps): Record<string, JsonHandler> {
  const { ctx, repos } = deps;
  return {
    CreateEndpointConfig(raw) {
      const input = raw as Wire<CreateEndpointConfigInput>;
      const name = input.EndpointConfigName!;
      if (repos.configs.get(name)) throw alreadyExists(deps, 'endpoint-config', name);
      if (input.AsyncInferenceConfig) throw new ValidationException('AsyncInferenceConfig: asynchronous inference is not supported by sagebox.');
      if (input.ShadowProductionVariants?.length) throw new ValidationException('ShadowProductionVariants: shadow variants are not supported by sagebox.');
      const variants = (input.ProductionVariants ?? []).map((pv, i) => checkVariant(deps, pv, `ProductionVariants.${i + 1}`));
      const seen = new Set<string>();
      for (const v of variants) {
        const key = v.VariantName!.toLowerCase();
        if (seen.has(key)) throw new ValidationException(`ProductionVariants: the variant name ${v.VariantName} is used more than once; variant names must be unique.`);
        seen.add(key);
      }
      const now = epochSeconds(ctx.clock.now());
      const arn = ctx.arns.of('endpoint-config', name);
      const doc: EndpointConfigDoc = { EndpointConfigName: name, EndpointConfigArn: arn, ProductionVariants: variants, CreationTime: now };
      for (const k of ['DataCaptureConfig', 'KmsKeyId', 'ExplainerConfig', 'ExecutionRoleArn', 'VpcConfig', 'EnableNetworkIsolation', 'MetricsConfig'] as const) {
        if (input[k] !== undefined) (doc as Record<string, unknown>)[k] = input[k];
      }
      try {
        repos.configs.insert({ name, arn, creationTime: now, lastModifiedTime: now, doc, internal: {} }, input.Tags);
      } catch (err) {
        if (err instanceof DuplicateResourceError) throw alreadyExists(deps, 'endpoint-config', name);
        throw err;
      }
      ctx.logger.info({ endpointConfig: name, variants: variants.map((v) => v.VariantName) }, 'endpoint configuration created');
      return { EndpointConfigArn: arn };
    },

    DescribeEndpointConfig(input) {
      return getOrThrow(deps, repos.configs, 'endpoint-config', String(input.EndpointConfigName)).doc;
    },

    ListEndpointConfigs(input) {
      const { items, nextToken } = listRows(repos.configs, input);
      return page(
        'EndpointConfigs',
        items.map((r) => ({ EndpointConfigName: r.doc.EndpointConfigName, EndpointConfigArn: r.doc.EndpointConfigArn, CreationTime: r.doc.CreationTime })),
        nextToken,
      );
    },

    DeleteEndpointConfig(input) {
      const name = String(input.EndpointConfigName);
      getOrThrow(deps, repos.configs, 'endpoint-config', name);
      repos.configs.delete(name);
      ctx.logger.info({ endpointConfig: name }, 'endpoint configuration deleted');
      return {};
    },
  };
}

/** One production variant: the checks the model's shape cannot express, and the defaults Describe shows. */
function checkVariant(deps: HostingDeps, pv: Wire<ProductionVariant>, field: string): Wire<ProductionVariant> {
  if (!pv.ModelName) throw new ValidationException(`${field}.ModelName is required: sagebox deploys a model per variant (inference components are not supported).`);
  if (!deps.repos.models.get(pv.ModelName)) throw notFound(deps, 'model', pv.ModelName);
  if (pv.ServerlessConfig) {
    if (pv.InstanceType || pv.InitialInstanceCount !== undefined) {
      throw new ValidationException(`${field}: a serverless variant (ServerlessConfig) must not specify InstanceType or InitialInstanceCount.`);
    }
  } else {
    if (!pv.InstanceType) throw new ValidationException(`${field}.InstanceType is required unless ServerlessConfig is given.`);
    if (pv.InitialInstanceCount === undefined) throw new ValidationException(`${field}.InitialInstanceCount is required unless ServerlessConfig is given.`);
  }
  return { ...pv, InitialVariantWeight: pv.InitialVariantWeight ?? 1 };
}
