/**
 * CloudWatch metrics (signing name `monitoring`): GetMetricStatistics and
 * ListMetrics over the metric samples training jobs record, in the awsquery
 * protocol (boto3 1.26, AWS CLI v2.9) and in awsJson1_0.
 */
import type { AppContext, Feature } from '../app/context';
import { cloudWatchQueryService } from '../api/cloudwatch/query-protocol';
import { registerCloudWatchJson } from '../api/cloudwatch/json-protocol';
import { MetricsStore } from './metrics-store';

export function cloudWatchMetricsFeature(ctx: AppContext): Feature {
  const store = new MetricsStore(ctx.db);
  return {
    name: 'cloudwatch-metrics',
    register(registry) {
      registry.raw.set('monitoring', cloudWatchQueryService(store));
      registerCloudWatchJson(registry, store);
    },
  };
}
