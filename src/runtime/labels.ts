/**
 * Every label sagebox puts on containers and networks, in one place. The
 * labels say who owns a Docker object, so that a restarted server can find its
 * own objects again and reap the ones nothing owns any more.
 */

export const LABEL_PREFIX = 'sagebox.';

export const LABELS = {
  /** Which sagebox server (its instance id) owns the object. */
  instance: 'sagebox.instance',
  /** The kind of SageMaker resource it belongs to (ResourceKind). */
  kind: 'sagebox.kind',
  /** The resource's name: the job name or the endpoint name. */
  resource: 'sagebox.resource',
  /** The resource's ARN. */
  arn: 'sagebox.arn',
  /** The SageMaker host name of the container: algo-1, algo-2, ... */
  host: 'sagebox.host',
  /** Which attempt of the resource created it (1-based; retries and endpoint updates bump it). */
  attempt: 'sagebox.attempt',
  /** For endpoints: the production variant the container serves. */
  variant: 'sagebox.variant',
} as const;

export type ResourceKind = 'training-job' | 'processing-job' | 'transform-job' | 'endpoint';

export const RESOURCE_KINDS: readonly ResourceKind[] = ['training-job', 'processing-job', 'transform-job', 'endpoint'];

/** What the labels say about an object's owner. */
export interface Owner {
  instance: string;
  kind: ResourceKind;
  resource: string;
  arn?: string;
  attempt?: number;
}

export interface ContainerOwner extends Owner {
  host?: string;
  variant?: string;
}

function put(labels: Record<string, string>, key: string, value: string | number | undefined): void {
  if (value !== undefined) labels[key] = String(value);
}

/** Labels for a network (or anything else owned by a resource as a whole). */
export function ownerLabels(owner: Owner): Record<string, string> {
  const labels: Record<string, string> = {};
  put(labels, LABELS.instance, owner.instance);
  put(labels, LABELS.kind, owner.kind);
  put(labels, LABELS.resource, owner.resource);
  put(labels, LABELS.arn, owner.arn);
  put(labels, LABELS.attempt, owner.attempt);
  return labels;
}

/** Labels for one container of a resource. */
export function containerLabels(owner: ContainerOwner): Record<string, string> {
  const labels = ownerLabels(owner);
  put(labels, LABELS.host, owner.host);
  put(labels, LABELS.variant, owner.variant);
  return labels;
}

/** The label filter that selects everything one sagebox server owns. */
export function instanceSelector(instanceId: string): Record<string, string> {
  return { [LABELS.instance]: instanceId };
}

/** Reads the owner back from an object's labels; undefined when they are not sagebox's or incomplete. */
export function parseOwner(labels: Record<string, string> | undefined): ContainerOwner | undefined {
  if (!labels) return undefined;
  const instance = labels[LABELS.instance];
  const kind = labels[LABELS.kind];
  const resource = labels[LABELS.resource];
  if (!instance || !resource || !isResourceKind(kind)) return undefined;
  const owner: ContainerOwner = { instance, kind, resource };
  const attempt = Number(labels[LABELS.attempt]);
  if (labels[LABELS.arn]) owner.arn = labels[LABELS.arn];
  if (Number.isInteger(attempt) && attempt > 0) owner.attempt = attempt;
  if (labels[LABELS.host]) owner.host = labels[LABELS.host];
  if (labels[LABELS.variant]) owner.variant = labels[LABELS.variant];
  return owner;
}

export function isResourceKind(value: unknown): value is ResourceKind {
  return typeof value === 'string' && (RESOURCE_KINDS as readonly string[]).includes(value);
}
