/**
 * CreateModel, DescribeModel, ListModels, DeleteModel. A model is a record;
 * endpoints copy what they need when they deploy it, so DeleteModel never
 * touches a running endpoint.
 */
import type { CreateModelInput } from '@aws-sdk/client-sagemaker';
import { checkContainerDefinition, modelDataOf, UnsupportedModelError, type ModelData, type ModelDoc } from '../../serving';
import { DuplicateResourceError } from '../../store/resource-repo';
import { InvalidUriError, StorageError } from '../../storage/errors';
import { epochSeconds } from '../../util/clock';
import { expandModelPackages } from '../../jobs/model-packages/package-container';
import { ValidationException } from '../errors';
import type { JsonHandler } from '../registry';
import type { Wire } from './wire-types';
import { alreadyExists, getOrThrow, listRows, page, type HostingDeps } from './hosting-shared';

/** SageMaker caps the Environment of all containers of a model at 32 KB. */
const MAX_ENVIRONMENT_BYTES = 32 * 1024;

export function modelHandlers(deps: HostingDeps): Record<string, JsonHandler> {
  const { ctx, repos } = deps;
  return {
    async CreateModel(raw) {
      const input = expandModelPackages(ctx, raw as Wire<CreateModelInput>);
      const name = input.ModelName!;
      if (repos.models.get(name)) throw alreadyExists(deps, 'model', name);
      const containers = input.PrimaryContainer ? [input.PrimaryContainer] : (input.Containers ?? []);
      if (input.PrimaryContainer && input.Containers?.length) throw new ValidationException('Specify either PrimaryContainer or Containers, not both.');
      if (containers.length === 0) throw new ValidationException('PrimaryContainer or Containers must be specified.');
      if (containers.length > 1) {
        throw new ValidationException('Containers: sagebox serves models of one container; inference pipelines (more than one container) are not supported.');
      }
      const field = input.PrimaryContainer ? 'PrimaryContainer' : 'Containers.1';
      const envBytes = containers.reduce((n, c) => n + Object.entries(c.Environment ?? {}).reduce((m, [k, v]) => m + Buffer.byteLength(k) + Buffer.byteLength(v), 0), 0);
      if (envBytes > MAX_ENVIRONMENT_BYTES) throw new ValidationException(`${field}.Environment: the environment of a model may not exceed 32 KB (${envBytes} bytes given).`);
      let data: ModelData | undefined;
      try {
        checkContainerDefinition(containers[0]!, field);
        data = modelDataOf(containers[0]!);
      } catch (err) {
        if (err instanceof UnsupportedModelError || err instanceof InvalidUriError) throw new ValidationException(err.message);
        throw err;
      }
      if (data) await requireModelData(deps, data);
      const now = epochSeconds(ctx.clock.now());
      const arn = ctx.arns.of('model', name);
      const doc: ModelDoc = { ModelName: name, ModelArn: arn, CreationTime: now, EnableNetworkIsolation: input.EnableNetworkIsolation ?? false };
      if (input.PrimaryContainer) doc.PrimaryContainer = input.PrimaryContainer;
      if (input.Containers) doc.Containers = input.Containers;
      if (input.ExecutionRoleArn) doc.ExecutionRoleArn = input.ExecutionRoleArn;
      if (input.VpcConfig) doc.VpcConfig = input.VpcConfig;
      if (input.InferenceExecutionConfig) doc.InferenceExecutionConfig = input.InferenceExecutionConfig;
      try {
        repos.models.insert({ name, arn, creationTime: now, lastModifiedTime: now, doc, internal: {} }, input.Tags);
      } catch (err) {
        if (err instanceof DuplicateResourceError) throw alreadyExists(deps, 'model', name);
        throw err;
      }
      ctx.logger.info({ model: name, image: containers[0]!.Image }, 'model created');
      return { ModelArn: arn };
    },

    DescribeModel(input) {
      return getOrThrow(deps, repos.models, 'model', String(input.ModelName)).doc;
    },

    ListModels(input) {
      const { items, nextToken } = listRows(repos.models, input);
      return page('Models', items.map((r) => ({ ModelName: r.doc.ModelName, ModelArn: r.doc.ModelArn, CreationTime: r.doc.CreationTime })), nextToken);
    },

    DeleteModel(input) {
      const name = String(input.ModelName);
      getOrThrow(deps, repos.models, 'model', name);
      repos.models.delete(name);
      ctx.logger.info({ model: name }, 'model deleted');
      return {};
    },
  };
}

/** CreateModel refuses model data that is not in the store. */
async function requireModelData(deps: HostingDeps, data: ModelData): Promise<void> {
  let found: boolean;
  try {
    if (data.kind === 'prefix') {
      found = (await deps.ctx.transfer.listSource({ uri: data.uri, dataType: 'S3Prefix', allowEmpty: true })).length > 0;
    } else {
      found = await deps.ctx.transfer.exists(data.uri);
    }
  } catch (err) {
    if (err instanceof StorageError) throw new ValidationException(`Could not find model data at ${data.uri}: ${err.message}`);
    throw err;
  }
  if (!found) throw new ValidationException(`Could not find model data at ${data.uri}.`);
}
