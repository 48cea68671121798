/**
 * Batch transform from the clients people use. AWS CLI v2 (/usr/bin/aws)
 * end to end with seed 001: train a model with the seed001-training image,
 * create a model on seed001-inference from its model.tar.gz, run a transform
 * job over a CSV (SplitType Line, MultiRecord, AssembleWith Line, an
 * InputFilter dropping the label, JoinSource Input), wait (poll Describe,
 * then `wait transform-job-completed-or-stopped`, which returns at once), fetch the output with
 * `aws s3 cp` and compare it line by line with what the model must answer.
 * boto3: create, the transform_job_completed_or_stopped waiter, describe.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AWS_CLI, PYTHON, awsCli, boto3 } from './helpers/clients';
import { removeLabelled, requireDocker } from './helpers/docker';
import { requireBinary, startServer, type TestServer } from './helpers/server';
import { BUCKET, createModel, putObject, recorded, sleep, TEST_CONFIG, uniqueName } from './helpers/transform';

const ROLE = 'arn:aws:iam::123456789012:role/SageMakerRole';
let s: TestServer;
let tmp: string;

before(async () => {
  requireBinary(AWS_CLI, "install Debian's awscli (apt-get install -y awscli; .ci/run does it)");
  requireBinary(PYTHON, "install Debian's python3-boto3 (.ci/run does it)");
  await requireDocker();
  s = await startServer(TEST_CONFIG);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sagebox-transform-clients-'));
});

after(async () => {
  await s.stop();
  await removeLabelled(await requireDocker(), { 'sagebox.instance': s.app.config.instanceId });
  fs.rmSync(tmp, { recursive: true, force: true });
});

const cli = (...args: string[]): ReturnType<typeof awsCli> => awsCli(s.clientEnv, args);

/** Two well separated classes: label 1 when both features are positive, 0 when both are negative. */
function rows(n: number, offset: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const label = (i + offset) % 2;
    const sign = label === 1 ? 1 : -1;
    const a = (sign * (2 + ((i * 7 + offset) % 10) / 5)).toFixed(2);
    const b = (sign * (2.5 + ((i * 3 + offset) % 10) / 4)).toFixed(2);
    return `${label},${a},${b}`;
  });
}

describe('transform from the AWS CLI and boto3', { concurrency: true }, () => {
  it('seed 001 through CLI v2: train, create-model, create-transform-job with a join, wait, compare the output line by line', async () => {
    const name = uniqueName('seed001-xform');
    const train = path.join(tmp, 'train.csv');
    fs.writeFileSync(train, `${rows(200, 0).join('\n')}\n`);
    await cli('s3', 'mb', `s3://${BUCKET}`).catch(() => undefined);
    await cli('s3', 'cp', train, `s3://${BUCKET}/${name}/train/train.csv`);
    await cli('sagemaker', 'create-training-job', '--training-job-name', `${name}-train`, '--role-arn', ROLE,
      '--algorithm-specification', JSON.stringify({ TrainingImage: 'sagebox-examples/seed001-training:latest', TrainingInputMode: 'File' }),
      '--hyper-parameters', JSON.stringify({ epochs: '5' }),
      '--input-data-config', JSON.stringify([{ ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/${name}/train/` } } }]),
      '--output-data-config', JSON.stringify({ S3OutputPath: `s3://${BUCKET}/${name}/model` }),
      '--resource-config', JSON.stringify({ InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 5 }),
      '--stopping-condition', JSON.stringify({ MaxRuntimeInSeconds: 600 }));
    // Polled here: the CLI's training waiter sleeps 60 s between calls.
    let trained = (await cli('sagemaker', 'describe-training-job', '--training-job-name', `${name}-train`)).json;
    for (const until = Date.now() + 180_000; !['Completed', 'Failed', 'Stopped'].includes(trained.TrainingJobStatus) && Date.now() < until;) {
      await sleep(500);
      trained = (await cli('sagemaker', 'describe-training-job', '--training-job-name', `${name}-train`)).json;
    }
    assert.equal(trained.TrainingJobStatus, 'Completed', trained.FailureReason);

    await cli('sagemaker', 'create-model', '--model-name', `${name}-model`, '--execution-role-arn', ROLE,
      '--primary-container', JSON.stringify({ Image: 'sagebox-examples/seed001-inference:latest', ModelDataUrl: trained.ModelArtifacts.S3ModelArtifacts }));

    const input = rows(60, 1);
    const csv = path.join(tmp, 'batch.csv');
    fs.writeFileSync(csv, `${input.join('\n')}\n`);
    await cli('s3', 'cp', csv, `s3://${BUCKET}/${name}/batch/batch.csv`);
    const created = await cli('sagemaker', 'create-transform-job', '--transform-job-name', name, '--model-name', `${name}-model`,
      '--batch-strategy', 'MultiRecord', '--max-payload-in-mb', '1', '--max-concurrent-transforms', '2',
      '--transform-input', JSON.stringify({ DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/${name}/batch/` } }, ContentType: 'text/csv', SplitType: 'Line' }),
      '--transform-output', JSON.stringify({ S3OutputPath: `s3://${BUCKET}/${name}/predictions`, Accept: 'text/csv', AssembleWith: 'Line' }),
      '--transform-resources', JSON.stringify({ InstanceType: 'ml.m5.large', InstanceCount: 1 }),
      '--data-processing', JSON.stringify({ InputFilter: '$[1:]', JoinSource: 'Input' }));
    assert.match(created.json.TransformJobArn, new RegExp(`:transform-job/${name}$`));

    let status = '';
    for (const until = Date.now() + 180_000; Date.now() < until;) {
      const d = (await cli('sagemaker', 'describe-transform-job', '--transform-job-name', name)).json;
      status = d.TransformJobStatus;
      if (['Completed', 'Failed', 'Stopped'].includes(status)) {
        assert.equal(status, 'Completed', d.FailureReason);
        break;
      }
      await sleep(500);
    }
    assert.equal(status, 'Completed');
    const t0 = Date.now();
    await cli('sagemaker', 'wait', 'transform-job-completed-or-stopped', '--transform-job-name', name);
    assert.ok(Date.now() - t0 < 20_000, 'the waiter returns at once for a finished job');

    const out = path.join(tmp, 'batch.csv.out');
    await cli('s3', 'cp', `s3://${BUCKET}/${name}/predictions/batch.csv.out`, out);
    const lines = fs.readFileSync(out, 'utf8').split('\n');
    assert.equal(lines.pop(), '', 'every line ends with a newline');
    assert.equal(lines.length, input.length);
    lines.forEach((line, i) => {
      const label = input[i]!.split(',')[0];
      assert.equal(line, `${input[i]},${label}`, `line ${i + 1}: the input row joined with the prediction`);
    });
    const listed = (await cli('sagemaker', 'list-transform-jobs', '--name-contains', name)).json;
    assert.deepEqual(listed.TransformJobSummaries.map((j: { TransformJobName: string }) => j.TransformJobName), [name]);
  });

  it('boto3: create_transform_job, the transform_job_completed_or_stopped waiter, describe_transform_job', async () => {
    const name = uniqueName('boto3-xform');
    await createModel(s, `${name}-model`);
    await putObject(s, `${name}/in/a.txt`, 'hello\nworld\n');
    const r = await boto3(s.clientEnv, `
import boto3, json, os, sys
sm = boto3.client('sagemaker', endpoint_url=os.environ['AWS_ENDPOINT_URL'])
name = sys.argv[1]
sm.create_transform_job(
    TransformJobName=name, ModelName=name + '-model', BatchStrategy='SingleRecord',
    TransformInput={'DataSource': {'S3DataSource': {'S3DataType': 'S3Prefix', 'S3Uri': 's3://${BUCKET}/' + name + '/in/'}},
                    'ContentType': 'text/plain', 'SplitType': 'Line'},
    TransformOutput={'S3OutputPath': 's3://${BUCKET}/' + name + '/out', 'AssembleWith': 'Line'},
    TransformResources={'InstanceType': 'ml.m5.large', 'InstanceCount': 1},
)
sm.get_waiter('transform_job_completed_or_stopped').wait(TransformJobName=name, WaiterConfig={'Delay': 1, 'MaxAttempts': 300})
d = sm.describe_transform_job(TransformJobName=name)
print(json.dumps({k: d.get(k) for k in ['TransformJobStatus', 'FailureReason', 'BatchStrategy', 'TransformStartTime', 'TransformEndTime', 'DataProcessing']}, default=str))
`, [name]);
    const d = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    assert.equal(d.TransformJobStatus, 'Completed', d.FailureReason);
    assert.equal(d.BatchStrategy, 'SingleRecord');
    assert.ok(d.TransformStartTime && d.TransformEndTime);
    assert.deepEqual((await recorded(s, `${name}/out/a.txt.out`)).map((x) => [x.body, x.content_type]), [['hello', 'text/plain'], ['world', 'text/plain']]);
  });
});
