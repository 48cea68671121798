/**
 * Containers and the object store: a container started with the variables
 * sagebox injects (AppContext.containerEnv) reads and writes the embedded
 * store over the Docker bridge with boto3, and its key is refused for
 * SageMaker; then a SageMaker-Python-SDK-style ScriptProcessor flow:
 * GetCallerIdentity -> default bucket -> code and data uploaded ->
 * CreateProcessingJob -> wait -> outputs downloaded through S3.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import type Dockerode from 'dockerode';
import { boto3 } from './helpers/clients';
import { removeLabelled, requireDocker, testInstanceId } from './helpers/docker';
import { startServer, type TestServer } from './helpers/server';

const IMAGE = 'sagebox-test/boto3:latest';

/** Runs a Python script in a fresh container with `env`; resolves with its exit code and output. */
async function runPython(docker: Dockerode, env: Record<string, string>, script: string, labels: Record<string, string>, network?: string): Promise<{ code: number; out: string }> {
  const container = await docker.createContainer({
    Image: IMAGE,
    Cmd: ['python3', '-c', script],
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: labels,
    HostConfig: network ? { NetworkMode: network } : {},
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const logs = (await container.logs({ stdout: true, stderr: true })) as Buffer;
    // Strip the 8-byte stream headers of the multiplexed log format.
    const parts: Buffer[] = [];
    for (let off = 0; off + 8 <= logs.length; ) {
      const len = logs.readUInt32BE(off + 4);
      parts.push(logs.subarray(off + 8, off + 8 + len));
      off += 8 + len;
    }
    return { code: StatusCode, out: Buffer.concat(parts).toString() };
  } finally {
    await container.remove({ force: true });
  }
}

// Debian's boto3 1.26 predates AWS_ENDPOINT_URL (botocore 1.31+ reads it), so the
// endpoint is passed explicitly; the key and region come from the environment.
const IN_CONTAINER = `
import boto3, json, os
from botocore.exceptions import ClientError
ep = os.environ['AWS_ENDPOINT_URL']
s3 = boto3.client('s3', endpoint_url=os.environ['S3_ENDPOINT_URL'])
out = {'endpoint': ep, 'key_prefix': os.environ['AWS_ACCESS_KEY_ID'][:4]}
out['account'] = boto3.client('sts', endpoint_url=ep).get_caller_identity()['Account']
s3.put_object(Bucket='shared', Key='from-container/hello.txt', Body=b'written inside a container')
out['read'] = s3.get_object(Bucket='shared', Key='from-host.txt')['Body'].read().decode()
out['listed'] = [o['Key'] for o in s3.list_objects_v2(Bucket='shared')['Contents']]
try:
    boto3.client('sagemaker', endpoint_url=ep).list_training_jobs()
    out['sagemaker'] = 'allowed'
except ClientError as e:
    out['sagemaker'] = e.response['Error']['Code']
print('RESULT ' + json.dumps(out))
`;

describe('S3 API: containers and the SageMaker SDK flow', () => {
  let s: TestServer;
  let docker: Dockerode;
  const labels = { 'sagebox.test': testInstanceId('s3c') };

  before(async () => {
    docker = await requireDocker();
    await docker.getImage(IMAGE).inspect().catch((err) => {
      throw new Error(`${IMAGE} is missing: run scripts/build-test-images.sh boto3`, { cause: err });
    });
    s = await startServer({ accountId: '210987654321', instanceId: testInstanceId('s3c') });
  });
  after(async () => {
    await s.stop();
    await removeLabelled(docker, labels);
    await fsp.rm(s.dataDir, { recursive: true, force: true });
  });

  it('gives containers an endpoint on the bridge gateway and a key limited to S3 and STS', () => {
    const env = s.app.ctx.containerEnv();
    assert.match(env.AWS_ENDPOINT_URL ?? '', /^http:\/\/\d+\.\d+\.\d+\.\d+:\d+$/);
    assert.equal(env.AWS_ENDPOINT_URL_S3, env.AWS_ENDPOINT_URL);
    assert.equal(env.S3_ENDPOINT_URL, env.AWS_ENDPOINT_URL);
    assert.equal(env.AWS_REGION, 'us-east-1');
    assert.match(env.AWS_ACCESS_KEY_ID ?? '', /^SBXC/);
    assert.notEqual(env.AWS_SECRET_ACCESS_KEY, 'test');
  });

  it('lets a container read and write the store through the injected variables (default bridge and a user network)', async () => {
    await s.app.ctx.objectStore.ensureBucket('shared');
    await s.app.ctx.objectStore.put('shared', 'from-host.txt', 'written on the host');
    const env = s.app.ctx.containerEnv();
    const net = `sagebox-s3test-${labels['sagebox.test']}`;
    await docker.createNetwork({ Name: net, Labels: labels });
    for (const network of [undefined, net]) {
      const r = await runPython(docker, env, IN_CONTAINER, labels, network);
      assert.equal(r.code, 0, r.out);
      const out = JSON.parse(/RESULT (.*)/.exec(r.out)?.[1] ?? 'null');
      assert.equal(out.endpoint, env.AWS_ENDPOINT_URL);
      assert.equal(out.key_prefix, 'SBXC');
      assert.equal(out.account, '210987654321');
      assert.equal(out.read, 'written on the host');
      assert.deepEqual(out.listed, ['from-container/hello.txt', 'from-host.txt']);
      assert.equal(out.sagemaker, 'AccessDeniedException', 'the store-only listener refuses SageMaker');
    }
    const body = await s.app.ctx.objectStore.get('shared', 'from-container/hello.txt');
    assert.equal((await body.toArray()).join(''), 'written inside a container');
  });

  it('runs a ScriptProcessor-style job: default bucket, code upload, CreateProcessingJob, outputs downloaded via S3', async () => {
    const script = `
import boto3, json, os, time
from botocore.config import Config
ep = os.environ['AWS_ENDPOINT_URL']
region = os.environ['AWS_REGION']
account = boto3.client('sts', endpoint_url=ep).get_caller_identity()['Account']
bucket = 'sagemaker-%s-%s' % (region, account)
s3 = boto3.client('s3', endpoint_url=ep)
names = [b['Name'] for b in s3.list_buckets()['Buckets']]
if bucket not in names:
    s3.create_bucket(Bucket=bucket)
s3.head_bucket(Bucket=bucket)
job = 'script-proc-%d' % int(time.time() * 1000)
code = '''
import boto3, json, os, sys
inp = open('/opt/ml/processing/input/data/numbers.txt').read().split()
total = sum(int(x) for x in inp)
os.makedirs('/opt/ml/processing/output', exist_ok=True)
open('/opt/ml/processing/output/total.txt', 'w').write(str(total))
# The container also reaches the store itself with the injected key.
s3 = boto3.client('s3', endpoint_url=os.environ['AWS_ENDPOINT_URL_S3'])
keys = [o['Key'] for o in s3.list_objects_v2(Bucket=sys.argv[1], Prefix=sys.argv[2])['Contents']]
open('/opt/ml/processing/output/seen.json', 'w').write(json.dumps(keys))
'''
s3.put_object(Bucket=bucket, Key=job + '/source/processing.py', Body=code.encode())
s3.put_object(Bucket=bucket, Key=job + '/input/data/numbers.txt', Body=b'1 2 3 4 5 6 7 8 9 10')
sm = boto3.client('sagemaker', endpoint_url=ep)
sm.create_processing_job(
    ProcessingJobName=job,
    RoleArn='arn:aws:iam::%s:role/SageMakerRole' % account,
    AppSpecification={'ImageUri': '${IMAGE}', 'ContainerEntrypoint': ['python3', '/opt/ml/processing/input/code/processing.py'], 'ContainerArguments': [bucket, job + '/']},
    ProcessingResources={'ClusterConfig': {'InstanceCount': 1, 'InstanceType': 'ml.m5.large', 'VolumeSizeInGB': 5}},
    StoppingCondition={'MaxRuntimeInSeconds': 300},
    ProcessingInputs=[
        {'InputName': 'code', 'S3Input': {'S3Uri': 's3://%s/%s/source/processing.py' % (bucket, job), 'LocalPath': '/opt/ml/processing/input/code', 'S3DataType': 'S3Prefix', 'S3InputMode': 'File'}},
        {'InputName': 'data', 'S3Input': {'S3Uri': 's3://%s/%s/input/data' % (bucket, job), 'LocalPath': '/opt/ml/processing/input/data', 'S3DataType': 'S3Prefix', 'S3InputMode': 'File'}},
    ],
    ProcessingOutputConfig={'Outputs': [{'OutputName': 'result', 'S3Output': {'S3Uri': 's3://%s/%s/output/result' % (bucket, job), 'LocalPath': '/opt/ml/processing/output', 'S3UploadMode': 'EndOfJob'}}]},
)
deadline = time.time() + 180
while True:
    d = sm.describe_processing_job(ProcessingJobName=job)
    if d['ProcessingJobStatus'] in ('Completed', 'Failed', 'Stopped') or time.time() > deadline:
        break
    time.sleep(1)
count = d['ProcessingResources']['ClusterConfig']['InstanceCount']
# S3Downloader lists with ListObjects v1, then gets each key.
prefix = job + '/output/result/'
files = {}
for o in s3.list_objects(Bucket=bucket, Prefix=prefix).get('Contents', []):
    files[o['Key'][len(prefix):]] = s3.get_object(Bucket=bucket, Key=o['Key'])['Body'].read().decode()
print(json.dumps({'status': d['ProcessingJobStatus'], 'reason': d.get('FailureReason'), 'count': count, 'files': files, 'job': job, 'bucket': bucket}))
`;
    const r = await boto3(s.clientEnv, script);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? 'null');
    assert.equal(out.status, 'Completed', out.reason);
    assert.equal(out.bucket, 'sagemaker-us-east-1-210987654321');
    assert.equal(out.count, 1);
    assert.equal(out.files['total.txt'], '55');
    assert.deepEqual(JSON.parse(out.files['seen.json']), [`${out.job}/input/data/numbers.txt`, `${out.job}/source/processing.py`]);
  });
});
