import type { Logger } from 'pino';
import type { LogStore } from '../../logs/log-store';
import type { Arns } from '../../util/arn';

/** What the CloudWatch Logs handlers are built with. */
export interface LogsApiDeps {
  store: LogStore;
  arns: Arns;
  /** config.logRetentionDays: applies to groups without a PutRetentionPolicy; 0 = forever. */
  defaultRetentionDays: number;
  logger: Logger;
}

/** CloudWatch Logs' limit on one page of events: 1 MB, counting 26 bytes of overhead per event. */
export const PAGE_BYTES = 1_048_576;
export const EVENT_OVERHEAD = 26;
export const eventBytes = (message: string): number => Buffer.byteLength(message) + EVENT_OVERHEAD;
