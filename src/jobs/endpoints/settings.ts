/**
 * Timings of the endpoint fleet. Defaults follow the SageMaker contract;
 * tests shorten them on the feature object (`feature.settings`).
 */
export interface EndpointSettings {
  /** The container must answer /invocations within this (contract: 60 s). */
  invocationTimeoutMs: number;
  /** How often every ready instance is pinged. */
  healthIntervalMs: number;
  /** Consecutive failed pings before an instance is replaced. */
  pingFailureThreshold: number;
  /** Longest wait for requests in flight before a retiring instance is stopped anyway. */
  drainTimeoutMs: number;
  /** Pause before another try when a replacement instance fails to start. */
  replaceBackoffMs: number;
  /** InvokeEndpoint's payload limit (6 MiB). */
  maxPayloadBytes: number;
}

export const DEFAULT_ENDPOINT_SETTINGS: EndpointSettings = {
  invocationTimeoutMs: 60_000,
  healthIntervalMs: 3_000,
  pingFailureThreshold: 3,
  drainTimeoutMs: 65_000,
  replaceBackoffMs: 2_000,
  maxPayloadBytes: 6_291_456,
};
