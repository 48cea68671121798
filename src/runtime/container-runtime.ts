/**
 * The narrow interface every container engine sits behind. Jobs and endpoints
 * only ever talk to this; docker/ implements it with dockerode.
 */

export interface Mount {
  /** Absolute host path. */
  source: string;
  target: string;
  readOnly?: boolean;
}

export interface ContainerSpec {
  name: string;
  image: string;
  /** Replaces the image ENTRYPOINT when set (Docker --entrypoint semantics; [] clears it). */
  entrypoint?: string[];
  /** Replaces the image CMD when set. */
  cmd?: string[];
  env: Record<string, string>;
  labels: Record<string, string>;
  mounts: Mount[];
  hostname?: string;
  /** Network to attach to; 'none' disables networking. Default: the engine's default bridge. */
  network?: string;
  /** DNS aliases on `network` (e.g. algo-1). */
  networkAliases?: string[];
  /** CPU limit in cores (fractional allowed); undefined = no limit. */
  cpus?: number;
  memoryBytes?: number;
  /** A container port to make reachable from sagebox (8080 for serving containers). */
  exposePort?: number;
  /** Extra hosts entries, e.g. { 'host.sagebox.internal': '172.17.0.1' }. */
  extraHosts?: Record<string, string>;
}

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerState {
  id: string;
  name: string;
  status: ContainerStatus;
  running: boolean;
  exitCode?: number;
  /** Epoch ms. */
  startedAt?: number;
  finishedAt?: number;
  labels: Record<string, string>;
  /** Container IP on its first network, when it has one. */
  ip?: string;
  /** The 127.0.0.1 port on the host that reaches spec.exposePort, once the container runs. */
  hostPort?: number;
  /** The kernel killed it for exceeding its memory limit. */
  oomKilled?: boolean;
}

/** Why a container's run ended (see ContainerRuntime.exitCause). */
export interface ExitCause {
  /** Stopped from outside sagebox: `docker stop`/`docker kill`, or the engine shutting down or going away. */
  external: boolean;
  /** The signal of the outside kill (SIGTERM, ...), or 'engine' when the engine went away while it ran. */
  by?: string;
}

export interface LogLine {
  stream: 'stdout' | 'stderr';
  /** Epoch milliseconds, from the engine's timestamp of the line. */
  timestamp: number;
  /** The engine's full-precision timestamp (RFC 3339 with nanoseconds), for de-duplication on re-attach. */
  rawTimestamp: string;
  /** One line without its trailing newline; a final partial line is delivered as is. */
  message: string;
}

export interface ContainerRuntime {
  /** Throws a clear error when the engine does not answer. */
  ping(): Promise<void>;
  /** Pulls the image when it is not present; throws ImageNotFoundError when it is neither local nor pullable. */
  ensureImage(image: string): Promise<{ id: string; digest?: string }>;
  create(spec: ContainerSpec): Promise<string>;
  start(id: string): Promise<void>;
  /**
   * Resolves when the container exits (also when it has already exited, or has not started yet).
   * Throws ContainerNotFoundError when it does not exist.
   */
  wait(id: string): Promise<{ exitCode: number }>;
  /**
   * Once wait() has returned: whether the run ended because of something outside sagebox (the
   * engine stopping every container as it shuts down, `docker stop`) rather than by itself or at
   * sagebox's request. Engines that cannot tell leave it out (read: never external).
   */
  exitCause?(id: string): Promise<ExitCause>;
  /** Releases what the runtime holds open (the engine's event stream). */
  close?(): void;
  /**
   * The image's stop signal (SIGTERM by default), then SIGKILL after graceSeconds (rounded up to whole
   * seconds). Resolves once the container has exited; a no-op when it is not running or does not exist.
   */
  stop(id: string, graceSeconds: number): Promise<void>;
  /** Default SIGKILL; a no-op when it is not running or does not exist. */
  kill(id: string, signal?: string): Promise<void>;
  /** Force-removes it with its anonymous volumes; a no-op when it does not exist. */
  remove(id: string): Promise<void>;
  /** undefined when it does not exist. */
  inspect(id: string): Promise<ContainerState | undefined>;
  /**
   * Lines of stdout and stderr with timestamps, in order within each stream. With follow, until the
   * container exits (following a created container first waits for it to start); without, what is
   * there now. sinceMs filters older lines; signal ends the iteration quietly.
   */
  logs(id: string, opts: { follow: boolean; sinceMs?: number; signal?: AbortSignal }): AsyncIterable<LogLine>;
  listByLabels(labels: Record<string, string>): Promise<ContainerState[]>;
  /** A bridge network; returns its id. An existing one with the same name and labels is reused. */
  createNetwork(name: string, labels: Record<string, string>, opts?: { internal?: boolean }): Promise<string>;
  /** A no-op when it does not exist. */
  removeNetwork(name: string): Promise<void>;
  /** The IPv4 gateway address of a network ('bridge': the host's address on it), when it has one. */
  networkGateway?(name: string): Promise<string | undefined>;
  /**
   * Removes containers and networks labelled with this sagebox instance for which keep(labels) is false.
   * Returns the ids removed.
   */
  reapOrphans(instanceId: string, keep: (labels: Record<string, string>) => boolean): Promise<{ containers: string[]; networks: string[] }>;
}
