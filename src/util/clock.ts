/** Injected wherever time matters, so tests can control it. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };
/** Epoch seconds with millisecond precision, the SageMaker wire form. */
export const epochSeconds = (ms: number): number => Math.round(ms) / 1000;
