import { PlatformError } from '../engine/types';

/**
 * Runs `fn`; a PlatformError passes through, any other error becomes
 * PlatformError(`<prefix>: <message>`), which fails the job with that reason.
 */
export async function asPlatformError<T>(prefix: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof PlatformError) throw err;
    throw new PlatformError(`${prefix}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
