/**
 * Reading a container's logs through the engine, as LogLines.
 *
 * With follow, the engine keeps the stream open until the container stops, so
 * the iterable ends when the container exits. Two engine behaviours are
 * covered here: a follow request on a container that has not started yet
 * returns at once (the engine only follows running containers), so we wait for
 * it to leave 'created' first; and should the engine close a follow stream
 * while the container still runs, we re-attach from the last timestamp seen,
 * skipping the lines already delivered.
 */
import type Dockerode from 'dockerode';
import type { ContainerState, LogLine } from '../container-runtime';
import type { RuntimeLogger } from '../logger';
import { decodeLogStream, toDockerSince } from './log-lines';

export interface LogSource {
  docker: Dockerode;
  log: RuntimeLogger;
  inspect(id: string): Promise<ContainerState | undefined>;
  maxLineBytes: number | undefined;
}

export async function* followLogs(src: LogSource, id: string, opts: { follow: boolean; sinceMs?: number }): AsyncGenerator<LogLine> {
  if (opts.follow) await untilStarted(src, id);
  let since = opts.sinceMs !== undefined ? toDockerSince(opts.sinceMs) : undefined;
  let last: { raw: string; count: number } | undefined;
  for (let attach = 1; ; attach++) {
    const context = { containerId: id, follow: opts.follow, since, attach };
    src.log.debug(context, 'Reading container logs...');
    const body = await openLogs(src.docker, id, opts.follow, since);
    let delivered = 0;
    let skip = last;
    for await (const line of decodeLogStream(body, src.maxLineBytes)) {
      if (skip && line.rawTimestamp <= skip.raw) {
        // Re-attached: the engine repeats lines at or after `since`; drop those already delivered.
        if (line.rawTimestamp < skip.raw || skip.count-- > 0) continue;
      }
      skip = undefined;
      last = last?.raw === line.rawTimestamp ? { raw: last.raw, count: last.count + 1 } : { raw: line.rawTimestamp, count: 1 };
      delivered++;
      yield line;
    }
    src.log.debug({ ...context, lines: delivered }, 'Container log stream ended');
    if (!opts.follow) return;
    const state = await src.inspect(id);
    if (!state?.running) return;
    src.log.warn({ ...context, lastTimestamp: last?.raw }, 'Engine closed the log stream of a running container: re-attaching');
    if (last) since = rawToDockerSince(last.raw);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function untilStarted(src: LogSource, id: string): Promise<void> {
  for (;;) {
    const state = await src.inspect(id);
    if (state?.status !== 'created') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function openLogs(docker: Dockerode, id: string, follow: boolean, since: string | undefined): Promise<AsyncIterable<Buffer>> {
  const query: Record<string, string | boolean> = { follow, stdout: true, stderr: true, timestamps: true };
  if (since !== undefined) query.since = since;
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
      },
      (err, res) => (err ? reject(err) : resolve(res)),
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
