/** Waiting in tests: poll until something holds, with a deadline that names what was awaited. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` returns a value (not undefined); fails naming `what` after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000, everyMs = 150): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

const TERMINAL = new Set(['Completed', 'Failed', 'Stopped']);

/** Describes a job every 200 ms until `status` of it is terminal (Completed, Failed, Stopped); returns that description. */
export async function untilTerminal<D>(name: string, describe: () => Promise<D>, status: (d: D) => string | undefined, timeoutMs: number): Promise<D> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await describe();
    if (TERMINAL.has(status(d) ?? '')) return d;
    if (Date.now() > deadline) throw new Error(`job ${name} still ${status(d)} after ${timeoutMs} ms`);
    await sleep(200);
  }
}
