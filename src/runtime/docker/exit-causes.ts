/**
 * Why a container stopped: by itself, at sagebox's request, or from outside
 * (someone ran `docker stop`/`docker kill`, or the engine shut down, which
 * stops every container it runs without live-restore).
 *
 * The engine reports every signal it sends as a `kill` event, before the
 * container's `die` event, for `docker stop`, `docker kill` and its own
 * shutdown alike. This follows the engine's event stream (containers with a
 * `sagebox.instance` label only) and remembers, per container, the kill events
 * that sagebox did not ask for. The runtime tells it when sagebox stops, kills
 * or removes a container (`expectStop`) and when it starts one (`started`).
 *
 * The stream is reconnected after the engine goes away, and its socket never
 * holds the process open. Kills sent while it was disconnected are not seen;
 * the runtime covers the engine being away itself (see `engineLost`).
 */
import type Dockerode from 'dockerode';
import type { Readable } from 'node:stream';
import { constants } from 'node:os';
import type { RuntimeLogger } from '../logger';

export interface ExitCause {
  /** Stopped from outside sagebox. */
  external: boolean;
  /** The signal of the outside kill, or 'engine' when sagebox lost the engine while the container ran. */
  by?: string;
}

interface Track {
  /** sagebox asked for this run to end. */
  own: boolean;
  /** The signal of a kill sagebox did not ask for. */
  externalSignal?: string;
  engineLost: boolean;
  /** `die` events seen, all runs. */
  dies: number;
  /** `dies` when this run started. */
  diesAtStart: number;
  waiters: (() => void)[];
}

interface EngineEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

const RECONNECT_MS = 1000;

export class ExitCauses {
  private readonly tracks = new Map<string, Track>();
  private stream?: Readable;
  private reconnect?: NodeJS.Timeout;
  private connecting = false;
  private closed = false;
  /** Resolves once the first subscription is in place (or failed). */
  private ready?: Promise<void>;

  constructor(private readonly docker: Dockerode, private readonly log: RuntimeLogger) {}

  /** Subscribes on first use; resolves when the engine has accepted the subscription (or refused it). */
  ensureFollowing(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.ready ??= this.connect();
    return this.ready;
  }

  private track(id: string): Track {
    let t = this.tracks.get(id);
    if (!t) this.tracks.set(id, (t = { own: false, engineLost: false, dies: 0, diesAtStart: 0, waiters: [] }));
    return t;
  }

  /** A new run of the container begins: what was known of the previous one no longer applies. */
  started(id: string): void {
    const t = this.track(id);
    t.own = false;
    t.externalSignal = undefined;
    t.engineLost = false;
    t.diesAtStart = t.dies;
  }

  /** sagebox is about to stop, kill or remove the container. */
  expectStop(id: string): void {
    this.track(id).own = true;
  }

  /** sagebox lost the engine while the container ran, and found it exited afterwards. */
  engineLost(id: string): void {
    this.track(id).engineLost = true;
  }

  forget(id: string): void {
    this.tracks.delete(id);
  }

  /**
   * Why the container's current run ended. Waits up to `waitMs` for its `die`
   * event, so that a kill event that is still on its way is counted.
   */
  async cause(id: string, waitMs = 1000): Promise<ExitCause> {
    const t = this.track(id);
    if (t.dies === t.diesAtStart && this.stream && !t.engineLost) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, waitMs);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        t.waiters.push(done);
      });
    }
    // An outside kill counts even when sagebox asked for a stop afterwards (fail-fast of the other hosts).
    if (t.externalSignal !== undefined) return { external: true, by: t.externalSignal };
    if (t.engineLost && !t.own) return { external: true, by: 'engine' };
    return { external: false };
  }

  close(): void {
    this.closed = true;
    if (this.reconnect) clearTimeout(this.reconnect);
    this.stream?.destroy();
    this.stream = undefined;
  }

  private async connect(): Promise<void> {
    if (this.closed || this.connecting) return;
    this.connecting = true;
    try {
      const stream = (await this.docker.getEvents({
        filters: { type: ['container'], event: ['kill', 'die'], label: ['sagebox.instance'] },
      })) as unknown as Readable;
      if (this.closed) {
        stream.destroy();
        return;
      }
      // Never keep the process alive for this.
      (stream as unknown as { socket?: { unref?: () => void } }).socket?.unref?.();
      this.stream = stream;
      let pending = '';
      stream.on('data', (chunk: Buffer) => {
        pending += chunk.toString('utf8');
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl).trim();
          pending = pending.slice(nl + 1);
          if (line) this.onEvent(line);
        }
      });
      const lost = (): void => {
        if (this.stream !== stream) return;
        this.stream = undefined;
        this.scheduleReconnect();
      };
      stream.once('end', lost);
      stream.once('close', lost);
      stream.once('error', lost);
    } catch (err) {
      this.log.debug({ err }, 'Following engine events failed; trying again');
      this.scheduleReconnect();
    } finally {
      this.connecting = false;
    }
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnect) return;
    this.reconnect = setTimeout(() => {
      this.reconnect = undefined;
      void this.connect();
    }, RECONNECT_MS);
    this.reconnect.unref();
  }

  private onEvent(line: string): void {
    let e: EngineEvent;
    try {
      e = JSON.parse(line) as EngineEvent;
    } catch {
      return;
    }
    const id = e.Actor?.ID;
    if (e.Type !== 'container' || !id) return;
    if (e.Action === 'kill') {
      const t = this.track(id);
      if (!t.own) t.externalSignal ??= signalName(e.Actor?.Attributes?.signal);
    } else if (e.Action === 'die') {
      const t = this.track(id);
      t.dies++;
      for (const w of t.waiters.splice(0)) w();
    }
  }
}

/** The engine reports signals by number ("15"); messages name them (SIGTERM). */
function signalName(raw: string | undefined): string {
  if (raw === undefined || raw === '') return 'a signal';
  if (!/^\d+$/.test(raw)) return raw.startsWith('SIG') ? raw : `SIG${raw}`;
  const n = Number(raw);
  const name = Object.entries(constants.signals).find(([, v]) => v === n)?.[0];
  return name ?? `signal ${raw}`;
}
