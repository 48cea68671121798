/**
 * GetLogEvents: one stream, in (timestamp, ingestion) order, startTime
 * inclusive and endTime exclusive, pages of up to `limit` events (10,000) and
 * 1 MB. Without a token it reads from the head (startFromHead) or the tail.
 * At the end of the stream a forward read answers `events: []` with the token
 * it was given, which is how the SageMaker Python SDK's tail loop knows to stop.
 */
import type { GetLogEventsRequest, GetLogEventsResponse, OutputLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import type { JsonHandler } from '../registry';
import type { EventKey, PageEvent } from '../../logs/log-store';
import { PAGE_BYTES, eventBytes, type LogsApiDeps } from './deps';
import { groupNameOf, requireStream } from './group-ref';
import { parsePositionToken, positionToken, type Direction } from './tokens';

const HEAD: EventKey = { timestamp: Number.MIN_SAFE_INTEGER, id: 0 };
const TAIL: EventKey = { timestamp: Number.MAX_SAFE_INTEGER, id: Number.MAX_SAFE_INTEGER };

/** Keeps events (in reading order) while they fit in one page's bytes; at least one. */
function fitPage(events: PageEvent[]): PageEvent[] {
  let bytes = 0;
  for (let i = 0; i < events.length; i++) {
    bytes += eventBytes(events[i]!.message);
    if (bytes > PAGE_BYTES && i > 0) return events.slice(0, i);
  }
  return events;
}

export function getLogEventsHandlers(d: LogsApiDeps): Record<string, JsonHandler> {
  const GetLogEvents: JsonHandler = (input) => {
    const req = input as unknown as GetLogEventsRequest;
    const group = groupNameOf(req);
    const stream = requireStream(d.store, group, req.logStreamName!);
    const limit = req.limit ?? 10_000;
    const range = { startTime: req.startTime, endTime: req.endTime };

    let dir: Direction;
    let from: EventKey;
    if (req.nextToken) {
      ({ dir, key: from } = parsePositionToken(req.nextToken));
    } else {
      dir = req.startFromHead ? 'f' : 'b';
      from = dir === 'f' ? HEAD : TAIL;
    }
    const events =
      dir === 'f'
        ? fitPage(d.store.eventsAfter(stream.id, from, range, limit))
        : fitPage(d.store.eventsBefore(stream.id, from, range, limit)).reverse();

    const first = events[0];
    const last = events[events.length - 1];
    let forward: string;
    let backward: string;
    if (first && last) {
      forward = positionToken('f', last);
      backward = positionToken('b', first);
    } else if (req.nextToken) {
      // Nothing more this way: hand back the same token, and the opposite one from the same place.
      forward = dir === 'f' ? req.nextToken : positionToken('f', { timestamp: from.timestamp, id: from.id - 1 });
      backward = dir === 'b' ? req.nextToken : positionToken('b', { timestamp: from.timestamp, id: from.id + 1 });
    } else {
      const start = { timestamp: req.startTime ?? 0, id: 0 };
      forward = positionToken('f', start);
      backward = positionToken('b', start);
    }
    const out: GetLogEventsResponse = {
      events: events.map((e): OutputLogEvent => ({ timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime })),
      nextForwardToken: forward,
      nextBackwardToken: backward,
    };
    return out;
  };
  return { GetLogEvents };
}
