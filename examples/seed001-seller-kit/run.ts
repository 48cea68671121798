/**
 * Seed 001 from both sides of an AWS Marketplace algorithm, against a running
 * sagebox (or SageMaker: only the endpoint and credentials differ):
 *
 *   seller: upload the validation data, CreateAlgorithm from algorithm.json,
 *           wait until its validation (a training job, then a batch transform
 *           of the trained model) has made it Completed;
 *   buyer:  train by AlgorithmName on their own data, make a model package of
 *           the artifacts (SourceAlgorithmSpecification), deploy a model made
 *           from the package to an endpoint and invoke it; then delete the
 *           endpoint, its configuration and the model.
 *
 *   node --import tsx examples/seed001-seller-kit/run.ts
 *
 * Environment: SAGEBOX_URL (default http://127.0.0.1:4780), KIT_NAME (default
 * seed001-logreg: the algorithm's name, also used for every other resource),
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_REGION (default test/test/us-east-1).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  SageMakerClient, CreateAlgorithmCommand, DescribeAlgorithmCommand, CreateTrainingJobCommand, DescribeTrainingJobCommand,
  CreateModelPackageCommand, DescribeModelPackageCommand, CreateModelCommand, CreateEndpointConfigCommand, CreateEndpointCommand,
  DescribeEndpointCommand, DeleteEndpointCommand, DeleteEndpointConfigCommand, DeleteModelCommand, type CreateAlgorithmCommandInput,
} from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient, InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { S3Client, CreateBucketCommand, PutObjectCommand, HeadBucketCommand } from '@aws-sdk/client-s3';

const here = __dirname;
const endpoint = process.env.SAGEBOX_URL ?? 'http://127.0.0.1:4780';
const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
const credentials = { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test' };
const kit = process.env.KIT_NAME ?? 'seed001-logreg';
const bucket = 'seed001-seller-kit';
const role = 'arn:aws:iam::000000000000:role/SageMakerRole';

const sm = new SageMakerClient({ endpoint, region, credentials });
const rt = new SageMakerRuntimeClient({ endpoint, region, credentials });
const s3 = new S3Client({ endpoint, region, credentials, forcePathStyle: true });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const say = (s: string): void => console.log(`== ${s}`);

/** Describes every second until `status(d)` is one of `done`; prints each new status. */
async function waitFor<T>(what: string, describe: () => Promise<T>, status: (d: T) => string | undefined, done: string[], timeoutMs = 900_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: string | undefined;
  for (;;) {
    const d = await describe();
    const st = status(d);
    if (st !== last) console.log(`   ${what}: ${st}`);
    last = st;
    if (done.includes(st ?? '')) return d;
    if (Date.now() > until) throw new Error(`${what} is still ${st} after ${timeoutMs / 1000} s`);
    await sleep(1000);
  }
}

async function upload(key: string, file: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: fs.readFileSync(path.join(here, 'data', file)), ContentType: 'text/csv' }));
  console.log(`   s3://${bucket}/${key}`);
}

async function seller(): Promise<string> {
  say(`seller: uploading the validation data to s3://${bucket}/`);
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  }
  await upload('validation-data/train/train.csv', 'validation-train.csv');
  await upload('validation-data/transform/rows.csv', 'validation-transform.csv');

  say(`seller: CreateAlgorithm ${kit} (algorithm.json, with a validation profile)`);
  // The kit name replaces the default one everywhere: the algorithm's name and its validation output prefixes.
  const text = fs.readFileSync(path.join(here, 'algorithm.json'), 'utf8').replaceAll('seed001-logreg', kit);
  const { AlgorithmArn } = await sm.send(new CreateAlgorithmCommand(JSON.parse(text) as CreateAlgorithmCommandInput));
  console.log(`   ${AlgorithmArn}`);
  const alg = await waitFor('algorithm', () => sm.send(new DescribeAlgorithmCommand({ AlgorithmName: kit })), (d) => d.AlgorithmStatus, ['Completed', 'Failed']);
  for (const v of alg.AlgorithmStatusDetails?.ValidationStatuses ?? []) console.log(`   validation ${v.Name}: ${v.Status}${v.FailureReason ? ` (${v.FailureReason})` : ''}`);
  if (alg.AlgorithmStatus !== 'Completed') throw new Error(`the algorithm's validation failed: ${JSON.stringify(alg.AlgorithmStatusDetails)}`);
  return AlgorithmArn!;
}

async function buyer(algorithmArn: string): Promise<string> {
  say('buyer: training on their own data by AlgorithmName');
  await upload(`${kit}/buyer/train/train.csv`, 'buyer-train.csv');
  const job = `${kit}-buyer-${Date.now()}`.slice(0, 63);
  await sm.send(new CreateTrainingJobCommand({
    TrainingJobName: job,
    RoleArn: role,
    AlgorithmSpecification: { AlgorithmName: algorithmArn, TrainingInputMode: 'File' },
    HyperParameters: { epochs: '20', learning_rate: 'constant', eta0: '0.05' },
    InputDataConfig: [{ ChannelName: 'train', ContentType: 'text/csv', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${bucket}/${kit}/buyer/train/` } } }],
    OutputDataConfig: { S3OutputPath: `s3://${bucket}/${kit}/buyer/output` },
    ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 1 },
    StoppingCondition: { MaxRuntimeInSeconds: 600 },
  }));
  const trained = await waitFor(job, () => sm.send(new DescribeTrainingJobCommand({ TrainingJobName: job })), (d) => d.TrainingJobStatus, ['Completed', 'Failed', 'Stopped']);
  if (trained.TrainingJobStatus !== 'Completed') throw new Error(`training failed: ${trained.FailureReason}`);
  console.log(`   hyperparameters (defaults filled): ${JSON.stringify(trained.HyperParameters)}`);
  for (const m of trained.FinalMetricDataList ?? []) console.log(`   ${m.MetricName} = ${m.Value}`);
  const artifacts = trained.ModelArtifacts!.S3ModelArtifacts!;
  console.log(`   model: ${artifacts}`);

  say('buyer: model package from the artifacts (SourceAlgorithmSpecification)');
  const pkg = `${kit}-package`;
  await sm.send(new CreateModelPackageCommand({
    ModelPackageName: pkg,
    ModelPackageDescription: `${kit} trained by ${job}`,
    SourceAlgorithmSpecification: { SourceAlgorithms: [{ AlgorithmName: algorithmArn, ModelDataUrl: artifacts }] },
  }));
  const described = await waitFor('model package', () => sm.send(new DescribeModelPackageCommand({ ModelPackageName: pkg })), (d) => d.ModelPackageStatus, ['Completed', 'Failed']);
  if (described.ModelPackageStatus !== 'Completed') throw new Error(`the model package failed: ${JSON.stringify(described.ModelPackageStatusDetails)}`);
  return described.ModelPackageArn!;
}

async function deploy(packageArn: string): Promise<void> {
  say('buyer: model from the package, endpoint, InvokeEndpoint');
  const model = `${kit}-model`;
  const config = `${kit}-config`;
  const ep = `${kit}-endpoint`;
  await sm.send(new CreateModelCommand({ ModelName: model, ExecutionRoleArn: role, Containers: [{ ModelPackageName: packageArn }], EnableNetworkIsolation: true }));
  await sm.send(new CreateEndpointConfigCommand({ EndpointConfigName: config, ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: model, InitialInstanceCount: 1, InstanceType: 'ml.m5.large' }] }));
  await sm.send(new CreateEndpointCommand({ EndpointName: ep, EndpointConfigName: config }));
  try {
    const d = await waitFor('endpoint', () => sm.send(new DescribeEndpointCommand({ EndpointName: ep })), (x) => x.EndpointStatus, ['InService', 'Failed']);
    if (d.EndpointStatus !== 'InService') throw new Error(`the endpoint failed: ${d.FailureReason}`);
    const rows = fs.readFileSync(path.join(here, 'data', 'invoke.csv'), 'utf8');
    const r = await rt.send(new InvokeEndpointCommand({ EndpointName: ep, ContentType: 'text/csv', Accept: 'text/csv', Body: Buffer.from(rows) }));
    const predictions = Buffer.from(r.Body!).toString('utf8').trim().split('\n');
    console.log(`   ${rows.trim().split('\n').length} rows -> predictions ${JSON.stringify(predictions)}`);
    console.log(`PREDICTIONS ${predictions.join(',')}`);
  } finally {
    say('clean-up: endpoint, endpoint configuration, model');
    await sm.send(new DeleteEndpointCommand({ EndpointName: ep })).catch((e) => console.error(`   DeleteEndpoint: ${(e as Error).message}`));
    await sm.send(new DeleteEndpointConfigCommand({ EndpointConfigName: config })).catch(() => undefined);
    await sm.send(new DeleteModelCommand({ ModelName: model })).catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const algorithmArn = await seller();
  const packageArn = await buyer(algorithmArn);
  await deploy(packageArn);
  say('done');
}

main().then(
  () => {
    for (const c of [sm, rt, s3]) c.destroy();
  },
  (err) => {
    console.error(`seller kit failed: ${(err as Error).message}`);
    process.exitCode = 1;
    for (const c of [sm, rt, s3]) c.destroy();
  },
);
