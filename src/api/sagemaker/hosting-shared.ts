/**
 * What the model, endpoint-configuration and endpoint operations share: their
 * dependencies, the List* query, and the wording of missing and duplicate
 * resources (spec 3.1: "Cannot create already existing ...", "Could not find ...").
 */
import type { AppContext } from '../../app/context';
import type { FleetManager } from '../../jobs/endpoints/fleet-manager';
import type { HostingRepos } from '../../jobs/endpoints/repos';
import { InvalidNextTokenError, type ListQuery, type ResourceRepo, type ResourceRow } from '../../store/resource-repo';
import { ValidationException } from '../errors';

export interface HostingDeps {
  ctx: AppContext;
  repos: HostingRepos;
  fleet: FleetManager;
}

export type HostingType = 'model' | 'endpoint-config' | 'endpoint';

const NOUN: Record<HostingType, string> = { model: 'model', 'endpoint-config': 'endpoint configuration', endpoint: 'endpoint' };

export function alreadyExists(deps: HostingDeps, type: HostingType, name: string): ValidationException {
  return new ValidationException(`Cannot create already existing ${NOUN[type]} "${deps.ctx.arns.of(type, name)}".`);
}

export function notFound(deps: HostingDeps, type: HostingType, name: string): ValidationException {
  return new ValidationException(`Could not find ${NOUN[type]} "${deps.ctx.arns.of(type, name)}".`);
}

/** The row, or the "Could not find" error. */
export function getOrThrow<D, I>(deps: HostingDeps, repo: ResourceRepo<D, I>, type: HostingType, name: string): ResourceRow<D, I> {
  const row = repo.get(name);
  if (!row) throw notFound(deps, type, name);
  return row;
}

export function listQuery(input: Record<string, unknown>): ListQuery {
  const q: ListQuery = {};
  for (const k of ['NameContains', 'StatusEquals', 'SortBy', 'SortOrder', 'NextToken'] as const) {
    if (typeof input[k] === 'string') q[k] = input[k] as string;
  }
  for (const k of ['CreationTimeAfter', 'CreationTimeBefore', 'LastModifiedTimeAfter', 'LastModifiedTimeBefore', 'MaxResults'] as const) {
    if (typeof input[k] === 'number') q[k] = input[k] as number;
  }
  return q;
}

/** repo.list with the AWS error for a bad NextToken. */
export function listRows<D, I>(repo: ResourceRepo<D, I>, input: Record<string, unknown>): { items: ResourceRow<D, I>[]; nextToken?: string } {
  try {
    return repo.list(listQuery(input), 'Descending');
  } catch (err) {
    if (err instanceof InvalidNextTokenError) throw new ValidationException('Invalid pagination token');
    throw err;
  }
}

/** A page of a List* answer: the items under `key`, NextToken only when there is more. */
export function page<T>(key: string, items: T[], nextToken: string | undefined): Record<string, unknown> {
  return nextToken ? { [key]: items, NextToken: nextToken } : { [key]: items };
}
