/**
 * The training job status machine (spec 1.9), in one place: the primary
 * statuses, the SecondaryStatus steps with the messages SageMaker prints, the
 * allowed primary transitions and the terminal predicate.
 *
 * SecondaryStatusTransitions keep one entry per secondary status: moving to a
 * new status closes the previous entry (EndTime) and opens the next; a new
 * message within the same status rewrites the last entry's StatusMessage, as
 * the service does while a step makes progress.
 */
import type { SecondaryStatus, TrainingJobStatus } from '@aws-sdk/client-sagemaker';

export type PrimaryStatus = `${TrainingJobStatus}`;
export type Secondary = `${SecondaryStatus}`;

export interface Transition {
  Status: Secondary;
  /** Epoch seconds. */
  StartTime: number;
  EndTime?: number;
  StatusMessage: string;
}

/** The documents' status members this module owns. */
export interface StatusFields {
  TrainingJobStatus?: PrimaryStatus;
  SecondaryStatus?: Secondary;
  SecondaryStatusTransitions?: Transition[];
}

/** One step of the secondary status sequence: its status and message. */
export interface Step {
  primary: PrimaryStatus;
  secondary: Secondary;
  message: string;
}

const step = (primary: PrimaryStatus, secondary: Secondary, message: string): Step => ({ primary, secondary, message });

/** The observed successful sequence, then the stop and failure ends (spec 1.9). */
export const STEPS = {
  created: step('InProgress', 'Starting', 'Starting the training job'),
  launching: step('InProgress', 'Starting', 'Launching requested ML instances'),
  preparing: step('InProgress', 'Starting', 'Preparing the instances for training'),
  downloadingData: step('InProgress', 'Downloading', 'Downloading input data'),
  downloadingImage: step('InProgress', 'Downloading', 'Downloading the training image'),
  training: step('InProgress', 'Training', 'Training image download completed. Training in progress.'),
  uploading: step('InProgress', 'Uploading', 'Uploading generated training model'),
  completed: step('Completed', 'Completed', 'Training job completed'),
  stopping: step('Stopping', 'Stopping', 'Stopping the training job'),
  stopped: step('Stopped', 'Stopped', 'Training job stopped'),
  // Recalled from SDK console output of real jobs; not in the AWS docs.
  maxRuntimeExceeded: step('Stopped', 'MaxRuntimeExceeded', 'Training job runtime exceeded MaxRuntimeInSeconds provided'),
  // The service's failure message is not documented (spec 1.9: [U]).
  failed: step('Failed', 'Failed', 'Training job failed'),
} as const;

const TERMINAL: ReadonlySet<PrimaryStatus> = new Set(['Completed', 'Failed', 'Stopped']);

export const isTerminal = (status: string | undefined): boolean => status !== undefined && TERMINAL.has(status as PrimaryStatus);

/** Which primary statuses may follow which. Deleting is never entered by sagebox. */
const NEXT: Record<PrimaryStatus, readonly PrimaryStatus[]> = {
  InProgress: ['InProgress', 'Stopping', 'Completed', 'Failed', 'Stopped'],
  Stopping: ['Stopping', 'Stopped', 'Failed'],
  Completed: [],
  Failed: [],
  Stopped: [],
  Deleting: [],
};

export const canMove = (from: PrimaryStatus | undefined, to: PrimaryStatus): boolean => from === undefined || NEXT[from].includes(to);

/**
 * Applies a step to a document in place. Returns false (and changes nothing)
 * when the primary transition is not allowed, e.g. a late progress message
 * arriving after the job was stopped.
 */
export function applyStep(doc: StatusFields, s: Step, nowSeconds: number): boolean {
  if (!canMove(doc.TrainingJobStatus, s.primary)) return false;
  doc.TrainingJobStatus = s.primary;
  const transitions = (doc.SecondaryStatusTransitions ??= []);
  const last = transitions[transitions.length - 1];
  if (last && last.Status === s.secondary) {
    last.StatusMessage = s.message;
    if (isTerminal(s.primary)) last.EndTime ??= nowSeconds;
  } else {
    if (last) last.EndTime ??= nowSeconds;
    const t: Transition = { Status: s.secondary, StartTime: nowSeconds, StatusMessage: s.message };
    if (isTerminal(s.primary)) t.EndTime = nowSeconds;
    transitions.push(t);
  }
  doc.SecondaryStatus = s.secondary;
  return true;
}

/** Whether the document's current step is exactly `s` (recovery re-runs phases; the history must not repeat). */
export function isAt(doc: StatusFields, s: Step): boolean {
  const last = doc.SecondaryStatusTransitions?.[doc.SecondaryStatusTransitions.length - 1];
  return doc.TrainingJobStatus === s.primary && last?.Status === s.secondary && last.StatusMessage === s.message;
}
