/**
 * The CloudWatch (metrics) subset: GetMetricStatistics and ListMetrics, which
 * the SageMaker Python SDK's TrainingJobAnalytics and the AWS CLI use. The
 * protocol front ends (query-protocol.ts, json-protocol.ts) parse requests into
 * these shapes (timestamps as epoch ms) and serialise what comes back.
 */
import { InvalidParameterCombination, InvalidParameterValue, MissingParameter } from '../errors';
import { STATISTICS, type Dimensions, type MetricsStore, type Statistic } from '../../logs/metrics-store';

export interface Dimension {
  Name: string;
  Value: string;
}
export interface GetMetricStatisticsInput {
  Namespace?: string;
  MetricName?: string;
  Dimensions?: Dimension[];
  StartTime?: number;
  EndTime?: number;
  Period?: number;
  Statistics?: string[];
  ExtendedStatistics?: string[];
  Unit?: string;
}
export interface OutDatapoint {
  Timestamp: number;
  SampleCount?: number;
  Average?: number;
  Sum?: number;
  Minimum?: number;
  Maximum?: number;
  Unit: string;
}
export interface GetMetricStatisticsOutput {
  Label: string;
  Datapoints: OutDatapoint[];
}
export interface ListMetricsInput {
  Namespace?: string;
  MetricName?: string;
  Dimensions?: { Name: string; Value?: string }[];
  NextToken?: string;
}
export interface ListMetricsOutput {
  Metrics: { Namespace: string; MetricName: string; Dimensions: Dimension[] }[];
  NextToken?: string;
}

const LIST_PAGE = 500;
const HIGH_RES_PERIODS = [1, 5, 10, 30];

function required<T>(value: T | undefined, name: string): T {
  if (value === undefined || value === null || (typeof value === 'string' && value === '')) throw new MissingParameter(`The parameter ${name} is required.`);
  return value;
}

const dimsOf = (list: Dimension[] | undefined): Dimensions => Object.fromEntries((list ?? []).map((d) => [d.Name, d.Value]));

export function getMetricStatistics(store: MetricsStore, req: GetMetricStatisticsInput): GetMetricStatisticsOutput {
  const namespace = required(req.Namespace, 'Namespace');
  const metricName = required(req.MetricName, 'MetricName');
  const start = required(req.StartTime, 'StartTime');
  const end = required(req.EndTime, 'EndTime');
  const period = required(req.Period, 'Period');
  if (!Number.isInteger(period) || period < 1 || (!HIGH_RES_PERIODS.includes(period) && period % 60 !== 0)) {
    throw new InvalidParameterValue('The parameter Period must be 1, 5, 10, 30, or a multiple of 60.');
  }
  if (!(start < end)) throw new InvalidParameterValue('The parameter StartTime must be less than the parameter EndTime.');
  const stats = req.Statistics ?? [];
  if (req.ExtendedStatistics?.length) throw new InvalidParameterValue('ExtendedStatistics (percentiles) are not supported by sagebox; use Statistics.');
  if (!stats.length) throw new InvalidParameterCombination('Must specify either Statistics or ExtendedStatistics, but not both.');
  for (const s of stats) {
    if (!(STATISTICS as readonly string[]).includes(s)) {
      throw new InvalidParameterValue(`The parameter Statistics.member.${stats.indexOf(s) + 1} must be one of: ${STATISTICS.join(', ')}.`);
    }
  }
  const points = store.statistics({ namespace, metricName, dimensions: dimsOf(req.Dimensions) }, start, end, period);
  return {
    Label: metricName,
    Datapoints: points.map((p) => {
      const dp: OutDatapoint = { Timestamp: p.timestamp, Unit: req.Unit ?? 'None' };
      for (const s of stats as Statistic[]) dp[s] = p[s];
      return dp;
    }),
  };
}

export function listMetrics(store: MetricsStore, req: ListMetricsInput): ListMetricsOutput {
  let offset = 0;
  if (req.NextToken !== undefined) {
    offset = Number(Buffer.from(req.NextToken, 'base64url').toString('utf8').replace(/^metrics:/, ''));
    if (!Number.isInteger(offset) || offset < 0) throw new InvalidParameterValue('The parameter NextToken is invalid.');
  }
  for (const d of req.Dimensions ?? []) required(d.Name, 'Dimensions.member.N.Name');
  const all = store.list({ namespace: req.Namespace, metricName: req.MetricName, dimensions: req.Dimensions?.map((d) => ({ name: d.Name, value: d.Value })) });
  const page = all.slice(offset, offset + LIST_PAGE);
  const out: ListMetricsOutput = {
    Metrics: page.map((m) => ({ Namespace: m.namespace, MetricName: m.metricName, Dimensions: Object.entries(m.dimensions).map(([Name, Value]) => ({ Name, Value })) })),
  };
  if (offset + LIST_PAGE < all.length) out.NextToken = Buffer.from(`metrics:${offset + LIST_PAGE}`).toString('base64url');
  return out;
}
