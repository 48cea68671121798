/** FailureReason and ExitMessage texts (spec 1.6, 2.3). */
export const FAILURE_REASON_MAX = 1024;

export const truncate = (s: string, max = FAILURE_REASON_MAX): string => (s.length <= max ? s : s.slice(0, max));

/** `AlgorithmError: <failure file text>, exit code: <n>` as SageMaker reports a failed container. */
export function algorithmError(failureText: string | undefined, exitCode: number): string {
  const text = (failureText ?? '').trim();
  return truncate(`AlgorithmError: ${text}, exit code: ${exitCode}`);
}

/** Platform-side problems (image missing, input missing, bad manifest). */
export const clientError = (what: string): string => truncate(`ClientError: ${what}`);

/** Reads at most the first `max` bytes of a file's text; undefined when it does not exist. */
export async function readHead(file: string, max = FAILURE_REASON_MAX): Promise<Buffer | undefined> {
  const fs = await import('node:fs/promises');
  let fh;
  try {
    fh = await fs.open(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const buf = Buffer.alloc(max);
    const { bytesRead } = await fh.read(buf, 0, max, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}
