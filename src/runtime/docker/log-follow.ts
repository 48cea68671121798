/**
 * Reading a container's logs through the engine, as LogLines.
 *
 * With follow, the engine keeps the stream open until the container stops, so
 * the iterable ends when the container exits. Three engine behaviours are
 * covered here:
 * - a follow request on a container that has not started yet returns at once
 *   (the engine only follows running containers): wait for it to leave
 *   'created' first;
 * - the engine may close a follow stream at exit before it has sent the last
 *   lines the container wrote (seen with a last line without newline): once
 *   the container has stopped, read once more without follow from the last
 *   timestamp delivered (a line still open when a follow stream ends is left
 *   to that read, so it is never delivered cut);
 * - should the engine close a follow stream while the container still runs,
 *   re-attach from the last timestamp delivered.
 * Re-reads start at that timestamp (Docker's `since` is inclusive), and the
 * lines already delivered are skipped.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import type { ContainerState, LogLine } from '../container-runtime';
import { ContainerNotFoundError } from '../errors';
import type { RuntimeLogger } from '../logger';
import { isStatus } from './engine-errors';
import { decodeLogStream, toDockerSince } from './log-lines';

export interface LogSource {
  docker: Dockerode;
  log: RuntimeLogger;
  inspect(id: string): Promise<ContainerState | undefined>;
  maxLineBytes: number | undefined;
}

/** How far back the catch-up read looks first; it reads everything since the last line only if that is not enough. */
const CATCH_UP_TAIL = 1000;

type Read = { follow: true } | { follow: false; tail?: number };

export interface LogOptions {
  follow: boolean;
  sinceMs?: number;
  /** Ends the iteration (quietly) when aborted. */
  signal?: AbortSignal;
}

export async function* followLogs(src: LogSource, id: string, opts: LogOptions): AsyncGenerator<LogLine> {
  if (opts.signal?.aborted) return;
  try {
    yield* readLogs(src, id, opts);
  } catch (err) {
    if (!opts.signal?.aborted) throw err;
    src.log.debug({ containerId: id }, 'Stopped reading container logs: aborted');
  }
}

async function* readLogs(src: LogSource, id: string, opts: LogOptions): AsyncGenerator<LogLine> {
  const { signal } = opts;
  if (opts.follow) await untilStarted(src, id, signal);
  let since = opts.sinceMs !== undefined ? toDockerSince(opts.sinceMs) : undefined;
  let read: Read = { follow: opts.follow };
  /**
   * Per stream, the last timestamp delivered and how many lines carried it.
   * Per stream because stdout and stderr are copied by the engine separately:
   * the line a follow stream failed to send may be older than the last line
   * of the other stream.
   */
  const last: Partial<Record<LogLine['stream'], { raw: string; count: number }>> = {};
  /** Where a read must start so that no stream misses a line: the oldest of the streams' positions. */
  const oldest = (): string | undefined => {
    const raws = Object.values(last).map((l) => l.raw);
    return raws.length ? raws.reduce((a, b) => (a < b ? a : b)) : undefined;
  };
  for (let attach = 1; ; attach++) {
    const context = { containerId: id, ...read, since, attach };
    src.log.debug(context, 'Reading container logs...');
    let body: AsyncIterable<Buffer>;
    try {
      body = await openLogs(src.docker, id, read, since, signal);
    } catch (err) {
      // Removed between two reads: what was delivered is all there is.
      if (attach > 1 && err instanceof ContainerNotFoundError) return;
      throw err;
    }
    let delivered = 0;
    let first = true;
    let gap = false;
    const from = oldest();
    const skip: typeof last = { stdout: last.stdout && { ...last.stdout }, stderr: last.stderr && { ...last.stderr } };
    // A follow stream can end in the middle of a line: leave it to the next read.
    for await (const line of decodeLogStream(body, src.maxLineBytes, read.follow)) {
      if (first && read.follow === false && read.tail !== undefined && from !== undefined && line.rawTimestamp > from) {
        gap = true; // the tail does not reach back to the oldest line delivered
        break;
      }
      first = false;
      const sk = skip[line.stream];
      if (sk && line.rawTimestamp <= sk.raw) {
        if (line.rawTimestamp < sk.raw || sk.count-- > 0) continue;
      }
      skip[line.stream] = undefined;
      const l = last[line.stream];
      last[line.stream] = l?.raw === line.rawTimestamp ? { raw: l.raw, count: l.count + 1 } : { raw: line.rawTimestamp, count: 1 };
      delivered++;
      yield line;
    }
    src.log.debug({ ...context, lines: delivered, gap }, 'Container log stream ended');
    const resumeAt = oldest();
    if (resumeAt) since = rawToDockerSince(resumeAt);
    if (gap) {
      read = { follow: false };
      continue;
    }
    if (!read.follow) return;
    const state = await src.inspect(id);
    if (!state) return; // removed while we followed it: nothing more to read
    if (state.running) {
      src.log.warn({ ...context, lastTimestamp: resumeAt }, 'Engine closed the log stream of a running container: re-attaching');
      await sleep(200, undefined, { signal });
    } else {
      // The catch-up read for lines the follow stream did not send.
      read = resumeAt ? { follow: false, tail: CATCH_UP_TAIL } : { follow: false };
    }
  }
}

async function untilStarted(src: LogSource, id: string, signal: AbortSignal | undefined): Promise<void> {
  for (;;) {
    const state = await src.inspect(id);
    if (state?.status !== 'created') return;
    await sleep(100, undefined, { signal });
  }
}

function openLogs(docker: Dockerode, id: string, read: Read, since: string | undefined, signal: AbortSignal | undefined): Promise<AsyncIterable<Buffer>> {
  const query: Record<string, string | boolean | number> = { follow: read.follow, stdout: true, stderr: true, timestamps: true };
  if (since !== undefined) query.since = since;
  if (!read.follow && read.tail !== undefined) query.tail = read.tail;
  // Through the modem, because dockerode buffers the whole body when follow is false.
  const modem = docker.modem as { dial(options: object, cb: (err: unknown, res: AsyncIterable<Buffer>) => void): void };
  return new Promise((resolve, reject) =>
    modem.dial(
      {
        path: `/containers/${encodeURIComponent(id)}/logs?`,
        method: 'GET',
        isStream: true,
        statusCodes: { 200: true, 404: 'no such container', 500: 'server error' },
        options: query,
        abortSignal: signal,
      },
      (err, res) => (err ? reject(isStatus(err, 404) ? new ContainerNotFoundError(id) : err) : resolve(res)),
    ),
  );
}

/** Docker's `since` for an engine timestamp, to the nanosecond. */
function rawToDockerSince(raw: string): string {
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(raw);
  if (!match) return toDockerSince(Date.parse(raw));
  const [, seconds, fraction = '', zone] = match;
  return `${Date.parse(`${seconds}${zone}`) / 1000}.${fraction.padEnd(9, '0').slice(0, 9)}`;
}
