/**
 * CreateEndpoint, DescribeEndpoint, ListEndpoints, UpdateEndpoint,
 * UpdateEndpointWeightsAndCapacities, DeleteEndpoint. Each persists the
 * request (status first) and hands the work to the fleet manager, which runs
 * it in the background; clients poll DescribeEndpoint (or use the waiters).
 */
import type { CreateEndpointInput, UpdateEndpointInput, UpdateEndpointWeightsAndCapacitiesInput } from '@aws-sdk/client-sagemaker';
import { describeEndpoint, endpointSummary } from '../../jobs/endpoints/describe-endpoint';
import { MissingModelError, planDeployment, retainVariantProperties } from '../../jobs/endpoints/deployment-plan';
import { updateRefusal } from '../../jobs/endpoints/endpoint-status';
import type { Deployment, EndpointDoc, EndpointRow } from '../../jobs/endpoints/types';
import { UnsupportedModelError } from '../../serving';
import { DuplicateResourceError } from '../../store/resource-repo';
import { epochSeconds } from '../../util/clock';
import { ValidationException } from '../errors';
import type { JsonHandler } from '../registry';
import type { Wire } from './wire-types';
import { alreadyExists, getOrThrow, listRows, notFound, page, type HostingDeps } from './hosting-shared';

export function endpointHandlers(deps: HostingDeps): Record<string, JsonHandler> {
  const { ctx, repos, fleet } = deps;
  const now = (): number => epochSeconds(ctx.clock.now());

  /** The deployment of a configuration, with the AWS errors for what is missing. */
  function plan(configName: string, generation: number): Deployment {
    const config = getOrThrow(deps, repos.configs, 'endpoint-config', configName);
    try {
      return planDeployment(config.doc, (m) => repos.models.get(m)?.doc, generation, now());
    } catch (err) {
      if (err instanceof MissingModelError) throw notFound(deps, 'model', err.modelName);
      if (err instanceof UnsupportedModelError) throw new ValidationException(err.message);
      throw err;
    }
  }

  function endpointRow(name: string): EndpointRow {
    return getOrThrow(deps, repos.endpoints, 'endpoint', name);
  }

  return {
    CreateEndpoint(raw) {
      const input = raw as Wire<CreateEndpointInput>;
      const name = input.EndpointName!;
      if (repos.endpoints.get(name)) throw alreadyExists(deps, 'endpoint', name);
      const deployment = plan(input.EndpointConfigName!, 1);
      const t = now();
      const arn = ctx.arns.of('endpoint', name);
      const doc: EndpointDoc = {
        EndpointName: name,
        EndpointArn: arn,
        EndpointConfigName: deployment.configName,
        EndpointStatus: 'Creating',
        CreationTime: t,
        LastModifiedTime: t,
      };
      if (input.DeploymentConfig) doc.LastDeploymentConfig = input.DeploymentConfig;
      const row: EndpointRow = {
        name,
        arn,
        status: 'Creating',
        creationTime: t,
        lastModifiedTime: t,
        doc,
        internal: { active: deployment, instances: [], operationStartedAt: t },
      };
      try {
        repos.endpoints.insert(row, input.Tags);
      } catch (err) {
        if (err instanceof DuplicateResourceError) throw alreadyExists(deps, 'endpoint', name);
        throw err;
      }
      ctx.logger.info({ endpoint: name, endpointConfig: deployment.configName }, 'endpoint creating');
      fleet.startCreate(row);
      return { EndpointArn: arn };
    },

    DescribeEndpoint(input) {
      const name = String(input.EndpointName);
      return describeEndpoint(endpointRow(name), fleet.lookup(name));
    },

    ListEndpoints(input) {
      const { items, nextToken } = listRows(repos.endpoints, input);
      return page('Endpoints', items.map(endpointSummary), nextToken);
    },

    UpdateEndpoint(raw) {
      const input = raw as Wire<UpdateEndpointInput>;
      const name = input.EndpointName!;
      const row = endpointRow(name);
      const refusal = updateRefusal(row.doc.EndpointStatus, row.arn);
      if (refusal) throw new ValidationException(refusal);
      const generation = Math.max(row.internal.active?.generation ?? 0, row.internal.pending?.generation ?? 0) + 1;
      let next = plan(input.EndpointConfigName!, generation);
      if (input.RetainAllVariantProperties) {
        const excluded = (input.ExcludeRetainedVariantProperties ?? []).map((p) => p.VariantPropertyType ?? '');
        next = retainVariantProperties(next, row.internal.active, excluded);
      }
      const t = now();
      repos.endpoints.update(name, (r) => {
        r.status = 'Updating';
        r.lastModifiedTime = t;
        r.doc.EndpointStatus = 'Updating';
        r.doc.LastModifiedTime = t;
        delete r.doc.FailureReason;
        if (input.DeploymentConfig) r.doc.LastDeploymentConfig = input.DeploymentConfig;
        else if (!input.RetainDeploymentConfig) delete r.doc.LastDeploymentConfig;
        r.internal.pending = next;
        r.internal.operationStartedAt = t;
      });
      ctx.logger.info({ endpoint: name, endpointConfig: next.configName, generation }, 'endpoint updating');
      fleet.startUpdate(name);
      return { EndpointArn: row.arn };
    },

    UpdateEndpointWeightsAndCapacities(raw) {
      const input = raw as Wire<UpdateEndpointWeightsAndCapacitiesInput>;
      const name = input.EndpointName!;
      const row = endpointRow(name);
      const refusal = updateRefusal(row.doc.EndpointStatus, row.arn);
      if (refusal) throw new ValidationException(refusal);
      const active = row.internal.active;
      const changes = input.DesiredWeightsAndCapacities ?? [];
      const seen = new Set<string>();
      for (const [i, c] of changes.entries()) {
        const field = `DesiredWeightsAndCapacities.${i + 1}`;
        const variant = c.VariantName!;
        if (!active?.variants.some((v) => v.variantName.toLowerCase() === variant.toLowerCase())) {
          throw new ValidationException(`${field}.VariantName: the variant ${variant} is not a production variant of endpoint "${row.arn}".`);
        }
        if (seen.has(variant.toLowerCase())) throw new ValidationException(`${field}.VariantName: the variant ${variant} is listed more than once.`);
        seen.add(variant.toLowerCase());
        if (c.DesiredWeight === undefined && c.DesiredInstanceCount === undefined) {
          throw new ValidationException(`${field}: specify DesiredWeight, DesiredInstanceCount or both for variant ${variant}.`);
        }
        if (c.DesiredInstanceCount !== undefined && c.DesiredInstanceCount < 1) {
          throw new ValidationException(`${field}.DesiredInstanceCount must be at least 1 for an instance-based variant.`);
        }
        if (c.ServerlessUpdateConfig) throw new ValidationException(`${field}.ServerlessUpdateConfig is not supported by sagebox.`);
      }
      const t = now();
      repos.endpoints.update(name, (r) => {
        for (const c of changes) {
          const v = r.internal.active?.variants.find((p) => p.variantName.toLowerCase() === c.VariantName!.toLowerCase());
          if (!v) continue;
          if (c.DesiredWeight !== undefined) v.weight = c.DesiredWeight;
          if (c.DesiredInstanceCount !== undefined) v.desiredCount = c.DesiredInstanceCount;
        }
        r.status = 'Updating';
        r.lastModifiedTime = t;
        r.doc.EndpointStatus = 'Updating';
        r.doc.LastModifiedTime = t;
        delete r.doc.FailureReason;
        r.internal.operationStartedAt = t;
      });
      ctx.logger.info({ endpoint: name, changes }, 'endpoint weights and capacities updating');
      fleet.startScale(name);
      return { EndpointArn: row.arn };
    },

    DeleteEndpoint(input) {
      const name = String(input.EndpointName);
      const row = endpointRow(name);
      if (row.doc.EndpointStatus !== 'Deleting') {
        const t = now();
        repos.endpoints.update(name, (r) => {
          r.status = 'Deleting';
          r.lastModifiedTime = t;
          r.doc.EndpointStatus = 'Deleting';
          r.doc.LastModifiedTime = t;
        });
        ctx.logger.info({ endpoint: name }, 'endpoint deleting');
      }
      fleet.startDelete(name);
      return {};
    },
  };
}
