/**
 * Storage of one kind of SageMaker resource. Each resource module wraps one of
 * these (training-jobs, endpoints, ...). Every write is one transaction, and
 * callers commit a state change before acting on it.
 */
import type { Db } from './db';
import { ResourceTags, type TagInput } from './resource-tags';

export interface ResourceRow<D, I> {
  name: string;
  arn: string;
  status?: string;
  /** Epoch seconds. */
  creationTime: number;
  lastModifiedTime: number;
  doc: D;
  internal: I;
}

export class DuplicateResourceError extends Error {
  constructor(readonly existing: ResourceRow<unknown, unknown>) {
    super(`resource ${existing.name} already exists`);
  }
}

export interface ListQuery {
  NameContains?: string;
  StatusEquals?: string;
  CreationTimeAfter?: number;
  CreationTimeBefore?: number;
  LastModifiedTimeAfter?: number;
  LastModifiedTimeBefore?: number;
  SortBy?: string;
  SortOrder?: string;
  MaxResults?: number;
  NextToken?: string;
}

interface RawRow {
  name: string;
  arn: string;
  status: string | null;
  creation_time: number;
  last_modified_time: number;
  doc: string;
  internal: string;
}

const SORT_COLUMNS: Record<string, string> = { Name: 'name_key', CreationTime: 'creation_time', Status: 'status' };

export class InvalidNextTokenError extends Error {}

/** The opaque NextToken of every offset-paged listing. */
export function offsetToken(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString('base64url');
}

/** The offset in a NextToken from offsetToken (0 when there is none); throws `invalid()` for anything else. */
export function offsetFromToken(token: string | undefined, invalid: () => Error = () => new InvalidNextTokenError('Invalid pagination token')): number {
  if (!token) return 0;
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o?: unknown };
    if (typeof t.o === 'number' && t.o >= 0) return t.o;
  } catch {
    // not base64url JSON: the same error as a wrong offset
  }
  throw invalid();
}

export class ResourceRepo<D, I = Record<string, unknown>> {
  constructor(private readonly db: Db, readonly kind: string) {}

  private toRow(r: RawRow): ResourceRow<D, I> {
    return {
      name: r.name,
      arn: r.arn,
      status: r.status ?? undefined,
      creationTime: r.creation_time,
      lastModifiedTime: r.last_modified_time,
      doc: JSON.parse(r.doc) as D,
      internal: JSON.parse(r.internal) as I,
    };
  }

  /** Inserts the row and the Create request's Tags (src/store/resource-tags.ts) in one transaction. */
  insert(row: ResourceRow<D, I>, tags: readonly TagInput[] = []): void {
    const existing = this.get(row.name);
    if (existing) throw new DuplicateResourceError(existing);
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO resources (kind, name_key, name, arn, status, creation_time, last_modified_time, doc, internal)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(this.kind, row.name.toLowerCase(), row.name, row.arn, row.status ?? null, row.creationTime, row.lastModifiedTime, JSON.stringify(row.doc), JSON.stringify(row.internal));
      new ResourceTags(this.db).put(this.kind, row.name, tags);
    })();
  }

  get(name: string): ResourceRow<D, I> | undefined {
    const r = this.db.prepare('SELECT * FROM resources WHERE kind = ? AND name_key = ?').get(this.kind, name.toLowerCase()) as RawRow | undefined;
    return r ? this.toRow(r) : undefined;
  }

  /**
   * Reads, changes and writes one resource in a single transaction. The
   * mutator edits the row in place; status/lastModifiedTime are written too.
   * Returns the new row, or undefined when the resource does not exist.
   */
  update(name: string, mutate: (row: ResourceRow<D, I>) => void): ResourceRow<D, I> | undefined {
    return this.db.transaction(() => {
      const row = this.get(name);
      if (!row) return undefined;
      mutate(row);
      this.db
        .prepare('UPDATE resources SET status = ?, last_modified_time = ?, doc = ?, internal = ? WHERE kind = ? AND name_key = ?')
        .run(row.status ?? null, row.lastModifiedTime, JSON.stringify(row.doc), JSON.stringify(row.internal), this.kind, name.toLowerCase());
      return row;
    })();
  }

  /** Deletes the row; its tags go with it (ON DELETE CASCADE). */
  delete(name: string): boolean {
    return this.db.prepare('DELETE FROM resources WHERE kind = ? AND name_key = ?').run(this.kind, name.toLowerCase()).changes > 0;
  }

  /** Every resource of this kind whose status is one of `statuses` (all when empty). */
  all(statuses: string[] = []): ResourceRow<D, I>[] {
    const rows = statuses.length
      ? (this.db.prepare(`SELECT * FROM resources WHERE kind = ? AND status IN (${statuses.map(() => '?').join(',')}) ORDER BY creation_time`).all(this.kind, ...statuses) as RawRow[])
      : (this.db.prepare('SELECT * FROM resources WHERE kind = ? ORDER BY creation_time').all(this.kind) as RawRow[]);
    return rows.map((r) => this.toRow(r));
  }

  /**
   * The List* operations: filters, sort, MaxResults (default 10) and an opaque
   * NextToken. `defaultOrder` differs per operation (spec 5.5).
   */
  list(q: ListQuery, defaultOrder: 'Ascending' | 'Descending' = 'Descending'): { items: ResourceRow<D, I>[]; nextToken?: string } {
    const where = ['kind = ?'];
    const args: unknown[] = [this.kind];
    if (q.NameContains) {
      where.push("instr(name_key, ?) > 0");
      args.push(q.NameContains.toLowerCase());
    }
    if (q.StatusEquals) {
      where.push('status = ?');
      args.push(q.StatusEquals);
    }
    const range: [keyof ListQuery, string, string][] = [
      ['CreationTimeAfter', 'creation_time', '>'],
      ['CreationTimeBefore', 'creation_time', '<'],
      ['LastModifiedTimeAfter', 'last_modified_time', '>'],
      ['LastModifiedTimeBefore', 'last_modified_time', '<'],
    ];
    for (const [k, col, op] of range) {
      if (q[k] !== undefined) {
        where.push(`${col} ${op} ?`);
        args.push(q[k]);
      }
    }
    const col = SORT_COLUMNS[q.SortBy ?? 'CreationTime'] ?? 'creation_time';
    const dir = (q.SortOrder ?? defaultOrder) === 'Ascending' ? 'ASC' : 'DESC';
    const limit = q.MaxResults ?? 10;
    const offset = offsetFromToken(q.NextToken);
    const rows = this.db
      .prepare(`SELECT * FROM resources WHERE ${where.join(' AND ')} ORDER BY ${col} ${dir}, creation_time ${dir}, name_key ${dir} LIMIT ? OFFSET ?`)
      .all(...args, limit + 1, offset) as RawRow[];
    const more = rows.length > limit;
    const items = rows.slice(0, limit).map((r) => this.toRow(r));
    return { items, nextToken: more ? offsetToken(offset + limit) : undefined };
  }
}
