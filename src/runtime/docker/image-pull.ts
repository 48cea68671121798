/**
 * Pulling an image and following Docker's progress stream (JSON objects, one
 * a line) to its end. Errors come either as the HTTP status of the request or
 * as an {"error": ...} object inside a 200 stream; both become
 * ImageNotFoundError. A registry that stops answering is given up on after
 * idleTimeoutMs without any progress message.
 */
import type Dockerode from 'dockerode';
import { ImageNotFoundError } from '../errors';
import type { RuntimeLogger } from '../logger';
import { engineMessage, isConnectionError } from './engine-errors';

interface ProgressMessage {
  status?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string };
  progressDetail?: { current?: number };
}

export async function pullImage(docker: Dockerode, image: string, idleTimeoutMs: number, log: RuntimeLogger): Promise<void> {
  const controller = new AbortController();
  let timer = setTimeout(() => controller.abort(), idleTimeoutMs);
  const touch = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(), idleTimeoutMs);
  };
  try {
    const body = (await docker.pull(image, { abortSignal: controller.signal })) as AsyncIterable<Buffer>;
    let pending = '';
    for await (const chunk of body) {
      touch();
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onProgress(image, line, log);
    }
    onProgress(image, pending, log);
  } catch (err) {
    if (err instanceof ImageNotFoundError || isConnectionError(err)) throw err;
    const reason = controller.signal.aborted ? `no progress from the registry for ${idleTimeoutMs / 1000} s` : engineMessage(err);
    throw new ImageNotFoundError(image, reason);
  } finally {
    clearTimeout(timer);
  }
}

function onProgress(image: string, line: string, log: RuntimeLogger): void {
  if (!line.trim()) return;
  let message: ProgressMessage;
  try {
    message = JSON.parse(line) as ProgressMessage;
  } catch {
    return;
  }
  const error = message.errorDetail?.message ?? message.error;
  if (error) throw new ImageNotFoundError(image, error);
  // Per-layer byte counts are noise; the status changes are worth a line.
  if (message.status && message.progressDetail?.current === undefined) {
    log.debug({ image, layer: message.id, status: message.status }, 'Pull progress');
  }
}
