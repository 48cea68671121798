/**
 * Serving a model in containers: the part real-time endpoints and batch
 * transform share. See docs/serving.md ("The serving module") for how to use it.
 */
export { resolveServingModel, primaryContainer, checkContainerDefinition, modelDataOf, UnsupportedModelError } from './serving-model';
export type { ServingModel, ModelData, ModelDoc } from './serving-model';
export { prepareModelDir, modelDirReady } from './model-dir';
export {
  servingContainerSpec, createServingContainer, locateServingContainer, addressOf,
  waitUntilHealthy, stopServingContainer,
} from './serving-container';
export type { ServingContainerSpec, WaitHealthyOptions } from './serving-container';
export { InstanceClient } from './instance-client';
export type { Address, InvokeRequest, InvokeResponse, InstanceClientOptions } from './instance-client';
export { captureContainerLogs } from './log-capture';
export type { LogCapture, CaptureEnd } from './log-capture';
export { ensureIsolatedNetwork, isolatedNetworkName, isIsolatedNetworkLabels } from './isolation';
export { ServingError, ModelDataError, ContainerExitedError, HealthCheckTimeoutError, InvocationTimeoutError, ConnectionFailedError } from './errors';
