/**
 * The status machine algorithms and model packages share (spec 6.1, 6.3):
 *
 *   Pending -> InProgress -> Completed | Failed
 *
 * A resource without a ValidationSpecification is Completed at once. With
 * one, the validation runner moves it: InProgress while the profile's jobs
 * run, then Completed or Failed. Each validation profile has one status item
 * (NotStarted -> InProgress -> Completed | Failed, with FailureReason), and
 * the runner's own progress (which step, which jobs) lives beside it in the
 * row's internal state, persisted before each job is created.
 */

export type ProductStatus = 'Pending' | 'InProgress' | 'Completed' | 'Failed' | 'Deleting';
export type ItemStatus = 'NotStarted' | 'InProgress' | 'Completed' | 'Failed';

export interface StatusItem {
  Name: string;
  Status: ItemStatus;
  FailureReason?: string;
}

/** Statuses the validation runner still has work in. */
export const VALIDATING: readonly ProductStatus[] = ['Pending', 'InProgress'];

export type ValidationStep = 'training' | 'transform' | 'done';

/** The runner's progress through one validation profile. */
export interface ValidationProgress {
  profile: string;
  step: ValidationStep;
  /** Names chosen (and persisted) before the job or model is created. */
  trainingJob?: string;
  model?: string;
  transformJob?: string;
  /** The model data the transform's model serves (the training job's artifacts, or the package's). */
  modelDataUrl?: string;
}

export interface ValidatedInternal {
  validation?: ValidationProgress;
  [k: string]: unknown;
}

/** The item list a new resource starts with: one NotStarted item per profile. */
export function initialItems(profiles: readonly { ProfileName?: string }[]): StatusItem[] {
  return profiles.map((p) => ({ Name: p.ProfileName ?? 'ValidationProfile', Status: 'NotStarted' }));
}

/** Sets the status of the named item in place. */
export function setItem(items: StatusItem[], name: string, status: ItemStatus, failureReason?: string): void {
  const item = items.find((i) => i.Name === name);
  const next: StatusItem = failureReason ? { Name: name, Status: status, FailureReason: failureReason } : { Name: name, Status: status };
  if (item) Object.assign(item, next, failureReason ? {} : { FailureReason: undefined });
  else items.push(next);
  for (const i of items) if (i.FailureReason === undefined) delete i.FailureReason;
}
