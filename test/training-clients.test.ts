/**
 * Training jobs from the clients people use: AWS CLI v2 (/usr/bin/aws) running
 * seed 003's flow (an entrypoint script delivered through an S3 channel,
 * `create-training-job --cli-input-json`, `wait`), and a boto3 script running
 * seed 001's `train` image with its waiter. Inputs go into the embedded store
 * directly; outputs are read back from it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AWS_CLI, PYTHON, awsCli, boto3 } from './helpers/clients';
import { requireDocker } from './helpers/docker';
import { requireBinary, startServer, type TestServer } from './helpers/server';
import { ROLE, archiveFiles, jobLogs, jobName, putObject, sleep } from './helpers/training';

let s: TestServer;
let tmp: string;
before(async () => {
  requireBinary(AWS_CLI, "install Debian's awscli (apt-get install -y awscli; .ci/run does it)");
  requireBinary(PYTHON, "install Debian's python3-boto3 (.ci/run does it)");
  await requireDocker();
  s = await startServer({ stopGraceSeconds: { jobs: 3, endpoints: 3 } });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sagebox-train-clients-'));
});
after(async () => {
  await s.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const ENTRYPOINT_SCRIPT = `#!/bin/bash
echo "Running custom_entrypoint.sh"
echo "Hello you have provided the following arguments: " "$@"
echo "arguments: $*" > /opt/ml/model/hello.txt
`;

describe('training from the AWS CLI and boto3', { concurrency: true }, () => {
  it('seed 003: CLI v2 create-training-job --cli-input-json with an entrypoint script from an S3 channel, then wait', async () => {
    const name = jobName('seed003');
    const bucket = 'custom-entrypoint-input-bucket';
    await putObject(s, 'entrypoint/custom_entrypoint.sh', ENTRYPOINT_SCRIPT, bucket);
    await s.app.ctx.objectStore.ensureBucket('custom-entrypoint-output-bucket');
    const file = path.join(tmp, 'run-my-training-job.json');
    fs.writeFileSync(file, JSON.stringify({
      TrainingJobName: name,
      RoleArn: ROLE,
      AlgorithmSpecification: {
        TrainingInputMode: 'File',
        TrainingImage: 'sagebox/base:bookworm',
        ContainerEntrypoint: ['/bin/sh'],
        ContainerArguments: ['/opt/ml/input/data/code/custom_entrypoint.sh', 'first', 'second'],
      },
      InputDataConfig: [
        { ChannelName: 'code', DataSource: { S3DataSource: { S3DataDistributionType: 'FullyReplicated', S3DataType: 'S3Prefix', S3Uri: `s3://${bucket}/entrypoint` } }, InputMode: 'File' },
      ],
      OutputDataConfig: { S3OutputPath: 's3://custom-entrypoint-output-bucket/' },
      ResourceConfig: { VolumeSizeInGB: 10, InstanceCount: 1, InstanceType: 'ml.m5.2xlarge' },
      StoppingCondition: { MaxRuntimeInSeconds: 180 },
    }));
    const created = await awsCli(s.clientEnv, ['sagemaker', 'create-training-job', '--cli-input-json', `file://${file}`]);
    assert.equal(created.json.TrainingJobArn, `arn:aws:sagemaker:us-east-1:000000000000:training-job/${name}`);
    // `wait` polls every 60 s: poll describe until the job is done, then `wait` returns at once.
    let d: any;
    for (let i = 0; i < 600; i++) {
      d = (await awsCli(s.clientEnv, ['sagemaker', 'describe-training-job', '--training-job-name', name])).json;
      if (['Completed', 'Failed', 'Stopped'].includes(d.TrainingJobStatus)) break;
      await sleep(300);
    }
    assert.equal(d.TrainingJobStatus, 'Completed', d.FailureReason);
    await awsCli(s.clientEnv, ['sagemaker', 'wait', 'training-job-completed-or-stopped', '--training-job-name', name]);
    assert.equal(d.ModelArtifacts.S3ModelArtifacts, `s3://custom-entrypoint-output-bucket/${name}/output/model.tar.gz`);
    assert.equal(d.OutputDataConfig.KmsKeyId, '');
    assert.equal(d.ResourceConfig.VolumeSizeInGB, 10);
    assert.ok(!Number.isNaN(Date.parse(d.CreationTime)), d.CreationTime);
    const model = await archiveFiles(s, `${name}/output/model.tar.gz`, 'custom-entrypoint-output-bucket');
    assert.equal(model.get('hello.txt'), 'arguments: first second\n');
    const lines = [...jobLogs(s, name).values()].flat();
    assert.ok(lines.includes('Running custom_entrypoint.sh'), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('Hello you have provided the following arguments:') && l.includes('first second')));
    const listed = await awsCli(s.clientEnv, ['sagemaker', 'list-training-jobs', '--name-contains', name]);
    assert.deepEqual(listed.json.TrainingJobSummaries.map((x: any) => x.TrainingJobName), [name]);
    await assert.rejects(awsCli(s.clientEnv, ['sagemaker', 'stop-training-job', '--training-job-name', name]), /ValidationException.*status Completed/s);
  });

  it("seed 001: boto3 runs the `train` image, waits with the SDK's waiter and reads metrics and artifacts", async () => {
    const name = jobName('seed001-boto3');
    const rows = ['1,2.0,3.1', '0,-1.5,-2.0', '1,1.8,2.2', '0,-2.1,-1.1', '1,2.5,1.9', '0,-1.0,-2.6', '1,3.0,2.4', '0,-2.2,-1.7'];
    await putObject(s, `${name}/train/data.csv`, `${Array.from({ length: 5 }, () => rows.join('\n')).join('\n')}\n`, 'seed001-data');
    const r = await boto3(s.clientEnv, `
import boto3, json, os, sys
sm = boto3.client('sagemaker', endpoint_url=os.environ['AWS_ENDPOINT_URL'])
name = sys.argv[1]
sm.create_training_job(
    TrainingJobName=name,
    RoleArn='${ROLE}',
    AlgorithmSpecification={'TrainingImage': 'sagebox-examples/seed001-training:latest', 'TrainingInputMode': 'File',
                            'MetricDefinitions': [{'Name': 'train:accuracy', 'Regex': 'train-accuracy=(.*?);'}]},
    HyperParameters={'epochs': '3'},
    InputDataConfig=[{'ChannelName': 'train', 'ContentType': 'text/csv',
                      'DataSource': {'S3DataSource': {'S3DataType': 'S3Prefix', 'S3Uri': 's3://seed001-data/' + name + '/train/'}}}],
    OutputDataConfig={'S3OutputPath': 's3://seed001-data/output'},
    ResourceConfig={'InstanceType': 'ml.m5.large', 'InstanceCount': 1, 'VolumeSizeInGB': 5},
    StoppingCondition={'MaxRuntimeInSeconds': 300},
)
sm.get_waiter('training_job_completed_or_stopped').wait(TrainingJobName=name, WaiterConfig={'Delay': 1, 'MaxAttempts': 300})
d = sm.describe_training_job(TrainingJobName=name)
print(json.dumps({k: d.get(k) for k in ['TrainingJobStatus', 'SecondaryStatus', 'FailureReason', 'ModelArtifacts', 'FinalMetricDataList', 'BillableTimeInSeconds', 'SecondaryStatusTransitions']}, default=str))
`, [name]);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    assert.equal(out.TrainingJobStatus, 'Completed', out.FailureReason);
    assert.equal(out.ModelArtifacts.S3ModelArtifacts, `s3://seed001-data/output/${name}/output/model.tar.gz`);
    assert.equal(out.FinalMetricDataList[0].MetricName, 'train:accuracy');
    assert.ok(out.FinalMetricDataList[0].Value > 0.5);
    assert.ok(out.BillableTimeInSeconds >= 1);
    assert.ok(out.SecondaryStatusTransitions.every((t: any) => t.Status && t.StatusMessage));
    const model = await archiveFiles(s, `output/${name}/output/model.tar.gz`, 'seed001-data');
    assert.ok(model.has('model.joblib'), [...model.keys()].join(','));
    const output = await archiveFiles(s, `output/${name}/output/output.tar.gz`, 'seed001-data');
    assert.ok(output.has('metrics.json'), [...output.keys()].join(','));
  });
});
