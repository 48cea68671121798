/**
 * The shared job engine's vocabulary. Training, processing and transform jobs
 * are "kinds" (JobKind) that tell the engine what to stage, which containers
 * to run and what to do with the results; the engine does the rest the same
 * way for all of them: persistence order, containers, logs, stop, timeouts,
 * crash recovery.
 */
import type { ContainerSpec, LogLine } from '../../runtime/container-runtime';
import type { ResourceKind } from '../../runtime/labels';
import type { ResourceRepo, ResourceRow } from '../../store/resource-repo';

/**
 * Where a job is in the engine, persisted in the row's internal state before
 * the engine acts on it, so a restart knows what to redo:
 * - preparing: staging inputs and writing config (redone from scratch on restart)
 * - running: containers created/started (re-attached on restart)
 * - finalizing: containers gone, outputs being uploaded (redone on restart: uploads are idempotent)
 * - done: terminal status written
 */
export type EnginePhase = 'preparing' | 'running' | 'finalizing' | 'done';

export type StopCause = 'user' | 'max-runtime';

export interface HostRun {
  host: string;
  /** Log stream name (e.g. `<job>/algo-1-<epoch>`), fixed when the container is created. */
  stream: string;
  containerId?: string;
  exitCode?: number;
}

export interface JobInternal {
  phase: EnginePhase;
  attempt: number;
  hosts: HostRun[];
  network?: string;
  /** Epoch ms when the containers started (MaxRuntimeInSeconds counts from here). */
  runStartedAt?: number;
  stop?: StopCause;
  /** A ClientError found by the platform (staging, image, vanished container). */
  platformError?: string;
  /** Kind-specific state. */
  extra?: Record<string, unknown>;
  /** Runs cut short from outside sagebox and resumed (kinds with onInterrupted). */
  interruptions?: number;
  /** The containers were stopped from outside and must be started again before they are waited on. */
  restartContainers?: boolean;
}

export type JobRow<D> = ResourceRow<D, JobInternal>;

export interface PreparedHost {
  host: string;
  spec: ContainerSpec;
}

export interface RunOutcome {
  /** Exit code per host (missing when a container never ran). */
  exitCodes: Record<string, number>;
  stop?: StopCause;
  /** Set when the platform failed the job (staging, image, vanished container). */
  platformError?: string;
}

export interface JobKind<D> {
  readonly kind: ResourceKind;
  /** CloudWatch Logs group, e.g. /aws/sagemaker/TrainingJobs. */
  readonly logGroup: string;
  readonly repo: ResourceRepo<D, JobInternal>;
  /** Whether the job ends when its containers exit (training, processing) or when `duringRun` resolves (transform). */
  readonly endsWith: 'containers' | 'driver';
  /** Stage inputs, write config files, return one container per host. Throw PlatformError for a ClientError. */
  prepare(job: JobRow<D>, workDir: string): Promise<PreparedHost[]>;
  /** Runs alongside the containers (continuous uploads, checkpoint sync, the transform feeder). Must stop when `signal` aborts. */
  duringRun?(job: JobRow<D>, workDir: string, signal: AbortSignal, hosts: { host: string; containerId: string }[]): Promise<void>;
  /** Every log line of every host, as it is captured (metrics). */
  onLine?(job: JobRow<D>, host: string, line: LogLine): void;
  /**
   * Some container was stopped from outside sagebox (the Docker engine shut down or restarted, or
   * `docker stop`) while the job ran. 'resume': the kind has set its state back so that the run can
   * go on (the engine starts the same containers again and calls duringRun again); 'finished': the
   * work was complete anyway. Kinds without it fail the job with a platform error saying so.
   */
  onInterrupted?(job: JobRow<D>, workDir: string): Promise<'resume' | 'finished'>;
  /** Upload outputs and write the terminal status. Must be idempotent: a restart may call it again. */
  finalize(job: JobRow<D>, workDir: string, outcome: RunOutcome): Promise<void>;
  /** Engine milestones, for SecondaryStatus and the like. */
  onPhase?(name: string, phase: 'downloading' | 'running' | 'uploading' | 'stopping'): void;
  /** MaxRuntimeInSeconds of the job, if any. */
  maxRuntimeSeconds(job: JobRow<D>): number | undefined;
  /** The stop grace (SIGTERM -> SIGKILL) for this kind, in seconds. */
  stopGraceSeconds(job: JobRow<D>): number;
}

/** A problem on the platform side: becomes `ClientError: <message>`. */
export class PlatformError extends Error {}
