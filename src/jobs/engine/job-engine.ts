/**
 * Runs jobs of one kind: stage -> containers -> logs -> wait -> finalize, with
 * stop, MaxRuntimeInSeconds, fail-fast across hosts and crash recovery.
 *
 * Order of persistence (a restart can always pick up):
 *   the row is inserted with phase 'preparing' by the Create operation;
 *   container ids are written right after each create, and phase 'running'
 *   before any container starts; exit codes and phase 'finalizing' before
 *   uploads; phase 'done' after the terminal status.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { AppContext } from '../../app/context';
import { normaliseRawTs, LogSink } from '../../logs/log-store';
import { ImageNotFoundError } from '../../runtime/errors';
import { containerLabels, ownerLabels } from '../../runtime/labels';
import type { JobInternal, JobKind, JobRow, RunOutcome, StopCause } from './types';
import { PlatformError } from './types';

/** How many times one job is resumed after its containers were stopped from outside, before it fails. */
const MAX_RESUMES = 3;
/** How long a resumed job waits for the engine to take its containers again. */
const ENGINE_WAIT_MS = 15 * 60_000;

interface Active {
  stop(cause: StopCause): void;
  done: Promise<void>;
}

export class JobEngine<D> {
  private readonly active = new Map<string, Active>();
  private closed = false;
  private readonly shutdown = new AbortController();
  /** Rejects when the server shuts down, so no run keeps waiting on a container. */
  private readonly detached = new Promise<never>((_, reject) =>
    this.shutdown.signal.addEventListener('abort', () => reject(new Detached()), { once: true }),
  );

  constructor(private readonly ctx: AppContext, private readonly kind: JobKind<D>) {
    this.detached.catch(() => undefined);
  }

  private get log() {
    return this.ctx.logger.child({ component: this.kind.kind });
  }

  workDir(name: string): string {
    return path.join(this.ctx.config.dataDir, 'jobs', this.kind.kind, name);
  }

  /** Starts (or resumes) a job whose row is persisted. */
  launch(name: string): void {
    const key = name.toLowerCase();
    if (this.active.has(key)) return;
    let requestStop: (cause: StopCause) => void = () => undefined;
    const stopRequested = new Promise<StopCause>((resolve) => (requestStop = resolve));
    const done = this.run(name, stopRequested)
      .catch((err) => this.log.error({ err, job: name }, 'job engine failed unexpectedly'))
      .finally(() => this.active.delete(key));
    this.active.set(key, { stop: requestStop, done });
  }

  /** Re-attaches or finishes every job a previous run of sagebox left unfinished. */
  async recover(): Promise<void> {
    for (const row of this.kind.repo.all()) {
      if (row.internal.phase !== 'done') {
        this.log.info({ job: row.name, phase: row.internal.phase }, 'resuming job after restart');
        this.launch(row.name);
      }
    }
  }

  /** Persists the stop request, then signals the running job. The caller has set the Stopping status. */
  requestStop(name: string, cause: StopCause): void {
    this.kind.repo.update(name, (r) => {
      r.internal.stop ??= cause;
    });
    const a = this.active.get(name.toLowerCase());
    if (a) a.stop(cause);
    else this.launch(name);
  }

  /** Detaches from running jobs without touching their containers (a restart re-attaches). */
  async close(): Promise<void> {
    this.closed = true;
    this.shutdown.abort();
    await Promise.allSettled([...this.active.values()].map((a) => a.done));
  }

  isActive(name: string): boolean {
    return this.active.has(name.toLowerCase());
  }

  /** Resolves when the job's run ends (tests, validation flows). */
  async settled(name: string): Promise<void> {
    await this.active.get(name.toLowerCase())?.done;
  }

  private update(name: string, mutate: (internal: JobInternal, row: JobRow<D>) => void): JobRow<D> {
    if (this.closed) throw new Detached();
    const row = this.kind.repo.update(name, (r) => mutate(r.internal, r));
    if (!row) throw new Error(`job ${name} disappeared from the store`);
    return row;
  }

  private async run(name: string, stopRequested: Promise<StopCause>): Promise<void> {
    let stopCause: StopCause | undefined;
    void stopRequested.then((c) => (stopCause ??= c));
    try {
      let job = this.kind.repo.get(name);
      if (!job) return;
      const workDir = this.workDir(name);
      if (job.internal.phase === 'preparing') job = await this.prepareAndCreate(job, workDir, () => stopCause ?? job!.internal.stop);
      // A run cut short from outside and resumed comes back 'running'.
      while (job.internal.phase === 'running') {
        try {
          job = await this.runContainers(job, workDir, stopRequested, () => stopCause);
        } catch (err) {
          if (err instanceof Detached || this.closed) throw err;
          // Never leave a job InProgress with nothing driving it: fail it, stop what may still run.
          this.log.error({ err, job: name }, 'running the job failed');
          for (const h of job.internal.hosts) if (h.containerId) await this.ctx.runtime.stop(h.containerId, 0).catch(() => undefined);
          job = this.update(name, (i) => {
            i.phase = 'finalizing';
            i.platformError ??= `An internal error occurred while running the job: ${(err as Error).message}`;
          });
        }
      }
      if (job.internal.phase === 'finalizing') {
        const outcome: RunOutcome = {
          exitCodes: Object.fromEntries(job.internal.hosts.filter((h) => h.exitCode !== undefined).map((h) => [h.host, h.exitCode!])),
          stop: job.internal.stop,
          platformError: job.internal.platformError,
        };
        this.kind.onPhase?.(name, 'uploading');
        await this.kind.finalize(job, workDir, outcome);
        job = this.update(name, (i) => void (i.phase = 'done'));
        this.ctx.metrics?.jobsTotal.inc({ kind: this.kind.kind, status: job.status ?? 'unknown' });
        this.ctx.metrics?.jobDurationSeconds.observe({ kind: this.kind.kind }, Math.max(0, this.ctx.clock.now() / 1000 - job.creationTime));
        await this.cleanup(job, workDir);
      }
    } catch (err) {
      if (err instanceof Detached || this.closed) return;
      throw err;
    }
  }

  private async prepareAndCreate(job: JobRow<D>, workDir: string, stopCause: () => StopCause | undefined): Promise<JobRow<D>> {
    const name = job.name;
    if (stopCause()) return this.update(name, (i) => void (i.phase = 'finalizing'));
    await fs.rm(workDir, { recursive: true, force: true });
    await fs.mkdir(workDir, { recursive: true });
    this.kind.onPhase?.(name, 'downloading');
    try {
      const preparing = this.kind.prepare(job, workDir);
      // When the server shuts down first, the kind's prepare still settles later: keep that from being unhandled.
      preparing.catch(() => undefined);
      const prepared = await Promise.race([preparing, this.detached]);
      if (this.closed) throw new Detached();
      for (const image of new Set(prepared.map((p) => p.spec.image))) await this.ctx.runtime.ensureImage(image);
      if (stopCause()) return this.update(name, (i) => void (i.phase = 'finalizing'));
      const owner = { instance: this.ctx.config.instanceId, kind: this.kind.kind, resource: name, arn: job.arn, attempt: job.internal.attempt };
      let network: string | undefined;
      if (prepared.length > 1 && !prepared.some((p) => p.spec.network === 'none')) {
        network = `sagebox-${this.kind.kind}-${name}-${job.internal.attempt}`.toLowerCase().slice(0, 60);
        await this.ctx.runtime.createNetwork(network, ownerLabels(owner), { internal: prepared.some((p) => p.spec.network === 'internal') });
        job = this.update(name, (i) => void (i.network = network));
      }
      const epoch = Math.floor(this.ctx.clock.now() / 1000);
      for (const p of prepared) {
        const spec = {
          ...p.spec,
          env: { ...this.ctx.containerEnv(), ...p.spec.env },
          name: p.spec.name || `sagebox-${name}-${p.host}-${job.internal.attempt}`.toLowerCase(),
          labels: { ...p.spec.labels, ...containerLabels({ ...owner, host: p.host }) },
          hostname: p.spec.hostname ?? p.host,
        };
        if (network) {
          spec.network = network;
          spec.networkAliases = [p.host];
        } else if (spec.network === 'internal') spec.network = undefined;
        const stream = `${name}/${p.host}-${epoch}`;
        const id = await this.ctx.runtime.create(spec);
        job = this.update(name, (i) => {
          const existing = i.hosts.find((h) => h.host === p.host);
          if (existing) Object.assign(existing, { containerId: id, stream });
          else i.hosts.push({ host: p.host, containerId: id, stream });
        });
      }
      return this.update(name, (i) => {
        i.phase = 'running';
        i.runStartedAt = this.ctx.clock.now();
      });
    } catch (err) {
      if (err instanceof Detached || this.closed) throw new Detached();
      const platformError = err instanceof PlatformError || err instanceof ImageNotFoundError ? err.message : undefined;
      if (!platformError) this.log.error({ err, job: name }, 'preparing the job failed');
      return this.update(name, (i) => {
        i.phase = 'finalizing';
        i.platformError = platformError ?? `An internal error occurred while preparing the job: ${(err as Error).message}`;
      });
    }
  }

  private async runContainers(job: JobRow<D>, workDir: string, stopRequested: Promise<StopCause>, stopCause: () => StopCause | undefined): Promise<JobRow<D>> {
    const name = job.name;
    const rt = this.ctx.runtime;
    const hosts = job.internal.hosts.filter((h) => h.containerId);
    // After an interruption from outside: start again what was stopped (waiting for the engine as needed).
    if (job.internal.restartContainers) await this.restartStopped(name, hosts);
    const foundExited: string[] = [];
    for (const h of hosts) {
      const st = await rt.inspect(h.containerId!);
      if (!st) {
        return this.update(name, (i) => {
          i.phase = 'finalizing';
          i.platformError ??= `The container of host ${h.host} no longer exists (was the Docker engine restarted or the container removed?).`;
        });
      }
      if (st.status === 'exited' || st.status === 'dead') foundExited.push(h.host);
      // Start what has not started yet (a restart may find created-but-not-started containers),
      // even when a stop is already requested: stopAll below ends it, and an unstarted container would never exit.
      if (st.status === 'created') await rt.start(h.containerId!);
    }
    if (job.internal.restartContainers) job = this.update(name, (i) => void delete i.restartContainers);
    // Containers that ended while sagebox was not running (a host reboot restarts the engine too):
    // why is not known. A kind that can resume does so; if the container fails again on its own,
    // the run says so the usual way.
    else if (foundExited.length > 0 && !job.internal.stop && !stopCause()) {
      const resumed = await this.resume(job, workDir, foundExited.join(', '), 'containers ended while sagebox was not running');
      if (resumed.row) return resumed.row;
    }
    this.kind.onPhase?.(name, 'running');

    const capture = hosts.map((h) => this.capture(job, h.host, h.containerId!, h.stream));
    const grace = this.kind.stopGraceSeconds(job);
    let stopping = false;
    const stopAll = (cause: StopCause | 'fail-fast'): void => {
      if (stopping) return;
      stopping = true;
      if (cause !== 'fail-fast') this.kind.onPhase?.(name, 'stopping');
      for (const h of hosts) rt.stop(h.containerId!, grace).catch((err) => this.log.warn({ err, job: name, host: h.host }, 'stopping a container failed'));
    };
    if (job.internal.stop) stopAll(job.internal.stop);
    void stopRequested.then((c) => stopAll(c));

    let timer: NodeJS.Timeout | undefined;
    const max = this.kind.maxRuntimeSeconds(job);
    if (max !== undefined && job.internal.runStartedAt !== undefined) {
      const left = job.internal.runStartedAt + max * 1000 - this.ctx.clock.now();
      timer = setTimeout(() => {
        if (this.closed) return;
        this.update(name, (i) => void (i.stop ??= 'max-runtime'));
        stopAll('max-runtime');
      }, Math.max(0, left));
    }

    const driverAbort = new AbortController();
    const driver = this.kind.duringRun?.(job, workDir, driverAbort.signal, hosts.map((h) => ({ host: h.host, containerId: h.containerId! })));
    // A driver that rejects with a PlatformError while the containers run (a Pipe-mode feeder that cannot read its data) fails the job now.
    let driverFailure: string | undefined;
    driver?.catch((err) => {
      if (!(err instanceof PlatformError) || driverAbort.signal.aborted) return;
      driverFailure ??= err.message;
      stopAll('fail-fast');
    });
    const exitCodes: Record<string, number> = {};
    let vanished: string | undefined;
    /** Hosts whose container was stopped from outside sagebox, with what stopped it. */
    const interrupted = new Map<string, string>();
    const waits = hosts.map(async (h) => {
      try {
        const { exitCode } = await rt.wait(h.containerId!);
        const cause = this.closed ? undefined : await rt.exitCause?.(h.containerId!);
        if (cause?.external) interrupted.set(h.host, cause.by ?? 'a signal');
        exitCodes[h.host] = exitCode;
        if (exitCode !== 0 && this.kind.endsWith === 'containers') stopAll('fail-fast');
      } catch (err) {
        if (this.closed) return;
        vanished ??= `The container of host ${h.host} disappeared while the job ran: ${(err as Error).message}`;
        stopAll('fail-fast');
      }
    });
    try {
      if (this.kind.endsWith === 'driver') {
        await Promise.race([driver, Promise.all(waits), this.detached]);
        stopAll(stopCause() ?? 'fail-fast');
      }
      await Promise.race([Promise.all(waits), this.detached]);
      if (this.closed) throw new Detached();
      driverAbort.abort();
      await driver?.catch((err) => (err instanceof PlatformError ? undefined : this.log.error({ err, job: name }, 'job driver failed')));
      await Promise.race([Promise.all(capture), this.detached]);
    } finally {
      if (timer) clearTimeout(timer);
      driverAbort.abort(); // also when detaching at shutdown: a driver must not outlive the engine
    }
    let interruption: string | undefined;
    const current = this.kind.repo.get(name) ?? job;
    if (interrupted.size > 0 && !stopCause() && !current.internal.stop) {
      const what = [...interrupted].map(([host, by]) => (by === 'engine' ? `${host} (the engine went away while it ran)` : `${host} (${by})`)).join(', ');
      const resumed = await this.resume(current, workDir, what, 'containers were stopped from outside sagebox');
      if (resumed.row) return resumed.row;
      if (resumed.verdict !== 'finished') {
        interruption =
          `The container of ${what} was stopped from outside sagebox while the job ran: the Docker engine shut down or restarted ` +
          `(it stops every container), or the container was stopped with docker stop or docker kill.` +
          (this.kind.onInterrupted ? ` The job was resumed ${current.internal.interruptions ?? 0} time(s) already.` : ' The job cannot go on from where it was; run it again.');
        this.log.warn({ job: name, hosts: what }, 'containers were stopped from outside sagebox');
      }
    }
    return this.update(name, (i) => {
      for (const h of i.hosts) if (exitCodes[h.host] !== undefined) h.exitCode = exitCodes[h.host];
      if (interruption) i.platformError ??= interruption;
      if (vanished) i.platformError ??= vanished;
      if (driverFailure) i.platformError ??= driverFailure;
      if (stopCause()) i.stop ??= stopCause();
      i.phase = 'finalizing';
    });
  }

  /**
   * Asks a kind that can resume (onInterrupted) to go on after its containers stopped: under
   * MAX_RESUMES, a 'resume' persists restartContainers (the caller returns the row, still
   * 'running'). Without the hook, or past the limit, there is no verdict.
   */
  private async resume(job: JobRow<D>, workDir: string, hosts: string, why: string): Promise<{ row?: JobRow<D>; verdict?: 'resume' | 'finished' }> {
    const resumes = job.internal.interruptions ?? 0;
    if (!this.kind.onInterrupted || resumes >= MAX_RESUMES) return {};
    const verdict = await this.kind.onInterrupted(job, workDir);
    if (verdict !== 'resume') return { verdict };
    this.log.warn({ job: job.name, hosts, resumes: resumes + 1 }, `${why}; resuming the job on the same containers`);
    const row = this.update(job.name, (i) => {
      i.interruptions = resumes + 1;
      i.restartContainers = true;
    });
    return { row, verdict };
  }

  /**
   * Starts again the containers that were stopped from outside. An engine that is shutting down
   * still answers for a moment but refuses to start containers: each start is retried (every
   * second, for up to ENGINE_WAIT_MS) until the engine is back and takes it.
   */
  private async restartStopped(name: string, hosts: { host: string; containerId?: string }[]): Promise<void> {
    const until = Date.now() + ENGINE_WAIT_MS;
    for (const h of hosts) {
      for (;;) {
        if (this.closed) throw new Detached();
        try {
          const st = await this.ctx.runtime.inspect(h.containerId!);
          if (!st) break; // gone: the check below fails the job
          if (!st.running) await this.ctx.runtime.start(h.containerId!);
          break;
        } catch (err) {
          if (Date.now() > until) throw err;
          this.log.info({ job: name, host: h.host, err: (err as Error).message }, 'the engine cannot start the container yet; trying again');
          await Promise.race([new Promise((r) => setTimeout(r, 1000)), this.detached]);
          await this.untilEngineAnswers();
        }
      }
    }
  }

  /** After the engine went away: returns once it answers again (sagebox's shutdown ends the wait). */
  private async untilEngineAnswers(): Promise<void> {
    for (let logged = false; ; ) {
      if (this.closed) throw new Detached();
      try {
        await this.ctx.runtime.ping();
        return;
      } catch {
        if (!logged) this.log.warn({}, 'waiting for the Docker engine to answer again');
        logged = true;
        await Promise.race([new Promise((r) => setTimeout(r, 1000)), this.detached]);
      }
    }
  }

  /** Copies a container's lines into its log stream; on re-attach skips what is already stored. */
  private async capture(job: JobRow<D>, host: string, containerId: string, stream: string): Promise<void> {
    const store = this.ctx.logs;
    const streamId = store.ensureStream(this.kind.logGroup, stream);
    const last = store.stream(this.kind.logGroup, stream)?.lastRawTs;
    const sink = new LogSink(store, streamId);
    try {
      const since = last ? Date.parse(last) - 1000 : undefined;
      for await (const line of this.ctx.runtime.logs(containerId, { follow: true, sinceMs: since, signal: this.shutdown.signal })) {
        if (this.closed) break;
        if (last && normaliseRawTs(line.rawTimestamp) <= last) continue;
        sink.write({ timestamp: line.timestamp, message: line.message }, line.rawTimestamp);
        this.kind.onLine?.(job, host, line);
      }
    } catch (err) {
      if (!this.closed) this.log.warn({ err, job: job.name, host }, 'log capture ended with an error');
    } finally {
      if (!this.closed) sink.close();
    }
  }

  private async cleanup(job: JobRow<D>, workDir: string): Promise<void> {
    for (const h of job.internal.hosts) {
      if (h.containerId) await this.ctx.runtime.remove(h.containerId).catch(() => undefined);
    }
    if (job.internal.network) await this.ctx.runtime.removeNetwork(job.internal.network).catch(() => undefined);
    await fs.rm(workDir, { recursive: true, force: true }).catch((err) => this.log.warn({ err, job: job.name }, 'could not remove the job directory'));
  }
}

/** Thrown inside a run when the server is shutting down: leave everything as it is. */
class Detached extends Error {}
