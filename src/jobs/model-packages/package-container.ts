/**
 * A model package as the one container a model runs (spec 6.3): the image of
 * its InferenceSpecification, or of its source algorithm's
 * InferenceSpecification, with the package's model data (the container's
 * ModelDataUrl/ModelDataSource, else the SourceAlgorithm's). CreateModel with
 * Containers[].ModelPackageName fills the container in from here, so
 * endpoints and batch transform serve it like any other model.
 */
import type { ContainerDefinition, CreateModelInput, DescribeModelPackageOutput } from '@aws-sdk/client-sagemaker';
import type { AppContext } from '../../app/context';
import type { Wire } from '../../api/sagemaker/wire-types';
import { ValidationException } from '../../api/errors';
import { ResourceRepo } from '../../store/resource-repo';
import { algorithmRepo, findAlgorithm } from '../algorithms/algorithms';
import type { ProductStatus, ValidatedInternal } from '../algorithms/status';

export type ModelPackageDoc = Wire<DescribeModelPackageOutput> & { ModelPackageStatus?: ProductStatus };

export const MODEL_PACKAGE_KIND = 'model-package';

export function modelPackageRepo(ctx: AppContext): ResourceRepo<ModelPackageDoc, ValidatedInternal> {
  return new ResourceRepo<ModelPackageDoc, ValidatedInternal>(ctx.db, MODEL_PACKAGE_KIND);
}

/** The repository key of a package: `<name>`, or `<group>/<version>` for a versioned one (ARN or not). */
export function packageKey(ctx: AppContext, nameOrArn: string): string {
  return ctx.arns.nameFrom('model-package', nameOrArn);
}

export const modelPackageNotFound = (ctx: AppContext, key: string): ValidationException =>
  new ValidationException(`ModelPackage ${ctx.arns.of('model-package', key)} does not exist.`);

/** The container a package runs as; throws an Error saying why it cannot run. */
export function packageContainer(ctx: AppContext, doc: ModelPackageDoc): Wire<ContainerDefinition> {
  const containers = doc.InferenceSpecification?.Containers ?? [];
  if (containers.length > 1) throw new Error(`Model package ${doc.ModelPackageArn} has ${containers.length} containers: sagebox serves models of one container.`);
  const own = containers[0];
  const source = doc.SourceAlgorithmSpecification?.SourceAlgorithms?.[0];
  let image = own?.Image;
  let environment = own?.Environment;
  let modelDataUrl = own?.ModelDataUrl;
  let modelDataSource = own?.ModelDataSource;
  if (source) {
    const alg = findAlgorithm(ctx, algorithmRepo(ctx), source.AlgorithmName ?? '');
    if (!alg) throw new Error(`The source algorithm ${source.AlgorithmName} of model package ${doc.ModelPackageArn} does not exist.`);
    const algContainer = alg.doc.InferenceSpecification?.Containers?.[0];
    image ??= algContainer?.Image;
    environment = { ...algContainer?.Environment, ...environment };
    if (!modelDataUrl && !modelDataSource) {
      modelDataUrl = source.ModelDataUrl;
      modelDataSource = source.ModelDataSource;
    }
  }
  if (!image) throw new Error(`Model package ${doc.ModelPackageArn} names no inference image (InferenceSpecification, or the source algorithm's InferenceSpecification).`);
  const c: Wire<ContainerDefinition> = { Image: image };
  if (modelDataUrl) c.ModelDataUrl = modelDataUrl;
  else if (modelDataSource) c.ModelDataSource = modelDataSource;
  if (environment && Object.keys(environment).length) c.Environment = environment;
  if (own?.ContainerHostname) c.ContainerHostname = own.ContainerHostname;
  return c;
}

/**
 * CreateModel's containers with every ModelPackageName resolved: the
 * package's image and model data filled in, the request's Environment over
 * the package's. The package must exist and be Completed.
 *
 * Its ModelApprovalStatus is not checked, on purpose. The AWS model's
 * CreateModelPackage text says a version "must be set to Approved to
 * deploy", but SageMaker's CreateModel deploys an account's own unapproved
 * version (approval is what MLOps pipelines gate on), and sagebox has one
 * account. So UpdateModelPackage never changes what CreateModel accepts.
 */
export function expandModelPackages<T extends Wire<CreateModelInput>>(ctx: AppContext, input: T): T {
  const expand = (c: Wire<ContainerDefinition>, field: string): Wire<ContainerDefinition> => {
    if (!c.ModelPackageName) return c;
    const key = packageKey(ctx, c.ModelPackageName);
    const row = modelPackageRepo(ctx).get(key);
    if (!row) throw modelPackageNotFound(ctx, key);
    if (row.doc.ModelPackageStatus !== 'Completed') {
      throw new ValidationException(`${field}.ModelPackageName: model package ${row.arn} is in status ${row.doc.ModelPackageStatus}; only a Completed package can be used.`);
    }
    let resolved: Wire<ContainerDefinition>;
    try {
      resolved = packageContainer(ctx, row.doc);
    } catch (err) {
      throw new ValidationException(`${field}.ModelPackageName: ${(err as Error).message}`);
    }
    const out: Wire<ContainerDefinition> = { ...resolved, ...c, Image: c.Image ?? resolved.Image };
    const env = { ...resolved.Environment, ...c.Environment };
    if (Object.keys(env).length) out.Environment = env;
    if (!c.ModelDataUrl && !c.ModelDataSource) {
      if (resolved.ModelDataUrl) out.ModelDataUrl = resolved.ModelDataUrl;
      if (resolved.ModelDataSource) out.ModelDataSource = resolved.ModelDataSource;
    }
    return out;
  };
  const copy = { ...input };
  if (copy.PrimaryContainer) copy.PrimaryContainer = expand(copy.PrimaryContainer, 'PrimaryContainer');
  if (copy.Containers) copy.Containers = copy.Containers.map((c, i) => expand(c, `Containers.${i + 1}`));
  return copy;
}
