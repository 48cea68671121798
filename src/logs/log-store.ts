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

/** A position in a stream's (timestamp, id) order; pages start strictly after or before one. */
export interface EventKey {
  timestamp: number;
  id: number;
}
/** One event as the read APIs page it. */
export interface PageEvent {
  id: number;
  timestamp: number;
  ingestionTime: number;
  message: string;
}
/** Half-open time range [startTime, endTime) in epoch ms; either side may be open. */
export interface TimeRange {
  startTime?: number;
  endTime?: number;
}
export interface GroupInfo {
  id: number;
  name: string;
  creationTime: number;
  /** Set by PutRetentionPolicy; undefined = the server default (config.logRetentionDays). */
  retentionDays?: number;
  storedBytes: number;
}
export type StreamOrder = 'LogStreamName' | 'LastEventTime';

const MIN_TS = Number.MIN_SAFE_INTEGER;
const MAX_TS = Number.MAX_SAFE_INTEGER;
const DELETE_BATCH = 20_000;

export class LogStore {
  private readonly streamIds = new Map<string, number>();
  /** Names behind every stream id handed out, so a writer whose stream was deleted can re-create it. */
  private readonly streamNames = new Map<number, { group: string; stream: string }>();
  /** Stream ids a writer still holds -> the stream re-created for it after a deletion. */
  private readonly moved = new Map<number, number>();

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
    this.streamNames.set(id, { group, stream });
    return id;
  }

  /**
   * Appends events to one stream in one transaction; lastRawTs marks how far a re-attach may skip.
   * A stream deleted under a running writer (DeleteLogGroup) is re-created, as CloudWatch's agents do.
   */
  append(streamId: number, events: LogEvent[], lastRawTs?: string): void {
    if (!events.length) return;
    const target = this.liveStream(streamId);
    const ingestion = this.now();
    const ins = this.db.prepare('INSERT INTO log_events (stream_id, timestamp, ingestion_time, message) VALUES (?, ?, ?, ?)');
    this.db.transaction(() => {
      let bytes = 0;
      let first = Infinity;
      let last = -Infinity;
      for (const e of events) {
        ins.run(target, e.timestamp, ingestion, e.message);
        bytes += Buffer.byteLength(e.message);
        if (e.timestamp < first) first = e.timestamp;
        if (e.timestamp > last) last = e.timestamp;
      }
      this.db
        .prepare(
          `UPDATE log_streams SET first_event = COALESCE(MIN(first_event, ?), ?), last_event = MAX(COALESCE(last_event, ?), ?),
             last_ingestion = ?, stored_bytes = stored_bytes + ?, last_raw_ts = COALESCE(?, last_raw_ts) WHERE id = ?`,
        )
        .run(first, first, last, last, ingestion, bytes, lastRawTs ?? null, target);
    })();
  }

  private liveStream(streamId: number): number {
    const id = this.moved.get(streamId) ?? streamId;
    if (this.db.prepare('SELECT 1 FROM log_streams WHERE id = ?').get(id) !== undefined) return id;
    const names = this.streamNames.get(streamId);
    if (!names) return id; // not ours: the insert fails loudly
    this.streamIds.delete(`${names.group}\u0000${names.stream}`);
    const fresh = this.ensureStream(names.group, names.stream);
    this.moved.set(streamId, fresh);
    return fresh;
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

  group(name: string): GroupInfo | undefined {
    return this.groups({ exact: name, limit: 1 })[0];
  }

  /** Groups by name: those starting with `prefix`, or containing `contains` (case-sensitive, as AWS), after the name `after`. */
  groups(opts: { prefix?: string; contains?: string; exact?: string; after?: string; limit: number }): GroupInfo[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (opts.exact !== undefined) {
      where.push('g.name = ?');
      args.push(opts.exact);
    }
    if (opts.prefix) {
      where.push('substr(g.name, 1, ?) = ?');
      args.push(opts.prefix.length, opts.prefix);
    }
    if (opts.contains) {
      where.push('instr(g.name, ?) > 0');
      args.push(opts.contains);
    }
    if (opts.after !== undefined) {
      where.push('g.name > ?');
      args.push(opts.after);
    }
    const rows = this.db
      .prepare(
        `SELECT g.id, g.name, g.creation_time AS creationTime, g.retention_days AS retentionDays,
           (SELECT COALESCE(SUM(s.stored_bytes), 0) FROM log_streams s WHERE s.group_id = g.id) AS storedBytes
         FROM log_groups g ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY g.name LIMIT ?`,
      )
      .all(...args, opts.limit) as (Omit<GroupInfo, 'retentionDays'> & { retentionDays: number | null })[];
    return rows.map((r) => ({ ...r, retentionDays: r.retentionDays ?? undefined }));
  }

  /** Sets (or, with undefined, clears) a group's retention in days. False when the group does not exist. */
  setRetention(group: string, days: number | undefined): boolean {
    return this.db.prepare('UPDATE log_groups SET retention_days = ? WHERE name = ?').run(days ?? null, group).changes > 0;
  }

  /** Streams of a group whose name starts with prefix, by name. */
  streams(group: string, prefix = ''): StreamInfo[] {
    const rows = this.db
      .prepare(`SELECT s.*, g.name AS group_name FROM log_streams s JOIN log_groups g ON g.id = s.group_id WHERE g.name = ? AND substr(s.name, 1, ?) = ? ORDER BY s.name`)
      .all(group, prefix.length, prefix) as StreamRow[];
    return rows.map(toInfo);
  }

  /**
   * One page of a group's streams in DescribeLogStreams order: by name, or by
   * last event time (then name); `after` is the last stream of the previous page.
   */
  listStreams(group: string, opts: { prefix?: string; orderBy: StreamOrder; descending: boolean; after?: { name: string; lastEvent: number }; limit: number }): StreamInfo[] {
    const where = ['g.name = ?'];
    const args: unknown[] = [group];
    if (opts.prefix) {
      where.push('substr(s.name, 1, ?) = ?');
      args.push(opts.prefix.length, opts.prefix);
    }
    const cmp = opts.descending ? '<' : '>';
    const dir = opts.descending ? 'DESC' : 'ASC';
    let order: string;
    if (opts.orderBy === 'LastEventTime') {
      order = `COALESCE(s.last_event, 0) ${dir}, s.name ${dir}`;
      if (opts.after) {
        where.push(`(COALESCE(s.last_event, 0), s.name) ${cmp} (?, ?)`);
        args.push(opts.after.lastEvent, opts.after.name);
      }
    } else {
      order = `s.name ${dir}`;
      if (opts.after) {
        where.push(`s.name ${cmp} ?`);
        args.push(opts.after.name);
      }
    }
    const rows = this.db
      .prepare(`SELECT s.*, g.name AS group_name FROM log_streams s JOIN log_groups g ON g.id = s.group_id WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ?`)
      .all(...args, opts.limit) as StreamRow[];
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

  /** Up to `limit` events of a stream strictly after `key`, ascending. */
  eventsAfter(streamId: number, key: EventKey, range: TimeRange, limit: number): PageEvent[] {
    return this.db
      .prepare(
        `SELECT id, timestamp, ingestion_time AS ingestionTime, message FROM log_events
         WHERE stream_id = ? AND (timestamp, id) > (?, ?) AND timestamp >= ? AND timestamp < ?
         ORDER BY timestamp, id LIMIT ?`,
      )
      // The tighter lower bound goes in as the plain range, so the index scan starts at the key.
      .all(streamId, key.timestamp, key.id, Math.max(range.startTime ?? MIN_TS, key.timestamp), range.endTime ?? MAX_TS, limit) as PageEvent[];
  }

  /** Up to `limit` events of a stream strictly before `key`, newest first. */
  eventsBefore(streamId: number, key: EventKey, range: TimeRange, limit: number): PageEvent[] {
    return this.db
      .prepare(
        `SELECT id, timestamp, ingestion_time AS ingestionTime, message FROM log_events
         WHERE stream_id = ? AND (timestamp, id) < (?, ?) AND timestamp >= ? AND timestamp <= ?
         ORDER BY timestamp DESC, id DESC LIMIT ?`,
      )
      .all(streamId, key.timestamp, key.id, range.startTime ?? MIN_TS, Math.min((range.endTime ?? MAX_TS) - 1, key.timestamp), limit) as PageEvent[];
  }

  /** Removes every stream of `group` whose name starts with `prefix` (a job's logs). */
  deleteStreams(group: string, prefix: string): void {
    this.db
      .prepare('DELETE FROM log_streams WHERE group_id = (SELECT id FROM log_groups WHERE name = ?) AND substr(name, 1, ?) = ?')
      .run(group, prefix.length, prefix);
    this.forget(group, prefix);
  }

  /**
   * Removes one job's streams (`<job>/...`) from its group. AWS keeps a job's
   * logs after the job ends, and so does sagebox: features call this only
   * where AWS would drop the logs too.
   */
  deleteJobLogs(group: string, jobName: string): void {
    this.deleteStreams(group, `${jobName}/`);
  }

  /**
   * Deletes a group with its streams and events. Events go in batches, so a
   * large group does not hold the database (and the event loop) for long.
   * False when the group does not exist.
   */
  async deleteGroup(group: string): Promise<boolean> {
    const gid = this.db.prepare('SELECT id FROM log_groups WHERE name = ?').pluck().get(group) as number | undefined;
    if (gid === undefined) return false;
    const del = this.db.prepare(
      `DELETE FROM log_events WHERE id IN (SELECT e.id FROM log_events e JOIN log_streams s ON s.id = e.stream_id WHERE s.group_id = ? LIMIT ${DELETE_BATCH})`,
    );
    while (del.run(gid).changes === DELETE_BATCH) await new Promise((r) => setImmediate(r));
    this.db.prepare('DELETE FROM log_groups WHERE id = ?').run(gid);
    this.forget(group, '');
    return true;
  }

  private forget(group: string, prefix: string): void {
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
