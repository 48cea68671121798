/**
 * The README's demo: seed 004's feature-hashing processing job on a synthetic
 * click-through data set, seed 001's training on its output, seed 001's
 * inference image as an endpoint, then a batch transform of held-out rows.
 * Everything goes through the real AWS SDK clients against a sagebox server
 * started here on the embedded defaults (SQLite, the local object store, the
 * local Docker engine). Run with `npm run demo` (scripts/demo.sh sets up).
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { spawnSagebox } from '../../src/cli/spawn-server';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  SageMakerClient, CreateProcessingJobCommand, DescribeProcessingJobCommand, CreateTrainingJobCommand,
  DescribeTrainingJobCommand, CreateModelCommand, CreateEndpointConfigCommand, CreateEndpointCommand,
  DescribeEndpointCommand, DeleteEndpointCommand, CreateTransformJobCommand, DescribeTransformJobCommand,
} from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient, InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';

const root = path.resolve(__dirname, '..', '..');
const dataDir = path.join(root, '.sagebox-demo');
const rows = Number(process.env.DEMO_ROWS ?? 50000);
const region = 'us-east-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const role = 'arn:aws:iam::000000000000:role/SageMakerRole';
const bucket = 'sagebox-demo';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (s: string) => console.log(`\n== ${s}`);

async function startSagebox(): Promise<{ proc: ChildProcess; url: string }> {
  fs.rmSync(dataDir, { recursive: true, force: true });
  const { child: proc, url } = await spawnSagebox({ dataDir, env: { ...process.env, SAGEBOX_LOG_LEVEL: 'warn' }, inheritStderr: true });
  console.log(`sagebox is serving on ${url} (data in ${dataDir})`);
  return { proc, url };
}

/** Describes until `done`, calling onChange whenever `key` changes. */
async function poll<T>(describe: () => Promise<T>, key: (d: T) => string | undefined, onChange: (d: T) => void, done: string[], status: (d: T) => string | undefined = key): Promise<T> {
  let last = '';
  for (;;) {
    const d = await describe();
    const k = key(d) ?? '';
    if (k !== last) {
      onChange(d);
      last = k;
    }
    if (done.includes(status(d) ?? '')) return d;
    await sleep(500);
  }
}

async function main(): Promise<void> {
  const { proc, url } = await startSagebox();
  const sm = new SageMakerClient({ endpoint: url, region, credentials });
  const rt = new SageMakerRuntimeClient({ endpoint: url, region, credentials });
  const s3 = new S3Client({ endpoint: url, region, credentials, forcePathStyle: true });
  try {
    say(`generating ${rows} avazu-like rows and uploading them through sagebox's S3 API`);
    const csv = execFileSync('python3', [path.join(root, 'examples/seed004-feature-hashing/generate.py'), '--rows', String(rows)], { maxBuffer: 1 << 30 });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'avazu/raw/train.csv', Body: csv }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'avazu/code/preprocess.py', Body: fs.readFileSync(path.join(root, 'examples/seed004-feature-hashing/code/preprocess.py')) }));
    console.log(`s3://${bucket}/avazu/raw/train.csv: ${(csv.length / 1e6).toFixed(1)} MB`);

    say('processing: seed 004 feature hashing (ScriptProcessor pattern)');
    const pj = `demo-features-${Date.now()}`;
    await sm.send(new CreateProcessingJobCommand({
      ProcessingJobName: pj,
      RoleArn: role,
      AppSpecification: { ImageUri: 'sagebox-examples/seed004-feature-hashing:latest', ContainerEntrypoint: ['python3', '/opt/ml/processing/input/code/preprocess.py'] },
      ProcessingResources: { ClusterConfig: { InstanceCount: 1, InstanceType: 'ml.m5.xlarge', VolumeSizeInGB: 10 } },
      ProcessingInputs: [
        { InputName: 'code', S3Input: { S3Uri: `s3://${bucket}/avazu/code/`, LocalPath: '/opt/ml/processing/input/code', S3DataType: 'S3Prefix', S3InputMode: 'File' } },
        { InputName: 'data', S3Input: { S3Uri: `s3://${bucket}/avazu/raw/`, LocalPath: '/opt/ml/processing/input/data', S3DataType: 'S3Prefix', S3InputMode: 'File' } },
      ],
      ProcessingOutputConfig: {
        Outputs: [
          { OutputName: 'train', S3Output: { S3Uri: `s3://${bucket}/avazu/features/train`, LocalPath: '/opt/ml/processing/output/train', S3UploadMode: 'EndOfJob' } },
          { OutputName: 'validation', S3Output: { S3Uri: `s3://${bucket}/avazu/features/validation`, LocalPath: '/opt/ml/processing/output/validation', S3UploadMode: 'EndOfJob' } },
        ],
      },
      StoppingCondition: { MaxRuntimeInSeconds: 3600 },
    }));
    const p = await poll(
      () => sm.send(new DescribeProcessingJobCommand({ ProcessingJobName: pj })),
      (d) => d.ProcessingJobStatus,
      (d) => console.log(`${pj}: ${d.ProcessingJobStatus}`),
      ['Completed', 'Failed', 'Stopped'],
    );
    if (p.ProcessingJobStatus !== 'Completed') throw new Error(`processing job ${p.ProcessingJobStatus}: ${p.FailureReason}`);
    if (p.ExitMessage) console.log(`ExitMessage: ${p.ExitMessage}`);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'avazu/features/' }));
    for (const o of listed.Contents ?? []) console.log(`  s3://${bucket}/${o.Key} (${o.Size} bytes)`);

    say('training: seed 001 training image on the hashed features');
    const tj = `demo-train-${Date.now()}`;
    await sm.send(new CreateTrainingJobCommand({
      TrainingJobName: tj,
      RoleArn: role,
      AlgorithmSpecification: {
        TrainingImage: 'sagebox-examples/seed001-training:latest',
        TrainingInputMode: 'File',
        MetricDefinitions: [
          { Name: 'train:accuracy', Regex: 'train-accuracy=(.*?);' },
          { Name: 'validation:accuracy', Regex: 'validation-accuracy=(.*?);' },
        ],
      },
      HyperParameters: { epochs: '5', alpha: '0.001' },
      InputDataConfig: [
        { ChannelName: 'train', ContentType: 'text/csv', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${bucket}/avazu/features/train`, S3DataDistributionType: 'FullyReplicated' } } },
        { ChannelName: 'validation', ContentType: 'text/csv', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${bucket}/avazu/features/validation`, S3DataDistributionType: 'FullyReplicated' } } },
      ],
      OutputDataConfig: { S3OutputPath: `s3://${bucket}/models` },
      ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 10 },
      StoppingCondition: { MaxRuntimeInSeconds: 3600 },
    }));
    let lastMessage = '';
    const final = await poll(
      () => sm.send(new DescribeTrainingJobCommand({ TrainingJobName: tj })),
      (d) => `${d.SecondaryStatus} - ${d.SecondaryStatusTransitions?.at(-1)?.StatusMessage}`,
      (d) => {
        const line = `${d.SecondaryStatus} - ${d.SecondaryStatusTransitions?.at(-1)?.StatusMessage}`;
        if (line !== lastMessage) console.log(`${tj}: ${line}`);
        lastMessage = line;
      },
      ['Completed', 'Failed', 'Stopped'],
      (d) => d.TrainingJobStatus,
    );
    if (final.TrainingJobStatus !== 'Completed') throw new Error(`training job ${final.TrainingJobStatus}: ${final.FailureReason}`);
    for (const m of final.FinalMetricDataList ?? []) console.log(`metric ${m.MetricName} = ${m.Value}`);
    console.log(`model artifact: ${final.ModelArtifacts?.S3ModelArtifacts}`);
    console.log(`training time: ${final.TrainingTimeInSeconds} s, billable: ${final.BillableTimeInSeconds} s`);

    say('hosting: seed 001 inference image behind an endpoint');
    const model = `demo-model-${Date.now()}`;
    await sm.send(new CreateModelCommand({ ModelName: model, ExecutionRoleArn: role, PrimaryContainer: { Image: 'sagebox-examples/seed001-inference:latest', ModelDataUrl: final.ModelArtifacts!.S3ModelArtifacts } }));
    await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: model, ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: model, InitialInstanceCount: 1, InstanceType: 'ml.m5.large' }] }));
    await sm.send(new CreateEndpointCommand({ EndpointName: model, EndpointConfigName: model }));
    const ep = await poll(
      () => sm.send(new DescribeEndpointCommand({ EndpointName: model })),
      (d) => d.EndpointStatus,
      (d) => console.log(`${model}: ${d.EndpointStatus}`),
      ['InService', 'Failed'],
    );
    if (ep.EndpointStatus !== 'InService') throw new Error(`endpoint ${ep.EndpointStatus}: ${ep.FailureReason}`);
    const validation = (await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: (await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'avazu/features/validation' }))).Contents![0]!.Key! }))).Body!.transformToString()).split('\n').filter(Boolean);
    const sample = validation.slice(0, 5);
    const body = sample.map((l) => l.split(',').slice(1).join(',')).join('\n');
    const res = await rt.send(new InvokeEndpointCommand({ EndpointName: model, ContentType: 'text/csv', Accept: 'text/csv', Body: Buffer.from(body) }));
    const preds = Buffer.from(res.Body!).toString().trim().split('\n');
    console.log(`InvokeEndpoint (variant ${res.InvokedProductionVariant}) on 5 held-out rows:`);
    sample.forEach((l, i) => console.log(`  label ${l.split(',')[0]} -> prediction ${preds[i]}`));
    const hello = await rt.send(new InvokeEndpointCommand({ EndpointName: model, ContentType: 'text/plain', Body: Buffer.from('hello world') }));
    console.log(`InvokeEndpoint 'hello world' -> ${Buffer.from(hello.Body!).toString()}`);

    say('batch transform: scoring the held-out rows');
    const heldOut = validation.slice(0, 1000).map((l) => l.split(',').slice(1).join(',')).join('\n') + '\n';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'avazu/score/input.csv', Body: heldOut }));
    const tr = `demo-score-${Date.now()}`;
    await sm.send(new CreateTransformJobCommand({
      TransformJobName: tr,
      ModelName: model,
      TransformInput: { DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${bucket}/avazu/score/` } }, ContentType: 'text/csv', SplitType: 'Line' },
      TransformOutput: { S3OutputPath: `s3://${bucket}/avazu/scored/`, Accept: 'text/csv', AssembleWith: 'Line' },
      TransformResources: { InstanceType: 'ml.m5.large', InstanceCount: 1 },
      BatchStrategy: 'MultiRecord',
      MaxPayloadInMB: 1,
    }));
    const x = await poll(
      () => sm.send(new DescribeTransformJobCommand({ TransformJobName: tr })),
      (d) => d.TransformJobStatus,
      (d) => console.log(`${tr}: ${d.TransformJobStatus}`),
      ['Completed', 'Failed', 'Stopped'],
    );
    if (x.TransformJobStatus !== 'Completed') throw new Error(`transform job ${x.TransformJobStatus}: ${x.FailureReason}`);
    const out = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'avazu/scored/input.csv.out' }))).Body!.transformToString();
    const lines = out.trim().split('\n');
    console.log(`s3://${bucket}/avazu/scored/input.csv.out: ${lines.length} predictions; first ten: ${lines.slice(0, 10).join(' ')}`);

    await sm.send(new DeleteEndpointCommand({ EndpointName: model }));
    say('done: every resource is still listed (aws --endpoint-url ' + url + ' sagemaker list-training-jobs ...) until sagebox stops');
  } finally {
    proc.kill('SIGTERM');
    sm.destroy();
    rt.destroy();
    s3.destroy();
  }
}

main().catch((e) => {
  console.error(`\ndemo failed: ${(e as Error).message}`);
  process.exit(1);
});
