/**
 * DescribeLogStreams: by name (default) or by last event time, ascending or
 * descending, 1-50 a page. AWS refuses a name prefix with LastEventTime order.
 */
import type { DescribeLogStreamsRequest, DescribeLogStreamsResponse, LogStream } from '@aws-sdk/client-cloudwatch-logs';
import { InvalidParameterException } from '../errors';
import type { JsonHandler } from '../registry';
import type { StreamInfo, StreamOrder } from '../../logs/log-store';
import type { LogsApiDeps } from './deps';
import { requireGroup } from './group-ref';
import { pageToken, parsePageToken } from './tokens';

export function logStreamHandlers(d: LogsApiDeps): Record<string, JsonHandler> {
  const toWire = (s: StreamInfo): LogStream => ({
    logStreamName: s.name,
    creationTime: s.creationTime,
    ...(s.firstEvent !== undefined ? { firstEventTimestamp: s.firstEvent } : {}),
    ...(s.lastEvent !== undefined ? { lastEventTimestamp: s.lastEvent } : {}),
    ...(s.lastIngestion !== undefined ? { lastIngestionTime: s.lastIngestion } : {}),
    arn: `${d.arns.logGroup(s.groupName)}:log-stream:${s.name}`,
    storedBytes: s.storedBytes,
  });

  const DescribeLogStreams: JsonHandler = (input) => {
    const req = input as DescribeLogStreamsRequest;
    const group = requireGroup(d.store, req);
    const orderBy: StreamOrder = req.orderBy ?? 'LogStreamName';
    if (orderBy === 'LastEventTime' && req.logStreamNamePrefix !== undefined) {
      throw new InvalidParameterException('Cannot order by LastEventTime with a logStreamNamePrefix.');
    }
    const descending = req.descending ?? false;
    const limit = req.limit ?? 50;
    const after = req.nextToken ? parsePageToken<{ name: string; lastEvent: number }>(`streams:${orderBy}:${descending}`, req.nextToken, { name: 'string', lastEvent: 'number' }) : undefined;
    const rows = d.store.listStreams(group, { prefix: req.logStreamNamePrefix, orderBy, descending, after, limit: limit + 1 });
    const page = rows.slice(0, limit);
    const out: DescribeLogStreamsResponse = { logStreams: page.map(toWire) };
    const last = page[page.length - 1];
    if (rows.length > limit && last) out.nextToken = pageToken(`streams:${orderBy}:${descending}`, { name: last.name, lastEvent: last.lastEvent ?? 0 });
    return out;
  };

  return { DescribeLogStreams };
}
