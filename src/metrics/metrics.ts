/**
 * sagebox's Prometheus series, served at /metrics. One instance per App owns
 * its own prom-client Registry (so several servers in one process, as in the
 * tests, never share counters). Features record through the members below,
 * reached as `ctx.metrics`:
 *
 *   ctx.metrics?.jobsTotal.inc({ kind: 'training', status: 'Completed' });
 *   ctx.metrics?.jobDurationSeconds.observe({ kind: 'training' }, seconds);
 *   ctx.metrics?.recordInvocation(endpoint, variant, statusCode, seconds);
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type JobKind = 'training' | 'processing' | 'transform';

export class Metrics {
  readonly registry = new Registry();

  /** Jobs that reached a terminal status. */
  readonly jobsTotal: Counter<'kind' | 'status'>;
  /** Wall-clock time from start to terminal status of finished jobs. */
  readonly jobDurationSeconds: Histogram<'kind'>;
  /** Bytes moved in and out of containers (input channels, model data, outputs). */
  readonly stagingBytesTotal: Counter;
  /** Time spent staging those bytes. */
  readonly stagingSecondsTotal: Counter;
  /** InvokeEndpoint calls by endpoint, variant and HTTP status code. */
  readonly invocationsTotal: Counter<'endpoint' | 'variant' | 'code'>;
  /** InvokeEndpoint latency as the client sees it (model plus sagebox's overhead). */
  readonly invocationLatencySeconds: Histogram<'endpoint' | 'variant'>;
  /** Endpoint containers restarted after they exited or failed /ping. */
  readonly containerRestartsTotal: Counter<'endpoint'>;

  constructor(opts: { defaultMetrics?: boolean; labels?: Record<string, string> } = {}) {
    const registers = [this.registry];
    if (opts.labels) this.registry.setDefaultLabels(opts.labels);
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'sagebox_' });
    this.jobsTotal = new Counter({ name: 'sagebox_jobs_total', help: 'Jobs that reached a terminal status, by kind and status.', labelNames: ['kind', 'status'], registers });
    this.jobDurationSeconds = new Histogram({
      name: 'sagebox_job_duration_seconds',
      help: 'Duration of finished jobs, by kind.',
      labelNames: ['kind'],
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400],
      registers,
    });
    this.stagingBytesTotal = new Counter({ name: 'sagebox_staging_bytes_total', help: 'Bytes staged between the object store and containers.', registers });
    this.stagingSecondsTotal = new Counter({ name: 'sagebox_staging_seconds_total', help: 'Seconds spent staging data.', registers });
    this.invocationsTotal = new Counter({
      name: 'sagebox_invocations_total',
      help: 'InvokeEndpoint calls, by endpoint, variant and HTTP status code.',
      labelNames: ['endpoint', 'variant', 'code'],
      registers,
    });
    this.invocationLatencySeconds = new Histogram({
      name: 'sagebox_invocation_latency_seconds',
      help: 'InvokeEndpoint latency, by endpoint and variant.',
      labelNames: ['endpoint', 'variant'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.containerRestartsTotal = new Counter({ name: 'sagebox_container_restarts_total', help: 'Endpoint containers restarted, by endpoint.', labelNames: ['endpoint'], registers });
  }

  /** Series children per endpoint and variant: InvokeEndpoint's hot path does not hash label objects per call. */
  private readonly invocationSeries = new Map<string, { latency: Histogram.Internal<'endpoint' | 'variant'>; byCode: Map<number, Counter.Internal> }>();

  /** One InvokeEndpoint call: its status code and latency. */
  recordInvocation(endpoint: string, variant: string, code: number, seconds: number): void {
    const k = `${endpoint}\u0000${variant}`;
    let series = this.invocationSeries.get(k);
    if (!series) this.invocationSeries.set(k, (series = { latency: this.invocationLatencySeconds.labels(endpoint, variant), byCode: new Map() }));
    let counter = series.byCode.get(code);
    if (!counter) series.byCode.set(code, (counter = this.invocationsTotal.labels(endpoint, variant, String(code))));
    counter.inc();
    series.latency.observe(seconds);
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
