/**
 * The parts of Describe/List/Stop that every job kind shares.
 */
import { ValidationException } from '../../api/errors';
import { InvalidNextTokenError, type ListQuery, type ResourceRepo } from '../../store/resource-repo';
import type { JobInternal } from './types';

/** One page of a List*Jobs operation: summaries plus NextToken only when more pages exist. */
export function listPage<D, S>(repo: ResourceRepo<D, JobInternal>, q: ListQuery, order: 'Ascending' | 'Descending', toSummary: (doc: D) => S): { items: S[]; NextToken?: string } {
  try {
    const { items, nextToken } = repo.list(q, order);
    return { items: items.map((r) => toSummary(r.doc)), ...(nextToken ? { NextToken: nextToken } : {}) };
  } catch (err) {
    if (err instanceof InvalidNextTokenError) throw new ValidationException('Invalid pagination token: pass the NextToken of a previous response unchanged.');
    throw err;
  }
}

/**
 * InProgress -> Stopping, persisted together with the stop request before
 * anything is signalled. Returns false when the job is already Stopping; throws
 * when it has ended. `statusField` is the Describe member (ProcessingJobStatus, ...).
 */
export function markStopping<D>(repo: ResourceRepo<D, JobInternal>, name: string, statusField: keyof D & string, what: string, nowS: number): boolean {
  const row = repo.get(name);
  if (!row) throw new ValidationException('Requested resource not found.');
  if (row.status === 'Stopping') return false;
  if (row.status !== 'InProgress') throw new ValidationException(`The ${what} ${row.name} is in status ${row.status} and can no longer be stopped.`);
  repo.update(name, (r) => {
    (r.doc as Record<string, unknown>)[statusField] = 'Stopping';
    (r.doc as Record<string, unknown>).LastModifiedTime = nowS;
    r.status = 'Stopping';
    r.lastModifiedTime = nowS;
    r.internal.stop ??= 'user';
  });
  return true;
}
