/**
 * FilterLogEvents: the events of several streams of a group (named, or by
 * prefix, or all), interleaved by (timestamp, ingestion order), matching a
 * filter pattern (src/logs/filter-pattern.ts). A page holds up to `limit`
 * events and 1 MB; a page may also stop after scanning SCAN_BUDGET events, so
 * a rare pattern over a big group answers promptly with a nextToken. Events
 * come oldest first unless startFromHead is false.
 */
import type { FilterLogEventsRequest, FilterLogEventsResponse, FilteredLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import { InvalidParameterException } from '../errors';
import type { JsonHandler } from '../registry';
import { compileFilterPattern, FilterPatternError, type LineMatcher } from '../../logs/filter-pattern';
import type { EventKey, StreamInfo } from '../../logs/log-store';
import { StreamMerger, type MergedEvent } from '../../logs/stream-merge';
import { PAGE_BYTES, eventBytes, type LogsApiDeps } from './deps';
import { requireGroup } from './group-ref';
import { pageToken, parsePageToken } from './tokens';

const SCAN_BUDGET = 200_000;

export const eventIdOf = (e: { id: number }): string => String(e.id).padStart(20, '0');

function matcherFor(pattern: string | undefined): LineMatcher {
  try {
    return compileFilterPattern(pattern);
  } catch (e) {
    if (e instanceof FilterPatternError) throw new InvalidParameterException(`Invalid filter pattern: ${e.message}`);
    throw e;
  }
}

export function filterLogEventsHandlers(d: LogsApiDeps): Record<string, JsonHandler> {
  const FilterLogEvents: JsonHandler = (input) => {
    const req = input as FilterLogEventsRequest;
    const group = requireGroup(d.store, req);
    if (req.logStreamNames !== undefined && req.logStreamNamePrefix !== undefined) {
      throw new InvalidParameterException('logStreamNames and logStreamNamePrefix are mutually exclusive parameters.');
    }
    if (req.startTime !== undefined && req.endTime !== undefined && req.endTime < req.startTime) {
      throw new InvalidParameterException('endTime must not be earlier than startTime.');
    }
    const match = matcherFor(req.filterPattern);
    const limit = req.limit ?? 10_000;
    const descending = req.startFromHead === false;
    let streams: StreamInfo[];
    if (req.logStreamNames) {
      const wanted = new Set(req.logStreamNames);
      streams = d.store.streams(group).filter((s) => wanted.has(s.name));
    } else {
      streams = d.store.streams(group, req.logStreamNamePrefix ?? '');
    }

    const kind = descending ? 'filter:desc' : 'filter';
    let from: EventKey = descending ? { timestamp: Number.MAX_SAFE_INTEGER, id: Number.MAX_SAFE_INTEGER } : { timestamp: Number.MIN_SAFE_INTEGER, id: 0 };
    if (req.nextToken) from = parsePageToken<{ timestamp: number; id: number }>(kind, req.nextToken, { timestamp: 'number', id: 'number' });

    const merger = new StreamMerger(d.store, streams, from, { startTime: req.startTime, endTime: req.endTime }, descending);
    const events: FilteredLogEvent[] = [];
    let bytes = 0;
    let scanned = 0;
    let lastKey: EventKey | undefined;
    for (let e: MergedEvent | undefined = merger.peek(); e; e = merger.peek()) {
      if (events.length >= limit || scanned >= SCAN_BUDGET) break;
      if (match(e.message)) {
        const size = eventBytes(e.message);
        if (bytes + size > PAGE_BYTES && events.length > 0) break;
        bytes += size;
        events.push({ logStreamName: e.streamName, timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime, eventId: eventIdOf(e) });
      }
      merger.next();
      scanned++;
      lastKey = { timestamp: e.timestamp, id: e.id };
    }
    const more = merger.peek() !== undefined;
    const out: FilterLogEventsResponse = {
      events,
      searchedLogStreams: streams.map((s) => ({ logStreamName: s.name, searchedCompletely: !more })),
    };
    if (more && lastKey) out.nextToken = pageToken(kind, { timestamp: lastKey.timestamp, id: lastKey.id });
    return out;
  };
  return { FilterLogEvents };
}
