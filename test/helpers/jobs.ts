/**
 * What the job suites (training, processing, transform) share, bound to each
 * kind's bucket and log group by jobHelpers(): fresh names, objects in and
 * out of the server's store, a job's log lines, and the probe's reports.
 */
import { buffer } from 'node:stream/consumers';
import type { TestServer } from './server';

let counter = 0;
/** A fresh name per call (names are unique per server, and suites run jobs in parallel). */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`.slice(0, 63);
}

export function jobHelpers(defaultBucket: string, logGroup: string) {
  async function putObject(s: TestServer, key: string, body: string | Buffer, bucket = defaultBucket): Promise<string> {
    await s.app.ctx.objectStore.ensureBucket(bucket);
    await s.app.ctx.objectStore.put(bucket, key, body);
    return `s3://${bucket}/${key}`;
  }

  async function getObject(s: TestServer, key: string, bucket = defaultBucket): Promise<Buffer | undefined> {
    if (!(await s.app.ctx.objectStore.head(bucket, key).catch(() => undefined))) return undefined;
    return buffer(await s.app.ctx.objectStore.get(bucket, key));
  }

  async function listKeys(s: TestServer, prefix: string, bucket = defaultBucket): Promise<string[]> {
    const keys: string[] = [];
    for await (const o of s.app.ctx.objectStore.list(bucket, prefix)) keys.push(o.key);
    return keys;
  }

  /** Every log line of a job, per log stream name. */
  function jobLogs(s: TestServer, name: string): Map<string, string[]> {
    const logs = s.app.ctx.logs;
    const out = new Map<string, string[]>();
    for (const st of logs.streams(logGroup, `${name}/`)) out.set(st.name, logs.events(st.id, { limit: 100_000 }).map((e) => e.message));
    return out;
  }

  /** The probe's `PROBE-REPORT <json>` of each host, from the job's logs, keyed by current_host. */
  function probeReports(s: TestServer, name: string): Map<string, any> {
    const reports = new Map<string, any>();
    for (const lines of jobLogs(s, name).values()) {
      for (const l of lines) {
        if (!l.startsWith('PROBE-REPORT ')) continue;
        const r = JSON.parse(l.slice('PROBE-REPORT '.length));
        reports.set(r.current_host, r);
      }
    }
    return reports;
  }

  return { putObject, getObject, listKeys, jobLogs, probeReports };
}
