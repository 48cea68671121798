/**
 * How a finished run becomes the job's terminal status, FailureReason and
 * ExitMessage (spec 2.1, 2.3). Pure: the caller reads the files.
 */
import { FAILURE_REASON_MAX, algorithmError, clientError, truncate } from '../../contract/failure';
import type { RunOutcome } from '../engine/types';
import type { TerminalStatus } from './status';

export interface HostFiles {
  host: string;
  /** The first bytes of /opt/ml/output/message, when the container wrote one. */
  message?: Buffer;
  /** The first bytes of /opt/ml/output/failure, when the container wrote one. */
  failure?: Buffer;
}

export interface Verdict {
  status: TerminalStatus;
  failureReason?: string;
  exitMessage?: string;
}

/** Exit codes that mean the container was killed by the platform (SIGTERM, SIGKILL) rather than failing on its own. */
const SIGNALLED = new Set([137, 143]);

/**
 * ExitMessage: every host's message in host order, concatenated, then cut to
 * 1024 characters. A message that is not UTF-8 makes the job fail with a
 * ClientError (returned as `invalid`).
 */
export function exitMessageOf(files: HostFiles[]): { message?: string; invalid?: string } {
  let message = '';
  let any = false;
  for (const f of files) {
    if (!f.message?.length) continue;
    any = true;
    try {
      // stream: true tolerates a character cut in two by the 1 KiB read.
      message += new TextDecoder('utf-8', { fatal: true }).decode(f.message, { stream: true });
    } catch {
      return { invalid: `The exit message file /opt/ml/output/message written by ${f.host} is not valid UTF-8.` };
    }
    if (message.length >= FAILURE_REASON_MAX) break;
  }
  return any ? { message: truncate(message) } : {};
}

export function verdictOf(outcome: RunOutcome, hosts: string[], files: HostFiles[]): Verdict {
  const exit = exitMessageOf(files);
  const withMessage = (v: Verdict): Verdict => (exit.message !== undefined ? { ...v, exitMessage: exit.message } : v);
  if (outcome.platformError) return withMessage({ status: 'Failed', failureReason: clientError(outcome.platformError) });
  if (exit.invalid) return { status: 'Failed', failureReason: clientError(exit.invalid) };
  if (outcome.stop) return withMessage({ status: 'Stopped' });
  const failed = hosts.filter((h) => outcome.exitCodes[h] !== 0);
  if (failed.length === 0) return withMessage({ status: 'Completed' });
  const missing = failed.find((h) => outcome.exitCodes[h] === undefined);
  if (missing) return withMessage({ status: 'Failed', failureReason: clientError(`The container of ${missing} did not report an exit code.`) });
  // The host that failed on its own, not one stopped because another failed (fail-fast).
  const first = failed.find((h) => !SIGNALLED.has(outcome.exitCodes[h]!)) ?? failed[0]!;
  const failure = files.find((f) => f.host === first)?.failure;
  const text = failure ? failure.toString('utf8').replace(/\uFFFD+$/, '') : undefined;
  return withMessage({ status: 'Failed', failureReason: algorithmError(text, outcome.exitCodes[first]!) });
}
