/** Reading dockerode's errors: the HTTP status and the daemon's own message. */

export function statusCode(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

export function isStatus(err: unknown, ...codes: number[]): boolean {
  const code = statusCode(err);
  return code !== undefined && codes.includes(code);
}

/** True when the engine itself could not be reached (as opposed to answering with an error). */
export function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'EACCES' || code === 'ECONNRESET' || code === 'EPIPE';
}

/**
 * The daemon's message without dockerode's "(HTTP code 404) no such container - " prefix.
 */
export function engineMessage(err: unknown): string {
  const json = (err as { json?: { message?: unknown } } | null)?.json;
  if (json && typeof json.message === 'string') return json.message.trim();
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
}
