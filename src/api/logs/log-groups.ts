/**
 * DescribeLogGroups, PutRetentionPolicy, DeleteLogGroup.
 */
import type { DescribeLogGroupsRequest, DescribeLogGroupsResponse, DeleteLogGroupRequest, LogGroup, PutRetentionPolicyRequest } from '@aws-sdk/client-cloudwatch-logs';
import { InvalidParameterException, logGroupNotFound } from '../errors';
import type { JsonHandler } from '../registry';
import type { LogsApiDeps } from './deps';
import { pageToken, parsePageToken } from './tokens';

/** The retention periods CloudWatch Logs accepts, in days. */
export const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

export function logGroupHandlers(d: LogsApiDeps): Record<string, JsonHandler> {
  const DescribeLogGroups: JsonHandler = (input) => {
    const req = input as DescribeLogGroupsRequest;
    if (req.logGroupNamePrefix !== undefined && req.logGroupNamePattern !== undefined) {
      throw new InvalidParameterException('LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.');
    }
    const limit = req.limit ?? 50;
    const after = req.nextToken ? parsePageToken<{ name: string }>('groups', req.nextToken, { name: 'string' }).name : undefined;
    const rows = d.store.groups({ prefix: req.logGroupNamePrefix, contains: req.logGroupNamePattern || undefined, after, limit: limit + 1 });
    const page = rows.slice(0, limit);
    const logGroups: LogGroup[] = page.map((g) => {
      const retention = g.retentionDays ?? (d.defaultRetentionDays > 0 ? d.defaultRetentionDays : undefined);
      return {
        logGroupName: g.name,
        creationTime: g.creationTime,
        ...(retention !== undefined ? { retentionInDays: retention } : {}),
        metricFilterCount: 0,
        arn: `${d.arns.logGroup(g.name)}:*`,
        storedBytes: g.storedBytes,
        logGroupClass: 'STANDARD',
        logGroupArn: d.arns.logGroup(g.name),
      };
    });
    const out: DescribeLogGroupsResponse = { logGroups };
    const last = page[page.length - 1];
    if (rows.length > limit && last) out.nextToken = pageToken('groups', { name: last.name });
    return out;
  };

  const PutRetentionPolicy: JsonHandler = (input) => {
    const req = input as unknown as PutRetentionPolicyRequest;
    const days = req.retentionInDays!;
    if (!(RETENTION_DAYS as readonly number[]).includes(days)) {
      throw new InvalidParameterException(
        `1 validation error detected: Value '${days}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [${RETENTION_DAYS.join(', ')}]`,
      );
    }
    if (!d.store.setRetention(req.logGroupName!, days)) throw logGroupNotFound();
    d.logger.info({ logGroup: req.logGroupName, retentionInDays: days }, 'log group retention set');
    return {};
  };

  const DeleteLogGroup: JsonHandler = async (input) => {
    const req = input as unknown as DeleteLogGroupRequest;
    const started = Date.now();
    if (!(await d.store.deleteGroup(req.logGroupName!))) throw logGroupNotFound();
    d.logger.info({ logGroup: req.logGroupName, ms: Date.now() - started }, 'log group deleted');
    return {};
  };

  return { DescribeLogGroups, PutRetentionPolicy, DeleteLogGroup };
}
