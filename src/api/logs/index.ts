/**
 * The CloudWatch Logs subset sagebox serves (awsJson1_1, target prefix
 * Logs_20140328): what the SageMaker Python SDK, the AWS CLI (`aws logs
 * tail`, get-log-events, filter-log-events) and `sagebox logs` read.
 */
import type { JsonHandler } from '../registry';
import type { LogsApiDeps } from './deps';
import { filterLogEventsHandlers } from './filter-log-events';
import { getLogEventsHandlers } from './get-log-events';
import { logGroupHandlers } from './log-groups';
import { logStreamHandlers } from './log-streams';

export type { LogsApiDeps } from './deps';

export function logsHandlers(d: LogsApiDeps): Record<string, JsonHandler> {
  return { ...logGroupHandlers(d), ...logStreamHandlers(d), ...getLogEventsHandlers(d), ...filterLogEventsHandlers(d) };
}
