/**
 * What can go wrong while serving a model, one class per condition. Endpoints
 * turn these into an endpoint's FailureReason or a runtime error; batch
 * transform into a job's FailureReason.
 */

export class ServingError extends Error {
  override readonly name: string = 'ServingError';
}

/** The model's data could not be fetched or unpacked into the model directory. */
export class ModelDataError extends ServingError {
  override readonly name = 'ModelDataError';
  constructor(readonly uri: string, readonly reason: string) {
    super(`Failed to prepare model data from ${uri}: ${reason}`);
  }
}

/** The container exited before it answered GET /ping with 200. */
export class ContainerExitedError extends ServingError {
  override readonly name = 'ContainerExitedError';
  constructor(readonly containerId: string, readonly exitCode?: number) {
    super(`The serving container ${containerId.slice(0, 12)} exited${exitCode === undefined ? '' : ` with code ${exitCode}`} before it passed the ping health check`);
  }
}

/** GET /ping did not answer 200 before the deadline. */
export class HealthCheckTimeoutError extends ServingError {
  override readonly name = 'HealthCheckTimeoutError';
  constructor(readonly seconds: number, readonly lastResult: string) {
    super(`The container did not answer GET /ping with 200 within ${seconds} s (last result: ${lastResult})`);
  }
}

/** No response headers from the container within the invocation timeout. */
export class InvocationTimeoutError extends ServingError {
  override readonly name = 'InvocationTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`The container did not answer within ${timeoutMs} ms`);
  }
}

/**
 * The connection to the container failed before any byte of a response
 * arrived (refused, reset, closed, unreachable). `retryable` tells whether
 * sending the request to another instance is safe by sagebox's rule (see
 * docs/serving.md): true unless part of a response had arrived.
 */
export class ConnectionFailedError extends ServingError {
  override readonly name = 'ConnectionFailedError';
  constructor(readonly code: string, message: string, readonly retryable: boolean) {
    super(message);
  }
}
