/**
 * Append-only, numbered. Never edit a migration that has shipped; add the next one.
 */
export const MIGRATIONS: { id: number; name: string; sql: string }[] = [
  {
    id: 1,
    name: 'resources and logs',
    sql: `
      -- Every SageMaker resource, one row each. doc is the Describe-shaped document
      -- (what the API returns); internal is sagebox's own runtime state (containers, attempts).
      CREATE TABLE resources (
        kind TEXT NOT NULL,
        name_key TEXT NOT NULL,            -- lower-cased name: SageMaker names are unique case-insensitively
        name TEXT NOT NULL,
        arn TEXT NOT NULL,
        status TEXT,
        creation_time REAL NOT NULL,       -- epoch seconds
        last_modified_time REAL NOT NULL,
        doc TEXT NOT NULL,
        internal TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (kind, name_key)
      );
      CREATE INDEX resources_kind_created ON resources (kind, creation_time);
      CREATE INDEX resources_kind_status ON resources (kind, status);

      CREATE TABLE log_groups (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        creation_time INTEGER NOT NULL,    -- epoch ms
        retention_days INTEGER
      );
      CREATE TABLE log_streams (
        id INTEGER PRIMARY KEY,
        group_id INTEGER NOT NULL REFERENCES log_groups(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        creation_time INTEGER NOT NULL,
        first_event INTEGER,
        last_event INTEGER,
        last_ingestion INTEGER,
        stored_bytes INTEGER NOT NULL DEFAULT 0,
        last_raw_ts TEXT,                  -- engine timestamp of the last stored line (for re-attach)
        UNIQUE (group_id, name)
      );
      CREATE TABLE log_events (
        id INTEGER PRIMARY KEY,            -- ingestion order; ties on timestamp keep it
        stream_id INTEGER NOT NULL REFERENCES log_streams(id) ON DELETE CASCADE,
        timestamp INTEGER NOT NULL,
        ingestion_time INTEGER NOT NULL,
        message TEXT NOT NULL
      );
      CREATE INDEX log_events_stream_ts ON log_events (stream_id, timestamp, id);

      CREATE TABLE metric_samples (
        id INTEGER PRIMARY KEY,
        namespace TEXT NOT NULL,
        metric_name TEXT NOT NULL,
        dimensions TEXT NOT NULL,          -- JSON object, keys sorted
        timestamp INTEGER NOT NULL,        -- epoch ms
        value REAL NOT NULL
      );
      CREATE INDEX metric_samples_lookup ON metric_samples (namespace, metric_name, dimensions, timestamp);
    `,
  },
  {
    id: 2,
    name: 'resource tags',
    sql: `
      -- The tags of every resource (AddTags/ListTags/DeleteTags and the Create* operations'
      -- Tags), keyed like the resource and deleted with it. id keeps the order keys were
      -- first added; replacing a value keeps its place.
      CREATE TABLE resource_tags (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        name_key TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        UNIQUE (kind, name_key, key),
        FOREIGN KEY (kind, name_key) REFERENCES resources (kind, name_key) ON DELETE CASCADE
      );

      -- Until now each kind kept its request's Tags in internal.tags (jobs: internal.extra.tags).
      INSERT INTO resource_tags (kind, name_key, key, value)
        SELECT r.kind, r.name_key, json_extract(t.value, '$.Key'), coalesce(json_extract(t.value, '$.Value'), '')
        FROM resources r, json_each(coalesce(json_extract(r.internal, '$.tags'), json_extract(r.internal, '$.extra.tags'), '[]')) t
        WHERE json_extract(t.value, '$.Key') IS NOT NULL
        ORDER BY r.rowid, t.key
        ON CONFLICT (kind, name_key, key) DO UPDATE SET value = excluded.value;
      UPDATE resources SET internal = json_remove(internal, '$.tags', '$.extra.tags')
        WHERE json_type(internal, '$.tags') IS NOT NULL OR json_type(internal, '$.extra.tags') IS NOT NULL;
    `,
  },
];
