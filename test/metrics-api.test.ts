/**
 * Metrics the way SageMaker users read them: training metrics through the
 * CloudWatch API (boto3 1.26 and AWS CLI v2 speak awsquery; JSON 1.0 checked
 * with a signed request), and the Prometheus /metrics endpoint.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/protocol-http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { startServer, REGION, type TestServer } from './helpers/server';
import { awsCli, boto3 } from './helpers/clients';
import { MetricsStore, TRAINING_NAMESPACE } from '../src/logs/metrics-store';
import { decodeCbor, encodeCbor, Tagged } from '../src/api/cloudwatch/cbor';

const run = promisify(execFile);

const T0 = Date.UTC(2024, 0, 1, 12, 0, 0);

async function signed(s: TestServer, opts: { method: 'GET' | 'POST'; path: string; service: string; body?: string; headers?: Record<string, string> }): Promise<Response> {
  const url = new URL(s.url);
  const headers: Record<string, string> = { host: url.host, ...opts.headers };
  const req = new HttpRequest({ method: opts.method, hostname: url.hostname, port: Number(url.port), path: opts.path, headers, body: opts.body });
  const signer = new SignatureV4({ credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, region: REGION, service: opts.service, sha256: Sha256, applyChecksum: false });
  const r = await signer.sign(req);
  return fetch(`${s.url}${opts.path}`, { method: opts.method, headers: r.headers as Record<string, string>, body: opts.body });
}

describe('CloudWatch metrics API', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
    const m = new MetricsStore(s.app.ctx.db);
    // job-a: train:loss every 20 s for 5 minutes (values 1.0, 0.9, ...), validation:acc once a minute.
    for (let i = 0; i < 15; i++) m.recordTrainingMetric('job-a', 'train:loss', T0 + i * 20_000, 1 - i * 0.05);
    for (let i = 0; i < 5; i++) m.recordTrainingMetric('job-a', 'validation:acc', T0 + i * 60_000, 0.5 + i * 0.1);
    m.recordTrainingMetric('job-b', 'train:loss', T0, 7);
    m.record('Custom/NS', 'Other', { Host: 'h1', Kind: 'x' }, T0, 1);
  });
  after(async () => s.stop());

  it('boto3 (query protocol) reads statistics as TrainingJobAnalytics asks for them', async () => {
    const r = await boto3(
      s.clientEnv,
      `
import boto3, json, os, datetime
cw = boto3.client('cloudwatch', endpoint_url=os.environ['AWS_ENDPOINT_URL'])
start = datetime.datetime(2024, 1, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
r = cw.get_metric_statistics(Namespace='/aws/sagemaker/TrainingJobs', MetricName='train:loss',
    Dimensions=[{'Name': 'TrainingJobName', 'Value': 'job-a'}],
    StartTime=start - datetime.timedelta(minutes=1), EndTime=start + datetime.timedelta(minutes=10),
    Period=60, Statistics=['Average', 'Minimum', 'Maximum', 'Sum', 'SampleCount'])
out = {'label': r['Label'], 'points': [[(p['Timestamp'] - start).total_seconds(), p['Average'], p['Minimum'], p['Maximum'], p['Sum'], p['SampleCount'], p['Unit']] for p in r['Datapoints']]}
m = cw.list_metrics(Namespace='/aws/sagemaker/TrainingJobs', Dimensions=[{'Name': 'TrainingJobName', 'Value': 'job-a'}])
out['metrics'] = sorted(x['MetricName'] for x in m['Metrics'])
out['dims'] = m['Metrics'][0]['Dimensions']
out['all'] = len(cw.list_metrics()['Metrics'])
try:
    cw.get_metric_statistics(Namespace='/aws/sagemaker/TrainingJobs', MetricName='train:loss', StartTime=start, EndTime=start, Period=60, Statistics=['Average'])
except cw.exceptions.InvalidParameterValueException as e:
    out['error'] = [e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode']]
print(json.dumps(out))
`,
    );
    const out = JSON.parse(r.stdout);
    assert.equal(out.label, 'train:loss');
    assert.equal(out.points.length, 5);
    const [t, avg, min, max, sum, n, unit] = out.points[0];
    assert.equal(t, 0);
    assert.ok(Math.abs(avg - 0.95) < 1e-9);
    assert.ok(Math.abs(min - 0.9) < 1e-9 && max === 1 && Math.abs(sum - 2.85) < 1e-9 && n === 3 && unit === 'None');
    assert.deepEqual(out.points.map((p: number[]) => p[0]), [0, 60, 120, 180, 240]);
    assert.deepEqual(out.metrics, ['train:loss', 'validation:acc']);
    assert.deepEqual(out.dims, [{ Name: 'TrainingJobName', Value: 'job-a' }]);
    assert.equal(out.all, 4);
    assert.deepEqual(out.error, ['InvalidParameterValue', 400]);
  });

  it('AWS CLI v2 get-metric-statistics and list-metrics', async () => {
    const cli = (args: string[]): ReturnType<typeof awsCli> => awsCli(s.clientEnv, ['--endpoint-url', s.url, ...args]);
    const r = await cli([
      'cloudwatch', 'get-metric-statistics', '--namespace', TRAINING_NAMESPACE, '--metric-name', 'validation:acc',
      '--dimensions', 'Name=TrainingJobName,Value=job-a', '--start-time', '2024-01-01T12:00:00Z', '--end-time', '2024-01-01T13:00:00Z',
      '--period', '120', '--statistics', 'Maximum',
    ]);
    assert.deepEqual(r.json.Datapoints.map((p: { Timestamp: string; Maximum: number }) => [p.Timestamp, Math.round(p.Maximum * 10) / 10]), [
      ['2024-01-01T12:00:00+00:00', 0.6],
      ['2024-01-01T12:02:00+00:00', 0.8],
      ['2024-01-01T12:04:00+00:00', 0.9],
    ]);
    const l = await cli(['cloudwatch', 'list-metrics', '--namespace', 'Custom/NS']);
    assert.deepEqual(l.json.Metrics, [{ Namespace: 'Custom/NS', MetricName: 'Other', Dimensions: [{ Name: 'Host', Value: 'h1' }, { Name: 'Kind', Value: 'x' }] }]);
    await assert.rejects(cli(['cloudwatch', 'get-metric-statistics', '--namespace', 'x', '--metric-name', 'y', '--start-time', '2024-01-01T12:00:00Z', '--end-time', '2024-01-01T13:00:00Z', '--period', '60']), (e: Error) =>
      /InvalidParameterCombination/.test(e.message),
    );
  });

  it('recent boto3 (Smithy RPCv2 CBOR) reads statistics and gets modelled errors', async () => {
    // The python3 first on PATH carries a recent boto3 (ENVIRONMENT.md), which speaks CBOR to CloudWatch.
    const script = `
import boto3, json, os, datetime
cw = boto3.client('cloudwatch', endpoint_url=os.environ['AWS_ENDPOINT_URL'])
start = datetime.datetime(2024, 1, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
r = cw.get_metric_statistics(Namespace='/aws/sagemaker/TrainingJobs', MetricName='validation:acc',
    Dimensions=[{'Name': 'TrainingJobName', 'Value': 'job-a'}], StartTime=start, EndTime=start + datetime.timedelta(hours=1),
    Period=120, Statistics=['SampleCount', 'Maximum'])
out = {'protocol': cw.meta.service_model.protocol, 'points': [[(p['Timestamp'] - start).total_seconds(), p['SampleCount'], round(p['Maximum'], 6)] for p in r['Datapoints']]}
out['metrics'] = len(cw.list_metrics(Namespace='Custom/NS')['Metrics'])
try:
    cw.get_metric_statistics(Namespace='x', MetricName='y', StartTime=start, EndTime=start, Period=60, Statistics=['Average'])
except cw.exceptions.InvalidParameterValueException as e:
    out['error'] = e.response['Error']['Code']
print(json.dumps(out))
`;
    let stdout: string;
    try {
      ({ stdout } = await run('python3', ['-c', script], { env: s.clientEnv }));
    } catch (err) {
      throw new Error(`python3 on PATH with a recent boto3 is needed (pyenv's, see ENVIRONMENT.md): ${(err as { stderr?: string }).stderr ?? err}`);
    }
    const out = JSON.parse(stdout);
    assert.equal(out.protocol, 'smithy-rpc-v2-cbor', 'this boto3 should speak CBOR to CloudWatch');
    assert.deepEqual(out.points, [[0, 2, 0.6], [120, 2, 0.8], [240, 1, 0.9]]);
    assert.equal(out.metrics, 1);
    assert.equal(out.error, 'InvalidParameterValue');
  });

  it('CBOR codec: round trip, indefinite lengths, half floats, tags', () => {
    const v = { a: [1, -2, 300, 70000, 2 ** 40, 1.5, 'ünï', true, false, null], b: { c: new Uint8Array([1, 2]) } };
    assert.deepEqual(decodeCbor(encodeCbor(v)), { ...v, b: { c: new Uint8Array([1, 2]) } });
    assert.equal(decodeCbor(encodeCbor(new Tagged(1, 1704110400.5))), 1704110400.5);
    // {_ "a": [_ 1, 2], "b": (_ "x" "y")}, then half float 1.5
    assert.deepEqual(decodeCbor(Buffer.from('bf6161 9f0102ff 6162 7f61786179ff ff'.replace(/ /g, ''), 'hex')), { a: [1, 2], b: 'xy' });
    assert.equal(decodeCbor(Buffer.from('f93e00', 'hex')), 1.5);
  });

  it('answers awsJson1_0 (GraniteServiceVersion20100801) too', async () => {
    const res = await signed(s, {
      method: 'POST',
      path: '/',
      service: 'monitoring',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'GraniteServiceVersion20100801.GetMetricStatistics' },
      body: JSON.stringify({
        Namespace: TRAINING_NAMESPACE, MetricName: 'train:loss', Dimensions: [{ Name: 'TrainingJobName', Value: 'job-b' }],
        StartTime: T0 / 1000, EndTime: T0 / 1000 + 60, Period: 60, Statistics: ['Average'],
      }),
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { Label: 'train:loss', Datapoints: [{ Timestamp: T0 / 1000, Unit: 'None', Average: 7 }] });
  });
});

describe('/metrics', () => {
  it('serves Prometheus series to signed requests only, by default', async () => {
    const s = await startServer();
    try {
      s.app.ctx.metrics!.jobsTotal.inc({ kind: 'training', status: 'Completed' });
      s.app.ctx.metrics!.invocationLatencySeconds.observe({ endpoint: 'ep', variant: 'AllTraffic' }, 0.004);
      const res = await signed(s, { method: 'GET', path: '/metrics', service: 'monitoring' });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      const text = await res.text();
      for (const name of [
        'sagebox_jobs_total', 'sagebox_job_duration_seconds', 'sagebox_staging_bytes_total', 'sagebox_staging_seconds_total',
        'sagebox_invocations_total', 'sagebox_invocation_latency_seconds', 'sagebox_container_restarts_total', 'sagebox_process_cpu_seconds_total',
      ]) {
        assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
      }
      assert.match(text, /^sagebox_jobs_total\{kind="training",status="Completed"\} 1$/m);
      assert.match(text, /^sagebox_invocation_latency_seconds_bucket\{le="0\.005",endpoint="ep",variant="AllTraffic"\} 1$/m);
      const unsigned = await fetch(`${s.url}/metrics`);
      assert.equal(unsigned.status, 403);
    } finally {
      await s.stop();
    }
  });

  it('serves them without auth when metricsPublic is set', async () => {
    const s = await startServer({ metricsPublic: true });
    try {
      const res = await fetch(`${s.url}/metrics`);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /sagebox_invocations_total/);
    } finally {
      await s.stop();
    }
  });
});

describe('MetricsStore', () => {
  it('records, lists and aggregates samples', async () => {
    const s = await startServer();
    try {
      const m = new MetricsStore(s.app.ctx.db);
      const id = { namespace: TRAINING_NAMESPACE, metricName: 'loss', dimensions: { TrainingJobName: 'j' } };
      m.record(id.namespace, id.metricName, { TrainingJobName: 'j' }, T0 + 1000, 3);
      m.recordTrainingMetric('j', 'loss', T0, 5);
      m.recordTrainingMetric('j', 'loss', T0 + 1000, 2);
      assert.deepEqual(m.samples(id), [{ timestamp: T0, value: 5 }, { timestamp: T0 + 1000, value: 3 }, { timestamp: T0 + 1000, value: 2 }]);
      assert.deepEqual(m.latest(id), { timestamp: T0 + 1000, value: 2 });
      assert.deepEqual(m.statistics(id, T0, T0 + 60_000, 60), [{ timestamp: T0, SampleCount: 3, Sum: 10, Minimum: 2, Maximum: 5, Average: 10 / 3 }]);
      assert.deepEqual(m.list({ dimensions: [{ name: 'TrainingJobName' }] }).map((x) => x.metricName), ['loss']);
      assert.equal(m.deleteFor(TRAINING_NAMESPACE, { TrainingJobName: 'j' }), 3);
      assert.equal(m.latest(id), undefined);
    } finally {
      await s.stop();
    }
  });
});
