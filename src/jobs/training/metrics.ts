/**
 * AlgorithmSpecification.MetricDefinitions (spec 1.7): every log line is
 * searched with every regex; the first capture group, parsed as a float, is
 * one sample. Samples go to the metric store (src/logs/metrics-store.ts:
 * namespace /aws/sagemaker/TrainingJobs, dimensions {TrainingJobName}); the last sample
 * of each metric becomes FinalMetricDataList. Reading the final values back
 * from the table keeps them right across a restart.
 */
import type { Db } from '../../store/db';
import { MetricsStore, TRAINING_NAMESPACE, dimensionsKey } from '../../logs/metrics-store';

const METRICS_NAMESPACE = TRAINING_NAMESPACE;

/** Python's named groups and back-references in JavaScript syntax. */
export function translatePythonRegex(re: string): string {
  return re.replace(/\(\?P<([A-Za-z_][A-Za-z0-9_]*)>/g, '(?<$1>').replace(/\(\?P=([A-Za-z_][A-Za-z0-9_]*)\)/g, '\\k<$1>');
}

/** What Python's float() accepts for finite numbers; anything else is no sample. */
const FLOAT_RE = /^[+-]?(\d+(_\d+)*(\.(\d+(_\d+)*)?)?|\.\d+(_\d+)*)([eE][+-]?\d+)?$/;

export function parseFloatLike(text: string): number | undefined {
  const t = text.trim().replace(/_/g, '');
  if (!FLOAT_RE.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

export interface MetricDefinitionLike {
  Name?: string;
  Regex?: string;
}

export interface Sample {
  name: string;
  value: number;
}

export class MetricMatcher {
  private readonly defs: { name: string; re: RegExp }[];

  constructor(defs: readonly MetricDefinitionLike[]) {
    this.defs = [];
    for (const d of defs) {
      if (!d.Name || !d.Regex) continue;
      try {
        this.defs.push({ name: d.Name, re: new RegExp(translatePythonRegex(d.Regex)) });
      } catch {
        // Validated at CreateTrainingJob; a stored job from an older version just loses the metric.
      }
    }
  }

  get empty(): boolean {
    return this.defs.length === 0;
  }

  match(line: string): Sample[] {
    const out: Sample[] = [];
    for (const d of this.defs) {
      const m = d.re.exec(line);
      const captured = m?.[1];
      if (captured === undefined) continue;
      const value = parseFloatLike(captured);
      if (value !== undefined) out.push({ name: d.name, value });
    }
    return out;
  }
}

const dimensionsOf = (job: string): string => dimensionsKey({ TrainingJobName: job });

export class TrainingMetrics {
  private readonly store: MetricsStore;

  constructor(private readonly db: Db) {
    this.store = new MetricsStore(db);
  }

  record(job: string, timestampMs: number, samples: readonly Sample[]): void {
    if (!samples.length) return;
    this.db.transaction(() => {
      for (const s of samples) this.store.recordTrainingMetric(job, s.name, timestampMs, s.value);
    })();
  }

  /** The last sample of each metric (by time, then by arrival), in definition order. */
  finalValues(job: string, names: readonly string[]): { MetricName: string; Value: number; Timestamp: number }[] {
    const q = this.db.prepare(
      'SELECT value, timestamp FROM metric_samples WHERE namespace = ? AND metric_name = ? AND dimensions = ? ORDER BY timestamp DESC, id DESC LIMIT 1',
    );
    const out: { MetricName: string; Value: number; Timestamp: number }[] = [];
    for (const name of names) {
      const r = q.get(METRICS_NAMESPACE, name, dimensionsOf(job)) as { value: number; timestamp: number } | undefined;
      if (r) out.push({ MetricName: name, Value: r.value, Timestamp: r.timestamp / 1000 });
    }
    return out;
  }

  /** Every sample of one metric of a job, oldest first (tests, a future GetMetricData). */
  samples(job: string, name: string): { timestamp: number; value: number }[] {
    return this.db
      .prepare('SELECT timestamp, value FROM metric_samples WHERE namespace = ? AND metric_name = ? AND dimensions = ? ORDER BY timestamp, id')
      .all(METRICS_NAMESPACE, name, dimensionsOf(job)) as { timestamp: number; value: number }[];
  }
}
