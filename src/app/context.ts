/**
 * What every feature (training jobs, endpoints, logs API, ...) is built with.
 * Created once by App; tests build one around a temporary data directory.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/config';
import type { LogStore } from '../logs/log-store';
import type { ContainerRuntime } from '../runtime/container-runtime';
import type { Db } from '../store/db';
import type { Arns } from '../util/arn';
import type { Clock } from '../util/clock';
import type { Registry } from '../api/registry';
import type { ObjectStore } from '../storage/object-store';
import type { DataTransfer } from '../storage/transfer';
import type { Metrics } from '../metrics/metrics';

export interface AppContext {
  config: Config;
  db: Db;
  logger: Logger;
  clock: Clock;
  arns: Arns;
  logs: LogStore;
  runtime: ContainerRuntime;
  /** The store behind s3:// URIs: the embedded local directory or an S3 endpoint. */
  objectStore: ObjectStore;
  /** The one way features move data by URI (s3://, file://). */
  transfer: DataTransfer;
  /**
   * Environment every container sagebox starts gets (the request's own
   * Environment wins on a clash): region, and when the embedded store serves
   * S3, the endpoint and store-only credentials (src/app/container-env.ts).
   */
  containerEnv(): Record<string, string>;
  /** Prometheus series served at /metrics (src/metrics/metrics.ts); optional so contexts built by tests may omit it. */
  metrics?: Metrics;
  /** The address (host:port) containers use to reach this server, when it listens where they can. */
  serverAddressForContainers?: () => string | undefined;
}

/** A capability of sagebox: registers its operations, recovers its state at start, stops cleanly. */
export interface Feature {
  readonly name: string;
  register(registry: Registry): void;
  /** Runs before the server accepts requests: re-attach or finalise what a previous run left. */
  start?(): Promise<void>;
  stop?(): Promise<void>;
}
