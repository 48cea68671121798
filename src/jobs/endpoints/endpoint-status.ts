/**
 * The EndpointStatus machine (spec 3.2), in one place:
 *
 *   Creating --all instances pass /ping--> InService
 *   Creating --an instance fails-->        Failed          (accepts only DeleteEndpoint)
 *   InService --UpdateEndpoint / UpdateEndpointWeightsAndCapacities--> Updating
 *   Updating --new fleet healthy, traffic switched--> InService
 *   Updating --new fleet unhealthy: rolled back--> InService (FailureReason set)
 *   any --DeleteEndpoint--> Deleting --containers removed--> (gone)
 *
 * sagebox never reports OutOfService, SystemUpdating, RollingBack or
 * UpdateRollbackFailed.
 */
export type EndpointStatus =
  | 'OutOfService' | 'Creating' | 'Updating' | 'SystemUpdating' | 'RollingBack'
  | 'InService' | 'Deleting' | 'Failed' | 'UpdateRollbackFailed';

/** InvokeEndpoint is answered in these states (an update serves from the old fleet). */
export const SERVES_TRAFFIC: ReadonlySet<EndpointStatus> = new Set(['InService', 'Updating']);

/** States a restart resumes work for. */
export const IN_PROGRESS: ReadonlySet<EndpointStatus> = new Set(['Creating', 'Updating', 'Deleting']);

/** Whether UpdateEndpoint / UpdateEndpointWeightsAndCapacities may start now; the refusal text otherwise. */
export function updateRefusal(status: EndpointStatus, arn: string): string | undefined {
  if (status === 'InService') return undefined;
  if (status === 'Failed') return `Cannot update endpoint "${arn}" because it is in Failed status. A failed endpoint can only be deleted.`;
  return `Cannot update in-progress endpoint "${arn}".`;
}
