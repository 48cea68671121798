/**
 * Algorithms without running a container: CreateAlgorithm / Describe / List /
 * Delete, the definition checks of CreateAlgorithm, and every rule of a
 * TrainingSpecification broken once by CreateTrainingJob with AlgorithmName
 * (each answered with a ValidationException naming the rule, before any job
 * exists). The algorithm that is not Completed fails its validation before a
 * container starts (its output bucket does not exist).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateAlgorithmCommand, CreateTrainingJobCommand, DeleteAlgorithmCommand, DescribeAlgorithmCommand, DescribeTrainingJobCommand,
  ListAlgorithmsCommand, ListTrainingJobsCommand, type CreateTrainingJobCommandInput,
} from '@aws-sdk/client-sagemaker';
import { requireDocker } from './helpers/docker';
import { startServer, type TestServer } from './helpers/server';
import { algorithmRequest, seed001Spec, waitAlgorithm } from './helpers/algorithms';
import { BUCKET, ROLE, jobName } from './helpers/training';

let s: TestServer;
const ALG = 'spec-algo';
let algArn: string;

before(async () => {
  await requireDocker();
  s = await startServer();
  await s.app.ctx.objectStore.ensureBucket(BUCKET);
  algArn = (await s.sagemaker.send(new CreateAlgorithmCommand(algorithmRequest(ALG)))).AlgorithmArn!;
});
after(async () => s.stop());

type Req = CreateTrainingJobCommandInput;
const channel = (name: string, extra: Record<string, unknown> = {}) => ({
  ChannelName: name,
  ContentType: 'text/csv',
  DataSource: { S3DataSource: { S3DataType: 'S3Prefix' as const, S3Uri: `s3://${BUCKET}/missing/${name}/` } },
  ...extra,
});

/** A request that satisfies the specification (its data does not exist, so a created job fails before any container). */
function validJob(name: string, algorithm = ALG): Req {
  return {
    TrainingJobName: name,
    RoleArn: ROLE,
    AlgorithmSpecification: { AlgorithmName: algorithm, TrainingInputMode: 'File' },
    HyperParameters: { seed: '7', epochs: '3' },
    InputDataConfig: [channel('train')],
    OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/out` },
    ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 1 },
    StoppingCondition: { MaxRuntimeInSeconds: 60 },
  };
}

/** [rule, change to a valid request, what the message must say]. */
const BROKEN: [string, (r: Req) => void, RegExp][] = [
  ['undeclared channel', (r) => void r.InputDataConfig!.push(channel('test')), /\[TrainingChannels\] Channel 'test' \(inputDataConfig\.2\.member\.channelName\) is not a training channel of algorithm 'spec-algo'; its channels are: train, validation/],
  ['required channel missing', (r) => void (r.InputDataConfig = [channel('validation')]), /\[TrainingChannels\.IsRequired\] Channel 'train' is required by algorithm 'spec-algo'/],
  ['content type', (r) => void (r.InputDataConfig = [channel('train', { ContentType: 'application/json' })]), /\[SupportedContentTypes\] Content type 'application\/json' of channel 'train'.*supported: text\/csv/],
  ['compression type', (r) => void (r.InputDataConfig = [channel('train', { CompressionType: 'Gzip' })]), /\[SupportedCompressionTypes\] Compression type 'Gzip' of channel 'train'.*supported: None/],
  ['input mode', (r) => void (r.AlgorithmSpecification!.TrainingInputMode = 'Pipe'), /\[SupportedInputModes\] Input mode 'Pipe' of channel 'train' \(algorithmSpecification\.trainingInputMode\).*supported: File/],
  ['channel input mode', (r) => void (r.InputDataConfig = [channel('train', { InputMode: 'FastFile' })]), /\[SupportedInputModes\] Input mode 'FastFile' of channel 'train' \(inputDataConfig\.1\.member\.inputMode\)/],
  ['instance type', (r) => void (r.ResourceConfig!.InstanceType = 'ml.c5.xlarge'), /\[SupportedTrainingInstanceTypes\] Instance type 'ml\.c5\.xlarge'.*supported: ml\.m5\.large, ml\.m5\.xlarge/],
  ['distributed training', (r) => void (r.ResourceConfig!.InstanceCount = 2), /\[SupportsDistributedTraining\] 2 instances requested, but algorithm 'spec-algo' does not support distributed training/],
  ['undeclared hyperparameter', (r) => void (r.HyperParameters!.momentum = '0.9'), /\[SupportedHyperParameters\] Hyperparameter 'momentum' is not a hyperparameter of algorithm 'spec-algo'/],
  ['integer type', (r) => void (r.HyperParameters!.epochs = 'ten'), /\[HyperParameter\.Integer\] Hyperparameter 'epochs' must be an Integer, got 'ten'/],
  ['integer, not a float', (r) => void (r.HyperParameters!.epochs = '2.5'), /\[HyperParameter\.Integer\] Hyperparameter 'epochs' must be an Integer, got '2\.5'/],
  ['integer range', (r) => void (r.HyperParameters!.epochs = '500'), /\[HyperParameter\.Integer\] Hyperparameter 'epochs' must be an Integer in \[1, 100\], got '500'/],
  ['continuous type', (r) => void (r.HyperParameters!.alpha = 'small'), /\[HyperParameter\.Continuous\] Hyperparameter 'alpha' must be a Continuous \(floating-point\) value, got 'small'/],
  ['continuous range', (r) => void (r.HyperParameters!.alpha = '1.5'), /\[HyperParameter\.Continuous\] Hyperparameter 'alpha' must be a Continuous value in \[0, 1\], got '1\.5'/],
  ['categorical values', (r) => void (r.HyperParameters!.learning_rate = 'fast'), /\[HyperParameter\.Categorical\] Hyperparameter 'learning_rate' must be one of the Categorical values \[optimal, constant, invscaling, adaptive\], got 'fast'/],
  ['required hyperparameter', (r) => void delete r.HyperParameters!.seed, /\[HyperParameter\.IsRequired\] Hyperparameter 'seed' is required by algorithm 'spec-algo' but not given/],
  ['image and algorithm', (r) => void (r.AlgorithmSpecification!.TrainingImage = 'sagebox-test/probe:latest'), /Only one of 'algorithmSpecification\.trainingImage' and 'algorithmSpecification\.algorithmName'/],
  ['unknown algorithm', (r) => void (r.AlgorithmSpecification!.AlgorithmName = 'no-such-algo'), /Algorithm arn:aws:sagemaker:us-east-1:\d{12}:algorithm\/no-such-algo does not exist/],
];

async function rejects(p: Promise<unknown>, expected: RegExp, label: string): Promise<void> {
  await assert.rejects(p, (e: any) => {
    assert.equal(e.name, 'ValidationException', `${label}: ${e.name} ${e.message}`);
    assert.match(e.message, expected, label);
    return true;
  }, label);
}

describe('algorithms without containers', () => {
  it('describes an algorithm with every field, status Completed at once without a ValidationSpecification; lists and deletes it', async () => {
    const d = await s.sagemaker.send(new DescribeAlgorithmCommand({ AlgorithmName: algArn }));
    assert.equal(d.AlgorithmName, ALG);
    assert.match(d.AlgorithmArn!, /^arn:aws:sagemaker:us-east-1:\d{12}:algorithm\/spec-algo$/);
    assert.equal(d.AlgorithmStatus, 'Completed');
    assert.deepEqual(d.AlgorithmStatusDetails, { ValidationStatuses: [], ImageScanStatuses: [] });
    assert.ok(d.CreationTime instanceof Date);
    assert.equal(d.AlgorithmDescription, 'seed 001 logistic regression');
    assert.deepEqual(d.TrainingSpecification, seed001Spec());
    assert.equal(d.InferenceSpecification?.Containers?.[0]?.Image, 'sagebox-examples/seed001-inference:latest');
    assert.deepEqual(d.InferenceSpecification?.SupportedResponseMIMETypes, ['text/csv', 'application/json']);
    assert.equal(d.CertifyForMarketplace, false);

    await s.sagemaker.send(new CreateAlgorithmCommand(algorithmRequest('spec-algo-b', { AlgorithmDescription: 'second' })));
    const l = await s.sagemaker.send(new ListAlgorithmsCommand({ NameContains: 'SPEC-ALGO' }));
    assert.deepEqual(l.AlgorithmSummaryList?.map((a) => a.AlgorithmName), ['spec-algo', 'spec-algo-b']);
    assert.equal(l.AlgorithmSummaryList?.[1]?.AlgorithmStatus, 'Completed');
    assert.equal(l.AlgorithmSummaryList?.[1]?.AlgorithmDescription, 'second');
    const page = await s.sagemaker.send(new ListAlgorithmsCommand({ NameContains: 'spec-algo', SortBy: 'Name', SortOrder: 'Descending', MaxResults: 1 }));
    assert.deepEqual(page.AlgorithmSummaryList?.map((a) => a.AlgorithmName), ['spec-algo-b']);
    assert.ok(page.NextToken);
    const page2 = await s.sagemaker.send(new ListAlgorithmsCommand({ NameContains: 'spec-algo', SortBy: 'Name', SortOrder: 'Descending', MaxResults: 1, NextToken: page.NextToken }));
    assert.deepEqual(page2.AlgorithmSummaryList?.map((a) => a.AlgorithmName), ['spec-algo']);

    await rejects(s.sagemaker.send(new CreateAlgorithmCommand(algorithmRequest('SPEC-ALGO-B'))), /Cannot create already existing algorithm/, 'duplicate');
    await s.sagemaker.send(new DeleteAlgorithmCommand({ AlgorithmName: 'spec-algo-b' }));
    await rejects(s.sagemaker.send(new DescribeAlgorithmCommand({ AlgorithmName: 'spec-algo-b' })), /Algorithm arn:.*:algorithm\/spec-algo-b does not exist/, 'deleted');
    await rejects(s.sagemaker.send(new DeleteAlgorithmCommand({ AlgorithmName: 'spec-algo-b' })), /does not exist/, 'deleted twice');
  });

  it('refuses algorithm definitions that cannot work', async () => {
    const hp = (h: Record<string, unknown>) => algorithmRequest('bad-algo', { TrainingSpecification: seed001Spec({ SupportedHyperParameters: [h as never] }) });
    const cases: [string, ReturnType<typeof algorithmRequest>, RegExp][] = [
      ['range of another type', hp({ Name: 'x', Type: 'Integer', Range: { ContinuousParameterRangeSpecification: { MinValue: '0', MaxValue: '1' } } }), /Range ContinuousParameterRangeSpecification does not fit Type Integer/],
      ['reversed range', hp({ Name: 'x', Type: 'Integer', Range: { IntegerParameterRangeSpecification: { MinValue: '9', MaxValue: '1' } } }), /Range MinValue 9 is greater than MaxValue 1/],
      ['bound not a number', hp({ Name: 'x', Type: 'Continuous', Range: { ContinuousParameterRangeSpecification: { MinValue: 'low', MaxValue: '1' } } }), /Range MinValue 'low' is not a number/],
      ['default out of range', hp({ Name: 'x', Type: 'Integer', Range: { IntegerParameterRangeSpecification: { MinValue: '1', MaxValue: '5' } }, DefaultValue: '9' }), /DefaultValue must be an Integer in \[1, 5\], got '9'/],
      ['required with default', hp({ Name: 'x', Type: 'FreeText', IsRequired: true, DefaultValue: 'a' }), /a required hyperparameter cannot have a DefaultValue/],
      ['duplicate hyperparameter', algorithmRequest('bad-algo', { TrainingSpecification: seed001Spec({ SupportedHyperParameters: [{ Name: 'x', Type: 'FreeText' }, { Name: 'x', Type: 'FreeText' }] }) }), /Duplicate hyperparameter name 'x'/],
      ['duplicate channel', algorithmRequest('bad-algo', { TrainingSpecification: seed001Spec({ TrainingChannels: [seed001Spec().TrainingChannels![0]!, seed001Spec().TrainingChannels![0]!] }) }), /Duplicate channel name 'train'/],
      ['metric regex', algorithmRequest('bad-algo', { TrainingSpecification: seed001Spec({ MetricDefinitions: [{ Name: 'm', Regex: 'a=([0-9' }] }) }), /metricDefinitions\.1\.member\.regex' of metric 'm' is not a valid regular expression/],
      ['inference without image', algorithmRequest('bad-algo', { InferenceSpecification: { Containers: [{ ModelDataUrl: 's3://b/m.tar.gz' }], SupportedContentTypes: ['text/csv'], SupportedResponseMIMETypes: ['text/csv'] } }), /'inferenceSpecification\.containers\.1\.member\.image' is required/],
      ['model constraint', { ...algorithmRequest('bad-algo'), TrainingSpecification: { ...seed001Spec(), TrainingChannels: [] } }, /at 'trainingSpecification\.trainingChannels' failed to satisfy constraint: Member must have length greater than or equal to 1/],
      ['profile breaks the specification', algorithmRequest('bad-algo', {
        ValidationSpecification: { ValidationRole: ROLE, ValidationProfiles: [{ ProfileName: 'p', TrainingJobDefinition: {
          TrainingInputMode: 'File', HyperParameters: { epochs: '3' }, InputDataConfig: [channel('train')],
          OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/v` }, ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 1 }, StoppingCondition: { MaxRuntimeInSeconds: 60 },
        } }] },
      }), /Validation profile 'p' \('validationSpecification\.validationProfiles\.1\.member\.trainingJobDefinition'\): \[HyperParameter\.IsRequired\] Hyperparameter 'seed'/],
      ['transform profile without inference', algorithmRequest('bad-algo', {
        InferenceSpecification: undefined,
        ValidationSpecification: { ValidationRole: ROLE, ValidationProfiles: [{ ProfileName: 'p', TrainingJobDefinition: {
          TrainingInputMode: 'File', HyperParameters: { seed: '1' }, InputDataConfig: [channel('train')],
          OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/v` }, ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 1 }, StoppingCondition: { MaxRuntimeInSeconds: 60 },
        }, TransformJobDefinition: { TransformInput: { DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/t/` } } }, TransformOutput: { S3OutputPath: `s3://${BUCKET}/t-out/` }, TransformResources: { InstanceType: 'ml.m5.large', InstanceCount: 1 } } }] },
      }), /has a TransformJobDefinition .* which needs an InferenceSpecification/],
    ];
    for (const [label, req, expected] of cases) await rejects(s.sagemaker.send(new CreateAlgorithmCommand(req)), expected, label);
    await rejects(s.sagemaker.send(new DescribeAlgorithmCommand({ AlgorithmName: 'bad-algo' })), /does not exist/, 'nothing stored');
  });

  it('refuses every CreateTrainingJob that breaks the TrainingSpecification, naming the rule, and creates no job', async () => {
    for (const [label, change, expected] of BROKEN) {
      const name = jobName('alg-broken');
      const req = validJob(name);
      change(req);
      await rejects(s.sagemaker.send(new CreateTrainingJobCommand(req)), expected, label);
      await assert.rejects(s.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: name })), /Requested resource not found/, label);
    }
    // Several violations are reported together.
    const req = validJob(jobName('alg-broken'));
    req.HyperParameters = { epochs: '0' };
    req.ResourceConfig!.InstanceType = 'ml.c5.xlarge';
    await rejects(s.sagemaker.send(new CreateTrainingJobCommand(req)), /^3 violations of the TrainingSpecification of algorithm arn:.*algorithm\/spec-algo: .*SupportedTrainingInstanceTypes.*HyperParameter\.Integer.*HyperParameter\.IsRequired/, 'several');
  });

  it('accepts a request that satisfies the specification (by ARN): Describe shows AlgorithmName, the algorithm\'s metrics and the defaults', async () => {
    const name = jobName('alg-ok');
    const req = validJob(name, algArn);
    req.HyperParameters = { seed: '7', epochs: '"3"' };
    await s.sagemaker.send(new CreateTrainingJobCommand(req));
    const d = await s.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
    assert.equal(d.AlgorithmSpecification?.AlgorithmName, algArn);
    assert.equal(d.AlgorithmSpecification?.TrainingImage, undefined);
    assert.deepEqual(d.AlgorithmSpecification?.MetricDefinitions?.map((m) => m.Name), ['train:accuracy', 'validation:accuracy']);
    assert.deepEqual(d.HyperParameters, { seed: '7', epochs: '"3"', alpha: '0.001', learning_rate: 'optimal' });
  });

  it('refuses an algorithm that is not Completed: its validation failed (the output bucket does not exist) with the training job\'s reason', async () => {
    const req = algorithmRequest('failing-algo', {
      InferenceSpecification: undefined,
      ValidationSpecification: { ValidationRole: ROLE, ValidationProfiles: [{ ProfileName: 'no-bucket', TrainingJobDefinition: {
        TrainingInputMode: 'File', HyperParameters: { seed: '1' }, InputDataConfig: [channel('train')],
        OutputDataConfig: { S3OutputPath: 's3://no-such-bucket/v' }, ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 1 }, StoppingCondition: { MaxRuntimeInSeconds: 60 },
      } }] },
    });
    await s.sagemaker.send(new CreateAlgorithmCommand(req));
    const first = await s.sagemaker.send(new DescribeAlgorithmCommand({ AlgorithmName: 'failing-algo' }));
    assert.ok(['Pending', 'InProgress'].includes(first.AlgorithmStatus!), first.AlgorithmStatus);
    await rejects(s.sagemaker.send(new CreateTrainingJobCommand(validJob(jobName('alg-pending'), 'failing-algo'))), /is in status (Pending|InProgress): only a Completed algorithm can train/, 'pending');

    const d = await waitAlgorithm(s, 'failing-algo', ['Completed', 'Failed'], 60_000);
    assert.equal(d.AlgorithmStatus, 'Failed');
    const item = d.AlgorithmStatusDetails?.ValidationStatuses?.[0];
    assert.equal(item?.Name, 'no-bucket');
    assert.equal(item?.Status, 'Failed');
    assert.match(item?.FailureReason ?? '', /^Validation training job failing-algo-validation-1 ended Failed: ClientError: The bucket 'no-such-bucket'/);
    const jobs = await s.sagemaker.send(new ListTrainingJobsCommand({ NameContains: 'failing-algo-validation' }));
    assert.deepEqual(jobs.TrainingJobSummaries?.map((j) => j.TrainingJobName), ['failing-algo-validation-1']);
    const job = await s.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: 'failing-algo-validation-1' }));
    assert.match(job.AlgorithmSpecification?.AlgorithmName ?? '', /algorithm\/failing-algo$/);
    await rejects(s.sagemaker.send(new CreateTrainingJobCommand(validJob(jobName('alg-failed'), 'failing-algo'))), /is in status Failed: only a Completed algorithm can train/, 'failed');
  });
});
