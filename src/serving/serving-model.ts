/**
 * A CreateModel record reduced to what running it needs: the image, its
 * environment, where the model data comes from and whether the container may
 * reach the network. Pure: endpoints and batch transform both start from here.
 */
import type { ContainerDefinition, DescribeModelOutput } from '@aws-sdk/client-sagemaker';
import type { Wire } from '../api/sagemaker/wire-types';
import { parseUri } from '../storage/uri';

export type ModelDoc = Wire<DescribeModelOutput>;

/**
 * Where /opt/ml/model comes from:
 * - archive: a .tar.gz object extracted into the directory (ModelDataUrl, or
 *   ModelDataSource S3Object + Gzip);
 * - prefix: every object under an S3 prefix copied as is (S3Prefix + None);
 * - object: one object copied as is (S3Object + None).
 */
export type ModelData =
  | { kind: 'archive'; uri: string }
  | { kind: 'prefix'; uri: string }
  | { kind: 'object'; uri: string };

export interface ServingModel {
  modelName: string;
  image: string;
  /** The model's Environment (the container's own; platform variables are added by the caller). */
  environment: Record<string, string>;
  modelData?: ModelData;
  networkIsolation: boolean;
  containerHostname?: string;
}

/** A model sagebox cannot serve, with a message for the user. */
export class UnsupportedModelError extends Error {
  override readonly name = 'UnsupportedModelError';
}

/** The one container definition of a model (PrimaryContainer, or a single-entry Containers). */
export function primaryContainer(doc: Pick<ModelDoc, 'PrimaryContainer' | 'Containers'>): Wire<ContainerDefinition> | undefined {
  return doc.PrimaryContainer ?? (doc.Containers?.length === 1 ? doc.Containers[0] : undefined);
}

/**
 * Checks a container definition sagebox can run and says what is wrong
 * otherwise (CreateModel answers with it). Does not look at the store.
 */
export function checkContainerDefinition(c: Wire<ContainerDefinition>, field: string): void {
  if (!c.Image) {
    throw new UnsupportedModelError(`${field}.Image is required: sagebox runs the image named there (or the image of the model package named by ModelPackageName).`);
  }
  if (c.Mode === 'MultiModel') throw new UnsupportedModelError(`${field}.Mode MultiModel is not supported by sagebox; use SingleModel.`);
  if (c.ModelDataUrl && c.ModelDataSource) throw new UnsupportedModelError(`${field}: specify either ModelDataUrl or ModelDataSource, not both.`);
  if (c.AdditionalModelDataSources?.length) throw new UnsupportedModelError(`${field}.AdditionalModelDataSources is not supported by sagebox.`);
  const data = modelDataOf(c);
  if (data) {
    const parsed = parseUri(data.uri);
    if (parsed.scheme !== 's3') throw new UnsupportedModelError(`${field}: model data must be in the object store (s3://), not ${data.uri}.`);
    if (data.kind === 'prefix' && !data.uri.endsWith('/')) {
      throw new UnsupportedModelError(`${field}.ModelDataSource.S3DataSource.S3Uri must end with '/' when S3DataType is S3Prefix.`);
    }
  }
}

/** Where the model data of a container definition comes from; throws UnsupportedModelError for combinations SageMaker refuses. */
export function modelDataOf(c: Wire<ContainerDefinition>): ModelData | undefined {
  if (c.ModelDataUrl) return { kind: 'archive', uri: c.ModelDataUrl };
  const s3 = c.ModelDataSource?.S3DataSource;
  if (!s3) return undefined;
  const uri = s3.S3Uri ?? '';
  if (s3.S3DataType === 'S3Prefix') {
    if (s3.CompressionType === 'Gzip') throw new UnsupportedModelError('ModelDataSource: CompressionType Gzip is only valid with S3DataType S3Object.');
    return { kind: 'prefix', uri };
  }
  return s3.CompressionType === 'Gzip' ? { kind: 'archive', uri } : { kind: 'object', uri };
}

/** The serving view of a stored model. Throws UnsupportedModelError when it has no single runnable container. */
export function resolveServingModel(doc: ModelDoc): ServingModel {
  const c = primaryContainer(doc);
  if (!c) throw new UnsupportedModelError(`Model ${doc.ModelName} has no single container definition sagebox can run.`);
  checkContainerDefinition(c, 'PrimaryContainer');
  const model: ServingModel = {
    modelName: doc.ModelName!,
    image: c.Image!,
    environment: { ...(c.Environment ?? {}) },
    networkIsolation: doc.EnableNetworkIsolation === true,
  };
  const data = modelDataOf(c);
  if (data) model.modelData = data;
  if (c.ContainerHostname) model.containerHostname = c.ContainerHostname;
  return model;
}
