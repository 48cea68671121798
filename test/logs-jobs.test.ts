/**
 * Logs of real running jobs, read the way SageMaker users read them:
 * - the SageMaker Python SDK's tail loop (boto3: describe job, describe
 *   streams, get events until an empty page, repeat until the job ends) prints
 *   every line of a running 2-instance job exactly once and stops at the end;
 * - a container printing 1,000,000 lines, some 100 KB long, stdout and stderr
 *   each ending without a newline: every byte retrievable through the API.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { CloudWatchLogsClient, GetLogEventsCommand, DescribeLogStreamsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateTrainingJobCommand } from '@aws-sdk/client-sagemaker';
import { startServer, type TestServer, REGION, TEST_CREDENTIALS } from './helpers/server';
import { boto3 } from './helpers/clients';
import { BUCKET, ROLE, jobName, settle } from './helpers/training';

const BASE = 'sagebox/base:bookworm';
let s: TestServer;
before(async () => {
  s = await startServer({ stopGraceSeconds: { jobs: 3, endpoints: 2 } });
  await s.app.ctx.objectStore.ensureBucket(BUCKET);
});
after(async () => s.stop());

function shellJob(name: string, script: string, instances = 1) {
  return new CreateTrainingJobCommand({
    TrainingJobName: name,
    RoleArn: ROLE,
    AlgorithmSpecification: { TrainingImage: BASE, TrainingInputMode: 'File', ContainerEntrypoint: ['/bin/sh', '-c', script] },
    OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/logs-out` },
    ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: instances, VolumeSizeInGB: 1 },
    StoppingCondition: { MaxRuntimeInSeconds: 600 },
  });
}

it('the SDK tail loop over a running 2-instance job prints every line exactly once and stops when the job ends', { timeout: 180_000 }, async () => {
  const name = jobName('tail');
  // Each host prints 300 numbered lines over about 4 s, so the loop sees the job running.
  await s.sagemaker.send(shellJob(name, 'for i in $(seq 1 300); do echo "$(hostname) line $i"; if [ $((i % 50)) -eq 0 ]; then sleep 0.7; fi; done', 2));
  const r = await boto3(s.clientEnv, `
import boto3, os, sys, time
kw = dict(endpoint_url=os.environ['AWS_ENDPOINT_URL'], region_name='us-east-1')
sm, logs = boto3.client('sagemaker', **kw), boto3.client('logs', **kw)
job, group = sys.argv[1], '/aws/sagemaker/TrainingJobs'
tokens, passes = {}, 0
def read_all():
    try:
        streams = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=job + '/', orderBy='LogStreamName', limit=50)['logStreams']
    except logs.exceptions.ResourceNotFoundException:
        return
    for st in streams:
        n = st['logStreamName']
        while True:
            args = dict(logGroupName=group, logStreamName=n, startFromHead=True)
            if n in tokens:
                args['nextToken'] = tokens[n]
            page = logs.get_log_events(**args)
            tokens[n] = page['nextForwardToken']
            if not page['events']:
                break
            for e in page['events']:
                print(e['message'])
while True:
    status = sm.describe_training_job(TrainingJobName=job)['TrainingJobStatus']
    read_all()
    passes += 1
    if status in ('Completed', 'Failed', 'Stopped'):
        read_all()
        print('STATUS', status, 'STREAMS', len(tokens), 'PASSES', passes, file=sys.stderr)
        break
    time.sleep(0.5)
`, [name]);
  const lines = r.stdout.split('\n').filter(Boolean);
  assert.match(r.stderr, /STATUS Completed STREAMS 2/);
  const passes = Number(/PASSES (\d+)/.exec(r.stderr)![1]);
  assert.ok(passes > 2, `the loop polled while the job ran (${passes} passes)`);
  for (const host of ['algo-1', 'algo-2']) {
    const mine = lines.filter((l) => l.startsWith(`${host} `));
    assert.deepEqual(mine, Array.from({ length: 300 }, (_, i) => `${host} line ${i + 1}`), `${host}: every line exactly once, in order`);
  }
  assert.equal(lines.length, 600);
});

it('keeps every byte of 1,000,000 lines, 100 KB lines and unterminated last lines', { timeout: 600_000 }, async () => {
  const name = jobName('chatty');
  const script =
    `awk 'BEGIN { big = "x"; while (length(big) < 102400) big = big big; big = substr(big, 1, 102400); for (i = 1; i <= 1000000; i++) { if (i % 100000 == 0) print "big " i " " big; else print "line " i } }'; ` +
    `printf 'stdout-tail-without-newline'; printf 'err-1\\nerr-2-without-newline' >&2`;
  // Longer than a ContainerEntrypoint member may be (256): delivered through a channel, as seed 003 does.
  await s.app.ctx.objectStore.put(BUCKET, `${name}/code/chatty.sh`, script);
  const job = shellJob(name, 'sh /opt/ml/input/data/code/chatty.sh');
  job.input.InputDataConfig = [{ ChannelName: 'code', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/${name}/code/` } } }];
  await s.sagemaker.send(job);
  const d = await settle(s, name, 540_000);
  assert.equal(d.TrainingJobStatus, 'Completed', d.FailureReason);

  const logs = new CloudWatchLogsClient({ endpoint: s.url, region: REGION, credentials: TEST_CREDENTIALS, maxAttempts: 3 });
  const group = '/aws/sagemaker/TrainingJobs';
  const streams = (await logs.send(new DescribeLogStreamsCommand({ logGroupName: group, logStreamNamePrefix: `${name}/` }))).logStreams ?? [];
  assert.equal(streams.length, 1);
  const messages: string[] = [];
  let token: string | undefined;
  for (;;) {
    const page = await logs.send(new GetLogEventsCommand({ logGroupName: group, logStreamName: streams[0]!.logStreamName!, startFromHead: true, nextToken: token }));
    if (!page.events?.length) break;
    for (const e of page.events) messages.push(e.message!);
    token = page.nextForwardToken;
  }
  logs.destroy();

  // stdout and stderr interleave only approximately (Docker copies them separately): check each on its own.
  const err = messages.filter((m) => m.startsWith('err-'));
  assert.deepEqual(err, ['err-1', 'err-2-without-newline']);
  const out = messages.filter((m) => !m.startsWith('err-'));
  assert.equal(out.length, 1_000_001);
  assert.equal(out.at(-1), 'stdout-tail-without-newline');
  const big = 'x'.repeat(102400);
  const expected = createHash('sha256');
  const got = createHash('sha256');
  for (let i = 1; i <= 1_000_000; i++) expected.update(i % 100_000 === 0 ? `big ${i} ${big}\n` : `line ${i}\n`);
  for (const m of out.slice(0, 1_000_000)) got.update(`${m}\n`);
  assert.equal(got.digest('hex'), expected.digest('hex'), 'every line, byte for byte, in order');
});
