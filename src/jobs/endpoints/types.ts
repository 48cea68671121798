/**
 * What sagebox stores about models, endpoint configurations and endpoints.
 * `doc` is the Describe document (wire form); an endpoint's `internal` is the
 * fleet: the deployments it runs and every instance (container) it started,
 * written before the container is created so a restart can find it again.
 */
import type { DescribeEndpointConfigOutput, DescribeEndpointOutput, DeploymentConfig } from '@aws-sdk/client-sagemaker';
import type { Wire } from '../../api/sagemaker/wire-types';
import type { ResourceRow } from '../../store/resource-repo';
import type { ModelDoc, ServingModel } from '../../serving';
import type { EndpointStatus } from './endpoint-status';

export type { ModelDoc };
export type EndpointConfigDoc = Wire<DescribeEndpointConfigOutput>;

/** The stored part of DescribeEndpoint; ProductionVariants and the pending summary are computed. */
export type EndpointDoc = Pick<Wire<DescribeEndpointOutput>, 'EndpointName' | 'EndpointArn' | 'EndpointConfigName' | 'FailureReason' | 'CreationTime' | 'LastModifiedTime'> & {
  EndpointStatus: EndpointStatus;
  LastDeploymentConfig?: Wire<DeploymentConfig>;
};

/** Models and endpoint configurations keep nothing beyond their document (tags: src/store/resource-tags.ts). */
export type NoInternal = Record<string, never>;

/** One production variant as deployed: a snapshot, so deleting the model or the config changes nothing. */
export interface VariantPlan {
  variantName: string;
  modelName: string;
  model: ServingModel;
  instanceType?: string;
  /** Serverless variants run as one container with this much memory. */
  serverlessMemoryMb?: number;
  /** Routing weight (UpdateEndpointWeightsAndCapacities changes it live). */
  weight: number;
  /** Containers the variant should run. */
  desiredCount: number;
  startupTimeoutSeconds: number;
  downloadTimeoutSeconds: number;
  resolvedImage?: string;
  /** Epoch seconds. */
  resolutionTime?: number;
}

/** One fleet: the variants of one endpoint configuration, started together. */
export interface Deployment {
  /** 1 for CreateEndpoint, +1 for every UpdateEndpoint; names containers and model directories. */
  generation: number;
  configName: string;
  variants: VariantPlan[];
  /** Epoch seconds. */
  startedAt: number;
}

/** One instance (one container) of a variant. */
export interface InstanceRecord {
  /** SageMaker-style instance id (i-...): the log stream is `<variant>/<id>`. */
  id: string;
  variant: string;
  generation: number;
  containerName: string;
  /** Written right after the create call, before the container starts. */
  containerId?: string;
  /** Epoch ms. */
  createdAt: number;
}

export interface EndpointInternal {
  /** The fleet that serves (or, while Creating, is being brought up). */
  active?: Deployment;
  /** UpdateEndpoint's new fleet while it is being brought up. */
  pending?: Deployment;
  instances: InstanceRecord[];
  /** Epoch seconds when the current operation (create, update, scaling) started. */
  operationStartedAt?: number;
}

export type ModelRow = ResourceRow<ModelDoc, NoInternal>;
export type EndpointConfigRow = ResourceRow<EndpointConfigDoc, NoInternal>;
export type EndpointRow = ResourceRow<EndpointDoc, EndpointInternal>;
