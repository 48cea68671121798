/**
 * Seed 004 end to end with boto3 (Debian's /usr/bin/python3): the
 * ScriptProcessor pattern. preprocess.py travels as a processing input at
 * /opt/ml/processing/input/code/ and runs with ContainerEntrypoint
 * [python3, /opt/ml/processing/input/code/preprocess.py] on the seed 004 image;
 * the data comes from generate.py. The script waits with boto3's
 * processing_job_completed_or_stopped waiter, then reads
 * list_processing_jobs() and describe_processing_job() as the seed does.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { startServer, type TestServer } from './helpers/server';
import { PYTHON, boto3 } from './helpers/clients';
import { createJob, getObject, jobLogs, jobName, probeJob, putObject, stopAndClean } from './helpers/processing';

const run = promisify(execFile);
const EXAMPLE = path.join(__dirname, '..', 'examples', 'seed004-feature-hashing');
const IMAGE = 'sagebox-examples/seed004-feature-hashing:latest';
const BUCKET = 'seed004-bucket';
const ROWS = 5000;
const N_FEATURES = 20;

let s: TestServer;
before(async () => {
  s = await startServer({ stopGraceSeconds: { jobs: 3, endpoints: 3 } });
});
after(async () => stopAndClean(s));

const SCRIPT = String.raw`
import boto3, json, os, sys
name, bucket, image, n_features = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
sm = boto3.client('sagemaker', endpoint_url=os.environ['AWS_ENDPOINT_URL'])
code = '/opt/ml/processing/input/code/'
arn = sm.create_processing_job(
    ProcessingJobName=name,
    RoleArn='arn:aws:iam::123456789012:role/SageMakerRole',
    AppSpecification={
        'ImageUri': image,
        'ContainerEntrypoint': ['python3', code + 'preprocess.py'],
        'ContainerArguments': ['--n-features', n_features, '--validation-size', '0.2'],
    },
    ProcessingResources={'ClusterConfig': {'InstanceCount': 1, 'InstanceType': 'ml.m5.xlarge', 'VolumeSizeInGB': 30}},
    StoppingCondition={'MaxRuntimeInSeconds': 3600},
    ProcessingInputs=[
        {'InputName': 'input-1', 'AppManaged': False, 'S3Input': {
            'S3Uri': 's3://%s/input/train' % bucket, 'LocalPath': '/opt/ml/processing/input/train',
            'S3DataType': 'S3Prefix', 'S3InputMode': 'File', 'S3DataDistributionType': 'FullyReplicated', 'S3CompressionType': 'None'}},
        {'InputName': 'code', 'AppManaged': False, 'S3Input': {
            'S3Uri': 's3://%s/%s/source/preprocess.py' % (bucket, name), 'LocalPath': code,
            'S3DataType': 'S3Prefix', 'S3InputMode': 'File', 'S3DataDistributionType': 'FullyReplicated', 'S3CompressionType': 'None'}},
    ],
    ProcessingOutputConfig={'Outputs': [
        {'OutputName': 'train_data', 'AppManaged': False, 'S3Output': {
            'S3Uri': 's3://%s/output/train' % bucket, 'LocalPath': '/opt/ml/processing/output/train', 'S3UploadMode': 'EndOfJob'}},
        {'OutputName': 'validation_data', 'AppManaged': False, 'S3Output': {
            'S3Uri': 's3://%s/output/validation' % bucket, 'LocalPath': '/opt/ml/processing/output/validation', 'S3UploadMode': 'EndOfJob'}},
    ]},
    Environment={'PYTHONUNBUFFERED': '1'},
)['ProcessingJobArn']
sm.get_waiter('processing_job_completed_or_stopped').wait(ProcessingJobName=name, WaiterConfig={'Delay': 1, 'MaxAttempts': 300})
jobs = sm.list_processing_jobs()
described = sm.describe_processing_job(ProcessingJobName=name)
described.pop('ResponseMetadata', None)
print(json.dumps({'arn': arn, 'first_summary': jobs['ProcessingJobSummaries'][0], 'summaries': len(jobs['ProcessingJobSummaries']), 'describe': described}, default=str))
`;

it('seed 004: a ScriptProcessor-style feature-hashing job through boto3', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'seed004-'));
  const data = path.join(tmp, 'train.csv');
  await run(PYTHON, [path.join(EXAMPLE, 'generate.py'), '--rows', String(ROWS), '--seed', '7', '-o', data, '--quiet']);
  const name = jobName('seed004');
  await putObject(s, 'input/train/train.csv', fs.readFileSync(data), BUCKET);
  await putObject(s, `${name}/source/preprocess.py`, fs.readFileSync(path.join(EXAMPLE, 'code', 'preprocess.py')), BUCKET);
  // An older job in the same account: list_processing_jobs() shows the newest first, as the seed expects.
  await createJob(s, probeJob(jobName('older')));

  const r = await boto3(s.clientEnv, SCRIPT, [name, BUCKET, IMAGE, String(N_FEATURES)]);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  const d = out.describe;
  assert.equal(d.ProcessingJobStatus, 'Completed', d.FailureReason);
  assert.equal(out.arn, d.ProcessingJobArn);
  assert.equal(out.summaries, 2);
  assert.equal(out.first_summary.ProcessingJobName, name);
  assert.equal(out.first_summary.ProcessingJobStatus, 'Completed');
  assert.equal(out.first_summary.ProcessingJobArn, out.arn);
  assert.ok(out.first_summary.CreationTime && out.first_summary.ProcessingEndTime && out.first_summary.LastModifiedTime);
  assert.equal(out.first_summary.ExitMessage, d.ExitMessage);
  // What the seed (and the SageMaker SDK's processor.jobs[-1].describe()) reads.
  assert.equal(d.ProcessingJobName, name);
  assert.equal(d.ProcessingResources.ClusterConfig.InstanceCount, 1);
  assert.deepEqual(d.AppSpecification.ContainerEntrypoint, ['python3', '/opt/ml/processing/input/code/preprocess.py']);
  assert.deepEqual(d.ProcessingInputs.map((i: any) => i.InputName), ['input-1', 'code']);
  assert.deepEqual(d.ProcessingOutputConfig.Outputs.map((o: any) => o.S3Output.S3Uri), [`s3://${BUCKET}/output/train`, `s3://${BUCKET}/output/validation`]);
  assert.deepEqual(d.StoppingCondition, { MaxRuntimeInSeconds: 3600 });
  assert.equal(d.RoleArn, 'arn:aws:iam::123456789012:role/SageMakerRole');
  assert.ok(d.CreationTime && d.ProcessingStartTime && d.ProcessingEndTime && d.LastModifiedTime);
  assert.match(d.ExitMessage, new RegExp(`^rows=${ROWS} train=4000 validation=1000 .*features=${N_FEATURES} format=csv`));

  const train = (await getObject(s, 'output/train/train_data', BUCKET))!.trim().split('\n');
  const validation = (await getObject(s, 'output/validation/validation_data', BUCKET))!.trim().split('\n');
  assert.equal(train.length, 4000);
  assert.equal(validation.length, 1000);
  for (const row of [train[0]!, train[3999]!, validation[0]!]) {
    const cells = row.split(',');
    assert.equal(cells.length, N_FEATURES + 1, 'the click label, then the hashed features');
    assert.ok(cells[0] === '0' || cells[0] === '1');
    assert.ok(cells.every((c) => Number.isFinite(Number(c))));
  }
  const lines = [...jobLogs(s, name).values()].flat();
  assert.ok(lines.some((l) => l.startsWith('preprocess.py: 1 input file(s) in /opt/ml/processing/input/train')), lines.join('\n'));
  fs.rmSync(tmp, { recursive: true, force: true });
});
