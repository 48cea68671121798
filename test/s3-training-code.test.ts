/**
 * A training container (Debian's boto3 inside it) downloads its code from an
 * s3:// URI given as a hyperparameter, through the variables sagebox injects
 * (endpoint, region, the store-only key), runs it, and the job completes with
 * what the code wrote.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { CreateTrainingJobCommand } from '@aws-sdk/client-sagemaker';
import { startServer, type TestServer } from './helpers/server';
import { BUCKET, ROLE, archiveFiles, jobName, settle } from './helpers/training';

let s: TestServer;
before(async () => {
  s = await startServer({ stopGraceSeconds: { jobs: 3, endpoints: 2 } });
  await s.app.ctx.objectStore.ensureBucket(BUCKET);
});
after(async () => s.stop());

// Fetches the hyperparameter's s3:// object with boto3 through AWS_ENDPOINT_URL and runs it (boto3 1.26 does not read that variable itself).
const BOOT =
  "import boto3,json,os;h=json.load(open('/opt/ml/input/config/hyperparameters.json'));b,k=h['code'][5:].split('/',1);" +
  "boto3.client('s3',endpoint_url=os.environ['AWS_ENDPOINT_URL']).download_file(b,k,'/tmp/c.py');exec(open('/tmp/c.py').read())";

it('downloads its code from an s3:// hyperparameter through the injected variables and completes', async () => {
  const name = jobName('s3code');
  await s.app.ctx.objectStore.put(BUCKET, `${name}/code/train.py`, "import os\nopen('/opt/ml/model/result.txt', 'w').write('trained by code from ' + os.environ['AWS_ENDPOINT_URL_S3'])\nprint('code from S3 ran')\n");
  await s.sagemaker.send(new CreateTrainingJobCommand({
    TrainingJobName: name,
    RoleArn: ROLE,
    AlgorithmSpecification: { TrainingImage: 'sagebox-test/boto3:latest', TrainingInputMode: 'File', ContainerEntrypoint: ['python3', '-c', BOOT] },
    HyperParameters: { code: `s3://${BUCKET}/${name}/code/train.py` },
    OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/out` },
    ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 1 },
    StoppingCondition: { MaxRuntimeInSeconds: 300 },
  }));
  const d = await settle(s, name);
  assert.equal(d.TrainingJobStatus, 'Completed', d.FailureReason);
  assert.equal(d.ModelArtifacts!.S3ModelArtifacts, `s3://${BUCKET}/out/${name}/output/model.tar.gz`);
  const files = await archiveFiles(s, `out/${name}/output/model.tar.gz`);
  assert.match(files.get('result.txt') ?? '', /^trained by code from http:\/\/\d+\.\d+\.\d+\.\d+:\d+$/);
});
