/**
 * Copies a serving container's lines into one CloudWatch-shaped stream until
 * the container exits. On re-attach (after a restart) the lines already
 * stored are skipped. `done` resolves when the log stream ends, which the
 * engine does when the container stops: callers use it as the exit signal.
 * detach() ends it at once without touching the container.
 */
import { LogSink, normaliseRawTs, type LogStore } from '../logs/log-store';
import type { ContainerRuntime } from '../runtime/container-runtime';

export type CaptureEnd = 'exited' | 'error' | 'detached';

export interface LogCapture {
  done: Promise<CaptureEnd>;
  /**
   * Writes what is buffered, then drops every later line: the owner is
   * shutting down and the database is about to close. The container keeps
   * running; the next start re-attaches.
   */
  detach(): void;
}

export function captureContainerLogs(runtime: ContainerRuntime, logs: LogStore, containerId: string, group: string, stream: string): LogCapture {
  const streamId = logs.ensureStream(group, stream);
  const last = logs.stream(group, stream)?.lastRawTs;
  const sink = new LogSink(logs, streamId);
  const abort = new AbortController();
  let detached = false;
  const done = (async (): Promise<CaptureEnd> => {
    try {
      const since = last ? Date.parse(last) - 1000 : undefined;
      for await (const line of runtime.logs(containerId, { follow: true, sinceMs: since, signal: abort.signal })) {
        if (detached) return 'detached';
        if (last && normaliseRawTs(line.rawTimestamp) <= last) continue;
        sink.write({ timestamp: line.timestamp, message: line.message }, line.rawTimestamp);
      }
      return detached ? 'detached' : 'exited';
    } catch {
      return detached ? 'detached' : 'error';
    } finally {
      if (!detached) sink.close();
    }
  })();
  return {
    done,
    detach() {
      if (detached) return;
      sink.close();
      detached = true;
      abort.abort();
    },
  };
}
