/**
 * The processing job status machine (spec 2.4), in one place:
 *
 *   InProgress --StopProcessingJob / MaxRuntimeInSeconds--> Stopping --> Stopped
 *   InProgress --every container exited 0--> Completed
 *   InProgress --a container failed, or a ClientError--> Failed
 *   Stopping   --a ClientError found while finishing (bad exit message, upload)--> Failed
 *
 * Completed, Failed and Stopped are terminal. A stopped job never becomes
 * Completed, even when its containers happened to exit 0 after SIGTERM.
 */
export type ProcessingJobStatus = 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped';

export type TerminalStatus = Extract<ProcessingJobStatus, 'Completed' | 'Failed' | 'Stopped'>;

const NEXT: Record<ProcessingJobStatus, readonly ProcessingJobStatus[]> = {
  InProgress: ['Stopping', 'Completed', 'Failed', 'Stopped'],
  Stopping: ['Stopped', 'Failed'],
  Completed: [],
  Failed: [],
  Stopped: [],
};

export function isTerminal(status: string | undefined): status is TerminalStatus {
  return status === 'Completed' || status === 'Failed' || status === 'Stopped';
}

export function canTransition(from: ProcessingJobStatus, to: ProcessingJobStatus): boolean {
  return NEXT[from].includes(to);
}
