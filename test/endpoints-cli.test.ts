/**
 * Seed 001 end to end with the clients people use: AWS CLI v2 (create-model,
 * create-endpoint-config, create-endpoint, wait endpoint-in-service,
 * sagemaker-runtime invoke-endpoint, delete-endpoint, wait endpoint-deleted)
 * against the seed's Flask image, and boto3 with its waiters (Delay 1)
 * serving a model the seed's training image produced.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { awsCli, boto3 } from './helpers/clients';
import { requireBinary, startServer, type TestServer } from './helpers/server';
import { SEED001, TEST_CONFIG, removeServerContainers, waitForStatus } from './helpers/endpoints';
import { packTarGz } from '../src/storage/tar-gz';

const run = promisify(execFile);

describe('seed 001 inference with AWS CLI v2 and boto3', { timeout: 300_000 }, () => {
  let s: TestServer;
  const cli = (args: string[]): ReturnType<typeof awsCli> => awsCli(s.clientEnv, ['--endpoint-url', s.url, ...args]);

  before(async () => {
    requireBinary('/usr/bin/aws', "install Debian's awscli (apt-get install -y awscli)");
    s = await startServer(TEST_CONFIG);
  });
  after(async () => {
    await s.stop();
    await removeServerContainers(s);
  });

  it('creates, waits for, invokes and deletes an endpoint with the CLI', async () => {
    await cli(['sagemaker', 'create-model', '--model-name', 'seed001', '--execution-role-arn', 'arn:aws:iam::000000000000:role/SageMakerRole', '--primary-container', `Image=${SEED001}`]);
    await cli([
      'sagemaker', 'create-endpoint-config', '--endpoint-config-name', 'seed001-config',
      '--production-variants', 'VariantName=AllTraffic,ModelName=seed001,InitialInstanceCount=1,InstanceType=ml.m5.large',
    ]);
    const created = await cli(['sagemaker', 'create-endpoint', '--endpoint-name', 'seed001', '--endpoint-config-name', 'seed001-config']);
    assert.equal(created.json.EndpointArn, 'arn:aws:sagemaker:us-east-1:000000000000:endpoint/seed001');
    // The CLI's waiter sleeps 30 s between polls: reach InService first, so its first poll succeeds.
    await waitForStatus(s, 'seed001', ['InService', 'Failed']);
    await cli(['sagemaker', 'wait', 'endpoint-in-service', '--endpoint-name', 'seed001']);

    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sagebox-cli-')), 'out.json');
    const invoked = await cli(['sagemaker-runtime', 'invoke-endpoint', '--endpoint-name', 'seed001', '--cli-binary-format', 'raw-in-base64-out', '--body', 'hello world', out]);
    assert.equal(invoked.json.InvokedProductionVariant, 'AllTraffic');
    assert.equal(invoked.json.ContentType, 'application/json');
    const answer = JSON.parse(fs.readFileSync(out, 'utf8'));
    assert.deepEqual(answer, { prediction: 'a', text: 'hello world' });

    const described = await cli(['sagemaker', 'describe-endpoint', '--endpoint-name', 'seed001']);
    assert.equal(described.json.EndpointStatus, 'InService');
    assert.equal(described.json.ProductionVariants[0].CurrentInstanceCount, 1);

    await cli(['sagemaker', 'delete-endpoint', '--endpoint-name', 'seed001']);
    // As above: the waiter's first poll must already find the endpoint gone.
    await waitForStatus(s, 'seed001', ['__gone__'], 30_000).catch((err: Error) => {
      if (!/Could not find endpoint/.test(String((err as { message?: string }).message))) throw err;
    });
    await cli(['sagemaker', 'wait', 'endpoint-deleted', '--endpoint-name', 'seed001']);
    await assert.rejects(cli(['sagemaker', 'describe-endpoint', '--endpoint-name', 'seed001']), /Could not find endpoint "arn:aws:sagemaker:us-east-1:000000000000:endpoint\/seed001"/);
  });

  it('serves a model trained by the seed training image through boto3 and its waiters', async () => {
    // Train with the seed's image, the way SageMaker would run it (train, /opt/ml), to get model.joblib.
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sagebox-seed001-'));
    const train = path.join(work, 'ml', 'input', 'data', 'train');
    fs.mkdirSync(train, { recursive: true });
    fs.mkdirSync(path.join(work, 'ml', 'input', 'config'), { recursive: true });
    fs.mkdirSync(path.join(work, 'ml', 'model'), { recursive: true });
    fs.mkdirSync(path.join(work, 'ml', 'output'), { recursive: true });
    const rows: string[] = [];
    for (let i = 0; i < 200; i++) {
      const a = ((i * 37) % 100) / 10 - 5;
      const b = ((i * 53) % 100) / 10 - 5;
      rows.push(`${a + b > 0 ? 1 : 0},${a.toFixed(1)},${b.toFixed(1)}`);
    }
    fs.writeFileSync(path.join(train, 'train.csv'), rows.join('\n') + '\n');
    fs.writeFileSync(path.join(work, 'ml', 'input', 'config', 'hyperparameters.json'), JSON.stringify({ epochs: '20' }));
    fs.writeFileSync(path.join(work, 'ml', 'input', 'config', 'inputdataconfig.json'), JSON.stringify({ train: { TrainingInputMode: 'File' } }));
    await run('docker', ['run', '--rm', '-v', `${path.join(work, 'ml')}:/opt/ml`, 'sagebox-examples/seed001-training:latest', 'train'], { maxBuffer: 16 * 1024 * 1024 });
    assert.ok(fs.existsSync(path.join(work, 'ml', 'model', 'model.joblib')), 'the training image wrote model.joblib');
    const archive = path.join(work, 'model.tar.gz');
    await packTarGz(path.join(work, 'ml', 'model'), archive);
    await s.app.ctx.objectStore.ensureBucket('seed001');
    await s.app.ctx.objectStore.putFile('seed001', 'output/model.tar.gz', archive);
    fs.rmSync(work, { recursive: true, force: true });

    const script = `
import boto3, json, os
url = os.environ['AWS_ENDPOINT_URL']
sm = boto3.client('sagemaker', endpoint_url=url)
rt = boto3.client('sagemaker-runtime', endpoint_url=url)
sm.create_model(ModelName='trained', ExecutionRoleArn='arn:aws:iam::000000000000:role/SageMakerRole', PrimaryContainer={'Image': '${SEED001}', 'ModelDataUrl': 's3://seed001/output/model.tar.gz'})
sm.create_endpoint_config(EndpointConfigName='trained-config', ProductionVariants=[{'VariantName': 'AllTraffic', 'ModelName': 'trained', 'InitialInstanceCount': 1, 'InstanceType': 'ml.m5.large'}])
sm.create_endpoint(EndpointName='trained', EndpointConfigName='trained-config', Tags=[])
sm.get_waiter('endpoint_in_service').wait(EndpointName='trained', WaiterConfig={'Delay': 1, 'MaxAttempts': 120})
r = rt.invoke_endpoint(EndpointName='trained', ContentType='text/csv', Accept='application/json', Body=b'4.0,3.0\\n-4.0,-3.0\\n')
print(json.dumps({'variant': r['InvokedProductionVariant'], 'type': r['ContentType'], 'body': json.loads(r['Body'].read())}))
try:
    rt.invoke_endpoint(EndpointName='trained', ContentType='text/csv', Body=b'1,2,3,4,5\\n')
except rt.exceptions.ModelError as e:
    print(json.dumps({'error': e.response['Error']['Code'], 'status': e.response['OriginalStatusCode'], 'http': e.response['ResponseMetadata']['HTTPStatusCode']}))
sm.delete_endpoint(EndpointName='trained')
sm.get_waiter('endpoint_deleted').wait(EndpointName='trained', WaiterConfig={'Delay': 1, 'MaxAttempts': 60})
print('deleted')
`;
    const r = await boto3(s.clientEnv, script);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(JSON.parse(lines[0]!), { variant: 'AllTraffic', type: 'application/json', body: { predictions: [1, 0] } });
    assert.deepEqual(JSON.parse(lines[1]!), { error: 'ModelError', status: 400, http: 424 });
    assert.equal(lines[2], 'deleted');
  });
});
