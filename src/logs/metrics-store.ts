/**
 * Metric samples in CloudWatch's shape (namespace, name, dimensions,
 * timestamp, value), kept in the metric_samples table. Training jobs record
 * the values their MetricDefinitions regexes find in the logs here, under
 * /aws/sagemaker/TrainingJobs with the dimension TrainingJobName, which is
 * where the SageMaker Python SDK's TrainingJobAnalytics reads them through
 * GetMetricStatistics.
 */
import type { Db } from '../store/db';

export const TRAINING_NAMESPACE = '/aws/sagemaker/TrainingJobs';

export type Dimensions = Record<string, string>;
export type Statistic = 'SampleCount' | 'Average' | 'Sum' | 'Minimum' | 'Maximum';
export const STATISTICS: readonly Statistic[] = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'];

export interface MetricId {
  namespace: string;
  metricName: string;
  dimensions: Dimensions;
}
export interface Datapoint {
  /** Start of the period, epoch ms. */
  timestamp: number;
  SampleCount: number;
  Average: number;
  Sum: number;
  Minimum: number;
  Maximum: number;
}

/** Dimensions as stored: a JSON object with sorted keys, so equal sets compare equal. */
export function dimensionsKey(d: Dimensions): string {
  return JSON.stringify(Object.fromEntries(Object.entries(d).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

export class MetricsStore {
  constructor(private readonly db: Db) {}

  record(namespace: string, metricName: string, dimensions: Dimensions, timestamp: number, value: number): void {
    this.db
      .prepare('INSERT INTO metric_samples (namespace, metric_name, dimensions, timestamp, value) VALUES (?, ?, ?, ?, ?)')
      .run(namespace, metricName, dimensionsKey(dimensions), Math.trunc(timestamp), value);
  }

  /** A training job's metric, where TrainingJobAnalytics looks for it. */
  recordTrainingMetric(jobName: string, metricName: string, timestamp: number, value: number): void {
    this.record(TRAINING_NAMESPACE, metricName, { TrainingJobName: jobName }, timestamp, value);
  }

  /**
   * Distinct metrics, filtered as ListMetrics filters: by namespace, name,
   * and dimensions (each filter names a dimension the metric must have, with
   * this value when one is given). Ordered by namespace, name, dimensions.
   */
  list(filter: { namespace?: string; metricName?: string; dimensions?: { name: string; value?: string }[] } = {}): MetricId[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.namespace !== undefined) {
      where.push('namespace = ?');
      args.push(filter.namespace);
    }
    if (filter.metricName !== undefined) {
      where.push('metric_name = ?');
      args.push(filter.metricName);
    }
    const rows = this.db
      .prepare(`SELECT DISTINCT namespace, metric_name AS metricName, dimensions FROM metric_samples ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY namespace, metric_name, dimensions`)
      .all(...args) as { namespace: string; metricName: string; dimensions: string }[];
    return rows
      .map((r) => ({ namespace: r.namespace, metricName: r.metricName, dimensions: JSON.parse(r.dimensions) as Dimensions }))
      .filter((m) => (filter.dimensions ?? []).every((f) => f.name in m.dimensions && (f.value === undefined || m.dimensions[f.name] === f.value)));
  }

  /**
   * Statistics of one metric (exact dimension set, as CloudWatch matches)
   * over [startTime, endTime), one datapoint per period that has samples,
   * periods aligned to multiples of the period since the epoch.
   */
  statistics(id: MetricId, startTime: number, endTime: number, periodSeconds: number): Datapoint[] {
    const p = Math.trunc(periodSeconds * 1000);
    const rows = this.db
      .prepare(
        `SELECT timestamp / CAST(? AS INTEGER) AS bucket, COUNT(*) AS SampleCount, SUM(value) AS Sum, MIN(value) AS Minimum, MAX(value) AS Maximum, AVG(value) AS Average
         FROM metric_samples WHERE namespace = ? AND metric_name = ? AND dimensions = ? AND timestamp >= ? AND timestamp < ?
         GROUP BY bucket ORDER BY bucket`,
      )
      .all(p, id.namespace, id.metricName, dimensionsKey(id.dimensions), Math.trunc(startTime), Math.trunc(endTime)) as (Omit<Datapoint, 'timestamp'> & { bucket: number })[];
    return rows.map(({ bucket, ...stats }) => ({ timestamp: bucket * p, ...stats }));
  }

  /** Every sample of one metric (exact dimensions), oldest first. */
  samples(id: MetricId): { timestamp: number; value: number }[] {
    return this.db
      .prepare('SELECT timestamp, value FROM metric_samples WHERE namespace = ? AND metric_name = ? AND dimensions = ? ORDER BY timestamp, id')
      .all(id.namespace, id.metricName, dimensionsKey(id.dimensions)) as { timestamp: number; value: number }[];
  }

  /** The most recent sample of one metric (the last recorded among equal timestamps). */
  latest(id: MetricId): { timestamp: number; value: number } | undefined {
    return this.db
      .prepare('SELECT timestamp, value FROM metric_samples WHERE namespace = ? AND metric_name = ? AND dimensions = ? ORDER BY timestamp DESC, id DESC LIMIT 1')
      .get(id.namespace, id.metricName, dimensionsKey(id.dimensions)) as { timestamp: number; value: number } | undefined;
  }

  /** Drops every sample with these dimensions in a namespace (e.g. a deleted job's). */
  deleteFor(namespace: string, dimensions: Dimensions): number {
    return this.db.prepare('DELETE FROM metric_samples WHERE namespace = ? AND dimensions = ?').run(namespace, dimensionsKey(dimensions)).changes;
  }
}
