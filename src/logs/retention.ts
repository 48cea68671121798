/**
 * Log retention: events older than their group's retention (PutRetentionPolicy,
 * else config.logRetentionDays; 0 = forever) are deleted by a periodic sweep.
 * Deletion goes in batches, by stream, oldest first, keeping each stream's
 * stored bytes and first-event time right. Streams themselves are kept, as
 * AWS keeps them.
 */
import type { Logger } from 'pino';
import type { Db } from '../store/db';

const BATCH = 20_000;
const DAY_MS = 86_400_000;

export interface SweepResult {
  groups: number;
  events: number;
}

export async function sweepRetention(db: Db, opts: { now: number; defaultDays: number; logger?: Logger }): Promise<SweepResult> {
  const groups = db.prepare('SELECT id, name, retention_days AS days FROM log_groups').all() as { id: number; name: string; days: number | null }[];
  const streamsOf = db.prepare('SELECT id FROM log_streams WHERE group_id = ? AND first_event < ?').pluck();
  const measure = db.prepare(
    `SELECT COUNT(*) AS n, COALESCE(SUM(length(CAST(message AS BLOB))), 0) AS bytes
     FROM (SELECT message FROM log_events WHERE stream_id = ? AND timestamp < ? ORDER BY timestamp, id LIMIT ${BATCH})`,
  );
  const remove = db.prepare(`DELETE FROM log_events WHERE id IN (SELECT id FROM log_events WHERE stream_id = ? AND timestamp < ? ORDER BY timestamp, id LIMIT ${BATCH})`);
  const shrink = db.prepare('UPDATE log_streams SET stored_bytes = MAX(0, stored_bytes - ?) WHERE id = ?');
  const refirst = db.prepare('UPDATE log_streams SET first_event = (SELECT MIN(timestamp) FROM log_events WHERE stream_id = ?) WHERE id = ?');
  const batch = db.transaction((streamId: number, cutoff: number): number => {
    const { n, bytes } = measure.get(streamId, cutoff) as { n: number; bytes: number };
    if (n === 0) return 0;
    remove.run(streamId, cutoff);
    shrink.run(bytes, streamId);
    return n;
  });

  const result: SweepResult = { groups: 0, events: 0 };
  for (const g of groups) {
    const days = g.days ?? opts.defaultDays;
    if (!days || days <= 0) continue;
    const cutoff = opts.now - days * DAY_MS;
    let deleted = 0;
    for (const streamId of streamsOf.all(g.id, cutoff) as number[]) {
      for (;;) {
        const n = batch(streamId, cutoff);
        deleted += n;
        if (n < BATCH) break;
        await new Promise((r) => setImmediate(r)); // let requests in between batches
      }
      refirst.run(streamId, streamId);
    }
    if (deleted > 0) {
      result.groups++;
      result.events += deleted;
      opts.logger?.info({ logGroup: g.name, retentionInDays: days, deletedEvents: deleted }, 'expired log events deleted');
    }
  }
  return result;
}
