/**
 * The tags of every SageMaker resource (table resource_tags, migration 2),
 * one row per key, keyed like the resource (kind, lower-cased name) and
 * deleted with it. Keys keep the order they were first added in.
 */
import type { Db } from './db';

export interface Tag {
  Key: string;
  Value: string;
}

/** A tag as requests carry it (the SDK types every member optional; the validator has required Key and Value). */
export type TagInput = { Key?: string; Value?: string };

export class ResourceTags {
  constructor(private readonly db: Db) {}

  /** Adds tags, replacing the value of a key the resource has (the key keeps its place). */
  put(kind: string, name: string, tags: readonly TagInput[]): void {
    const upsert = this.db.prepare(
      `INSERT INTO resource_tags (kind, name_key, key, value) VALUES (?, ?, ?, ?)
       ON CONFLICT (kind, name_key, key) DO UPDATE SET value = excluded.value`,
    );
    for (const t of tags) upsert.run(kind, name.toLowerCase(), t.Key, t.Value ?? '');
  }

  /** Removes the keys; keys the resource does not have are ignored. */
  remove(kind: string, name: string, keys: readonly string[]): void {
    const del = this.db.prepare('DELETE FROM resource_tags WHERE kind = ? AND name_key = ? AND key = ?');
    for (const k of keys) del.run(kind, name.toLowerCase(), k);
  }

  count(kind: string, name: string): number {
    return this.db.prepare('SELECT count(*) FROM resource_tags WHERE kind = ? AND name_key = ?').pluck().get(kind, name.toLowerCase()) as number;
  }

  /** The resource's tags in order, from `offset`, at most `limit` (all when omitted). */
  list(kind: string, name: string, offset = 0, limit = -1): Tag[] {
    return this.db
      .prepare('SELECT key AS Key, value AS Value FROM resource_tags WHERE kind = ? AND name_key = ? ORDER BY id LIMIT ? OFFSET ?')
      .all(kind, name.toLowerCase(), limit, offset) as Tag[];
  }
}
