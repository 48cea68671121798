/**
 * Errors the container runtime raises on purpose. Their messages are written
 * for people: the job layer may put them after `ClientError: ` in a
 * FailureReason.
 */

/** The image is neither in the local engine nor pullable. */
export class ImageNotFoundError extends Error {
  override readonly name = 'ImageNotFoundError';
  constructor(
    readonly image: string,
    /** Why the pull failed, as the engine said it. */
    readonly reason: string,
  ) {
    super(`Requested image ${image} not found: it is not in the local Docker engine and pulling it failed (${reason})`);
  }
}

/** The container engine does not answer. */
export class EngineUnavailableError extends Error {
  override readonly name = 'EngineUnavailableError';
  constructor(
    readonly endpoint: string,
    readonly reason: string,
  ) {
    super(`Docker engine is not reachable at ${endpoint}: ${reason}`);
  }
}

/** The container does not exist (any more): removed, or never created. */
export class ContainerNotFoundError extends Error {
  override readonly name = 'ContainerNotFoundError';
  constructor(readonly containerId: string) {
    super(`No such container: ${containerId}`);
  }
}
