/**
 * The transform job status machine (spec 4.4), in one place:
 *
 *   InProgress --StopTransformJob--> Stopping --> Stopped
 *   InProgress --every input object transformed--> Completed
 *   InProgress --an object failed, a container died, a ClientError--> Failed
 *   Stopping   --a ClientError found before the stop took effect--> Failed
 *
 * Completed, Failed and Stopped are terminal. A stopped job never becomes
 * Completed and stores no output.
 */
export type TransformJobStatus = 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped';

const NEXT: Record<TransformJobStatus, readonly TransformJobStatus[]> = {
  InProgress: ['Stopping', 'Completed', 'Failed', 'Stopped'],
  Stopping: ['Stopped', 'Failed'],
  Completed: [],
  Failed: [],
  Stopped: [],
};

export function isTerminal(status: string | undefined): boolean {
  return status === 'Completed' || status === 'Failed' || status === 'Stopped';
}

export function canTransition(from: TransformJobStatus, to: TransformJobStatus): boolean {
  return NEXT[from].includes(to);
}
