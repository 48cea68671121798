/**
 * Container log lines, kept in SQLite in CloudWatch Logs' shape: groups,
 * streams, events. Writers go through LogSink (batched, one transaction per
 * flush); the CloudWatch Logs API and `sagebox logs` read through this class.
 */
import type { Db } from '../store/db';

export interface LogEvent {
  timestamp: number; // epoch ms
  message: string;
}
export interface StoredEvent extends LogEvent {
  id: number;
  ingestionTime: number;
  streamName: string;
}
export interface StreamInfo {
  id: number;
  groupName: string;
  name: string;
  creationTime: number;
  firstEvent?: number;
  lastEvent?: number;
  lastIngestion?: number;
  storedBytes: number;
  lastRawTs?: string;
}

/** Normalises an RFC 3339 timestamp with up to 9 fractional digits so strings compare in time order. */
export function normaliseRawTs(raw: string): string {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/.exec(raw);
  if (!m) return raw;
  return `${m[1]}.${(m[2] ?? '').padEnd(9, '0').slice(0, 9)}Z`;
}

interface StreamRow {
  id: number;
  group_name: string;
  name: string;
  creation_time: number;
  first_event: number | null;
  last_event: number | null;
  last_ingestion: number | null;
  stored_bytes: number;
  last_raw_ts: string | null;
}
const toInfo = (r: StreamRow): StreamInfo => ({
  id: r.id,
  groupName: r.group_name,
  name: r.name,
  creationTime: r.creation_time,
  firstEvent: r.first_event ?? undefined,
  lastEvent: r.last_event ?? undefined,
  lastIngestion: r.last_ingestion ?? undefined,
  storedBytes: r.stored_bytes,
  lastRawTs: r.last_raw_ts ?? undefined,
});

export class LogStore {
  private readonly streamIds = new Map<string, number>();
  constructor(private readonly db: Db, private readonly now: () => number = Date.now) {}

  ensureGroup(group: string): number {
    this.db.prepare('INSERT OR IGNORE INTO log_groups (name, creation_time) VALUES (?, ?)').run(group, this.now());
    return this.db.prepare('SELECT id FROM log_groups WHERE name = ?').pluck().get(group) as number;
  }

  ensureStream(group: string, stream: string, creationTime = this.now()): number {
    const key = `${group}\u0000${stream}`;
    const cached = this.streamIds.get(key);
    if (cached !== undefined) return cached;
    const id = this.db.transaction(() => {
      const gid = this.ensureGroup(group);
      this.db.prepare('INSERT OR IGNORE INTO log_streams (group_id, name, creation_time) VALUES (?, ?, ?)').run(gid, stream, creationTime);
      return this.db.prepare('SELECT id FROM log_streams WHERE group_id = ? AND name = ?').pluck().get(gid, stream) as number;
    })();
    this.streamIds.set(key, id);
    return id;
  }

  /** Appends events to one stream in one transaction; lastRawTs marks how far a re-attach may skip. */
  append(streamId: number, events: LogEvent[], lastRawTs?: string): void {
    if (!events.length) return;
    const ingestion = this.now();
    const ins = this.db.prepare('INSERT INTO log_events (stream_id, timestamp, ingestion_time, message) VALUES (?, ?, ?, ?)');
    this.db.transaction(() => {
      let bytes = 0;
      let first = Infinity;
      let last = -Infinity;
      for (const e of events) {
        ins.run(streamId, e.timestamp, ingestion, e.message);
        bytes += Buffer.byteLength(e.message);
        if (e.timestamp < first) first = e.timestamp;
        if (e.timestamp > last) last = e.timestamp;
      }
      this.db
        .prepare(
          `UPDATE log_streams SET first_event = COALESCE(MIN(first_event, ?), ?), last_event = MAX(COALESCE(last_event, ?), ?),
             last_ingestion = ?, stored_bytes = stored_bytes + ?, last_raw_ts = COALESCE(?, last_raw_ts) WHERE id = ?`,
        )
        .run(first, first, last, last, ingestion, bytes, lastRawTs ?? null, streamId);
    })();
  }

  stream(group: string, stream: string): StreamInfo | undefined {
    const r = this.db
      .prepare('SELECT s.*, g.name AS group_name FROM log_streams s JOIN log_groups g ON g.id = s.group_id WHERE g.name = ? AND s.name = ?')
      .get(group, stream) as StreamRow | undefined;
    return r ? toInfo(r) : undefined;
  }

  groupExists(group: string): boolean {
    return this.db.prepare('SELECT 1 FROM log_groups WHERE name = ?').get(group) !== undefined;
  }

  /** Streams of a group whose name starts with prefix, by name. */
  streams(group: string, prefix = ''): StreamInfo[] {
    const rows = this.db
      .prepare(`SELECT s.*, g.name AS group_name FROM log_streams s JOIN log_groups g ON g.id = s.group_id WHERE g.name = ? AND substr(s.name, 1, ?) = ? ORDER BY s.name`)
      .all(group, prefix.length, prefix) as StreamRow[];
    return rows.map(toInfo);
  }

  /** Events of one stream in (timestamp, ingestion) order, after the event id `afterId`. */
  events(streamId: number, opts: { afterId?: number; startTime?: number; endTime?: number; limit?: number } = {}): StoredEvent[] {
    const where = ['e.stream_id = ?'];
    const args: unknown[] = [streamId];
    if (opts.startTime !== undefined) {
      where.push('e.timestamp >= ?');
      args.push(opts.startTime);
    }
    if (opts.endTime !== undefined) {
      where.push('e.timestamp < ?');
      args.push(opts.endTime);
    }
    if (opts.afterId !== undefined) {
      where.push('e.id > ?');
      args.push(opts.afterId);
    }
    return this.db
      .prepare(
        `SELECT e.id, e.timestamp, e.ingestion_time AS ingestionTime, e.message, s.name AS streamName FROM log_events e JOIN log_streams s ON s.id = e.stream_id
         WHERE ${where.join(' AND ')} ORDER BY e.timestamp, e.id LIMIT ?`,
      )
      .all(...args, opts.limit ?? 10000) as StoredEvent[];
  }

  /** Removes every stream of `group` whose name starts with `prefix` (a job's logs). */
  deleteStreams(group: string, prefix: string): void {
    this.db
      .prepare('DELETE FROM log_streams WHERE group_id = (SELECT id FROM log_groups WHERE name = ?) AND substr(name, 1, ?) = ?')
      .run(group, prefix.length, prefix);
    for (const k of [...this.streamIds.keys()]) if (k.startsWith(`${group}\u0000${prefix}`)) this.streamIds.delete(k);
  }
}

/**
 * Buffers lines for one stream and writes them in batches (every `flushMs` or
 * `maxBatch` lines), so a chatty container costs one transaction per batch.
 * close() flushes what is left.
 */
export class LogSink {
  private buf: LogEvent[] = [];
  private lastRaw?: string;
  private timer?: NodeJS.Timeout;
  constructor(
    private readonly store: LogStore,
    readonly streamId: number,
    private readonly flushMs = 200,
    private readonly maxBatch = 5000,
  ) {}

  write(e: LogEvent, rawTs?: string): void {
    this.buf.push(e);
    if (rawTs) this.lastRaw = normaliseRawTs(rawTs);
    if (this.buf.length >= this.maxBatch) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), this.flushMs);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.buf.length) return;
    const batch = this.buf;
    this.buf = [];
    this.store.append(this.streamId, batch, this.lastRaw);
  }

  close(): void {
    this.flush();
  }
}
