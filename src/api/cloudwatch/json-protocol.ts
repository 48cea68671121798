/**
 * CloudWatch over awsJson1_0 (X-Amz-Target GraniteServiceVersion20100801.*),
 * which newer AWS SDKs may choose: same members as the query protocol,
 * timestamps as epoch seconds.
 */
import type { Registry } from '../registry';
import type { MetricsStore } from '../../logs/metrics-store';
import { getMetricStatistics, listMetrics, type GetMetricStatisticsInput, type ListMetricsInput } from './operations';

const toMs = (v: unknown): number | undefined => {
  if (typeof v === 'number') return v * 1000;
  if (typeof v === 'string') return /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : Date.parse(v);
  return undefined;
};

export function registerCloudWatchJson(registry: Registry, store: MetricsStore): void {
  const service = registry.jsonService('monitoring', 'GraniteServiceVersion20100801');
  service.handlers.set('GetMetricStatistics', (input) => {
    const req = { ...input, StartTime: toMs(input.StartTime), EndTime: toMs(input.EndTime) } as GetMetricStatisticsInput;
    const out = getMetricStatistics(store, req);
    return { ...out, Datapoints: out.Datapoints.map((d) => ({ ...d, Timestamp: d.Timestamp / 1000 })) };
  });
  service.handlers.set('ListMetrics', (input) => listMetrics(store, input as ListMetricsInput));
}
