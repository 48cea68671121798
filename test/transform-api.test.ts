/**
 * The transform job API through the JS SDK: every CreateTransformJob check
 * (the model's constraints and sagebox's own, each naming its field), the
 * unknown model and duplicate name, Describe with every field and its
 * defaults, List filters/sort/pagination, Stop and Describe of unknown
 * jobs, and the SDK waiter.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateTransformJobCommand, DescribeTransformJobCommand, ListTransformJobsCommand, StopTransformJobCommand,
  waitUntilTransformJobCompletedOrStopped, type CreateTransformJobCommandInput,
} from '@aws-sdk/client-sagemaker';
import { startServer, type TestServer } from './helpers/server';
import { removeLabelled, requireDocker } from './helpers/docker';
import { BUCKET, createModel, jobRequest, putObject, runJob, settle, TEST_CONFIG, uniqueName } from './helpers/transform';

let s: TestServer;
const MODEL = 'api-model';
const ACCOUNT = '000000000000';
const input = `s3://${BUCKET}/api/in/`;

before(async () => {
  await requireDocker();
  s = await startServer(TEST_CONFIG);
  await createModel(s, MODEL);
  await putObject(s, 'api/in/a.csv', 'a\nb\n');
});

after(async () => {
  await s.stop();
  await removeLabelled(await requireDocker(), { 'sagebox.instance': s.app.config.instanceId });
});

async function rejects(p: Promise<unknown>, name: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (err: Error) => {
    assert.equal(err.name, name, `error name (message: ${err.message})`);
    assert.match(err.message, message);
    return true;
  });
}

const request = (extra: Partial<CreateTransformJobCommandInput> = {}, name = uniqueName('api')): CreateTransformJobCommandInput =>
  jobRequest({ name, model: MODEL, input, output: `s3://${BUCKET}/api/out/${name}`, extra });

const create = (req: CreateTransformJobCommandInput): Promise<unknown> => s.sagemaker.send(new CreateTransformJobCommand(req));

describe('CreateTransformJob checks', () => {
  it('an unknown model is a ValidationException worded as AWS words it', async () => {
    await rejects(create({ ...request(), ModelName: 'no-such-model' }), 'ValidationException', new RegExp(`^Could not find model "arn:aws:sagemaker:us-east-1:${ACCOUNT}:model/no-such-model"\\.$`));
  });

  it("the model's constraints, each naming its field", async () => {
    const cases: [Partial<CreateTransformJobCommandInput>, RegExp][] = [
      [{ TransformJobName: 'bad_name' }, /at 'transformJobName' failed to satisfy constraint: Member must satisfy regular expression pattern/],
      [{ TransformResources: { InstanceType: 'ml.m5.large', InstanceCount: 0 } }, /at 'transformResources.instanceCount' failed to satisfy constraint: Member must have value greater than or equal to 1/],
      [{ TransformResources: { InstanceType: 'ml.nope' as never, InstanceCount: 1 } }, /at 'transformResources.instanceType' failed to satisfy constraint: Member must satisfy enum value set/],
      [{ ModelClientConfig: { InvocationsTimeoutInSeconds: 0 } }, /at 'modelClientConfig.invocationsTimeoutInSeconds'.*greater than or equal to 1/],
      [{ ModelClientConfig: { InvocationsTimeoutInSeconds: 3601 } }, /at 'modelClientConfig.invocationsTimeoutInSeconds'.*less than or equal to 3600/],
      [{ ModelClientConfig: { InvocationsMaxRetries: 4 } }, /at 'modelClientConfig.invocationsMaxRetries'.*less than or equal to 3/],
      [{ MaxConcurrentTransforms: -1 }, /at 'maxConcurrentTransforms'.*greater than or equal to 0/],
      [{ BatchStrategy: 'Everything' as never }, /at 'batchStrategy' failed to satisfy constraint: Member must satisfy enum value set: \[MultiRecord, SingleRecord\]/],
      [{ Environment: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`K${i}`, 'v'])) }, /at 'environment' failed to satisfy constraint: Member must have length less than or equal to 16/],
      [{ Environment: { '1bad': 'v' } }, /at 'environment.key'/],
      [{ TransformOutput: { S3OutputPath: 'ftp://x/y' } }, /at 'transformOutput.s3OutputPath'/],
      [{ TransformInput: { DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: input } }, SplitType: 'Words' as never } }, /at 'transformInput.splitType'/],
      [{ DataProcessing: { OutputFilter: 'x'.repeat(64) } }, /at 'dataProcessing.outputFilter'.*length less than or equal to 63/],
    ];
    for (const [extra, message] of cases) await rejects(create(request(extra)), 'ValidationException', message);
  });

  it("sagebox's own rules, each naming its field", async () => {
    const line = { DataSource: { S3DataSource: { S3DataType: 'S3Prefix' as const, S3Uri: input } }, SplitType: 'Line' as const };
    const cases: [Partial<CreateTransformJobCommandInput>, RegExp][] = [
      [{ MaxPayloadInMB: 101 }, /Value '101' at 'maxPayloadInMB' failed to satisfy constraint: Member must have value less than or equal to 100/],
      [{ MaxPayloadInMB: 6, MaxConcurrentTransforms: 20 }, /at 'maxConcurrentTransforms' failed to satisfy constraint: MaxConcurrentTransforms \(20\) x MaxPayloadInMB \(6\) must be less than or equal to 100/],
      [{ DataProcessing: { JoinSource: 'Input' } }, /2 validation errors detected: .*'transformInput.splitType'.*Line when DataProcessing.JoinSource is Input.*'transformOutput.assembleWith'/],
      [{ DataProcessing: { JoinSource: 'Input' }, TransformInput: { ...line, ContentType: 'text/csv' }, TransformOutput: { S3OutputPath: `s3://${BUCKET}/o`, AssembleWith: 'Line', Accept: 'application/json' } }, /at 'transformOutput.accept'.*same format as TransformInput.ContentType/],
      [{ DataProcessing: { InputFilter: '$..deep' } }, /at 'dataProcessing.inputFilter' failed to satisfy constraint: Member must be a JSONPath expression sagebox supports/],
      [{ DataProcessing: { OutputFilter: 'features' } }, /at 'dataProcessing.outputFilter'.*must start with '\$'/],
      [{ DataProcessing: { InputFilter: '$[1:]' }, TransformInput: { ...line, SplitType: 'RecordIO' } }, /at 'transformInput.splitType'.*CSV and JSON records only/],
      [{ TransformInput: { DataSource: { S3DataSource: { S3DataType: 'AugmentedManifestFile', S3Uri: input } } } }, /at 'transformInput.dataSource.s3DataSource.s3DataType'/],
      [{ DataCaptureConfig: { DestinationS3Uri: `s3://${BUCKET}/capture` } }, /at 'dataCaptureConfig'.*not supported by sagebox/],
    ];
    for (const [extra, message] of cases) await rejects(create(request(extra)), 'ValidationException', message);
  });

  it('an input that matches nothing is refused at once', async () => {
    await rejects(
      create(request({ TransformInput: { DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/api/nothing-here/` } } } })),
      'ValidationException',
      /^No S3 objects found under S3 URL "s3:\/\/xform-bucket\/api\/nothing-here\/" given in input data source/,
    );
    await rejects(
      create(request({ TransformInput: { DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://no-such-bucket-here/x/' } } } })),
      'ValidationException',
      /^No S3 objects found under S3 URL/,
    );
    await rejects(
      create(request({ TransformInput: { DataSource: { S3DataSource: { S3DataType: 'ManifestFile', S3Uri: `s3://${BUCKET}/api/missing.manifest` } } } })),
      'ValidationException',
      /Could not find the manifest file/,
    );
  });
});

describe('jobs', () => {
  const names = ['Listed-alpha', 'listed-beta', 'listed-gamma'].map((n) => uniqueName(n));

  it('Describe returns every request field with the defaults filled in; a duplicate name is ResourceInUse', async () => {
    const req = request({ Environment: { A: '1' }, ExperimentConfig: { TrialComponentDisplayName: 'tc' } }, names[0]);
    const created = (await s.sagemaker.send(new CreateTransformJobCommand(req))).TransformJobArn!;
    assert.equal(created, `arn:aws:sagemaker:us-east-1:${ACCOUNT}:transform-job/${names[0]}`);
    const d = await s.sagemaker.send(new DescribeTransformJobCommand({ TransformJobName: names[0] }));
    assert.equal(d.TransformJobName, names[0]);
    assert.equal(d.TransformJobArn, created);
    assert.ok(['InProgress', 'Completed'].includes(d.TransformJobStatus!));
    assert.equal(d.ModelName, MODEL);
    assert.deepEqual(d.Environment, { A: '1' });
    assert.deepEqual(d.TransformInput, { DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: input } }, CompressionType: 'None', SplitType: 'None' });
    assert.deepEqual(d.TransformOutput, { S3OutputPath: req.TransformOutput!.S3OutputPath, AssembleWith: 'None' });
    assert.deepEqual(d.TransformResources, { InstanceType: 'ml.m5.large', InstanceCount: 1 });
    assert.deepEqual(d.ModelClientConfig, { InvocationsTimeoutInSeconds: 600, InvocationsMaxRetries: 3 });
    assert.deepEqual(d.DataProcessing, { InputFilter: '$', OutputFilter: '$', JoinSource: 'None' });
    assert.deepEqual(d.ExperimentConfig, { TrialComponentDisplayName: 'tc' });
    assert.ok(d.CreationTime instanceof Date);

    await rejects(s.sagemaker.send(new CreateTransformJobCommand({ ...req, TransformJobName: names[0]!.toUpperCase() })), 'ResourceInUse', /a job with this name already exists/);

    const done = await waitUntilTransformJobCompletedOrStopped({ client: s.sagemaker, maxWaitTime: 120, minDelay: 1, maxDelay: 1 }, { TransformJobName: names[0] });
    assert.equal(done.state, 'SUCCESS');
    const after = await s.sagemaker.send(new DescribeTransformJobCommand({ TransformJobName: names[0] }));
    assert.equal(after.TransformJobStatus, 'Completed');
    assert.ok(after.TransformStartTime && after.TransformEndTime && after.TransformEndTime >= after.TransformStartTime);
    assert.equal(after.MaxConcurrentTransforms, 1, 'the parameters the job ran with');
    assert.equal(after.MaxPayloadInMB, 6);
    assert.equal(after.BatchStrategy, 'MultiRecord');
    assert.equal(after.FailureReason, undefined);
  });

  it('lists with filters, sort and pagination', async () => {
    for (const n of names.slice(1)) await runJob(s, { name: n, model: MODEL, input, output: `s3://${BUCKET}/api/out/${n}` });
    const all = await s.sagemaker.send(new ListTransformJobsCommand({ NameContains: 'listed', SortBy: 'Name', SortOrder: 'Ascending' }));
    assert.deepEqual(all.TransformJobSummaries?.map((j) => j.TransformJobName), names);
    const first = all.TransformJobSummaries![0]!;
    assert.equal(first.TransformJobStatus, 'Completed');
    assert.ok(first.TransformJobArn && first.CreationTime && first.TransformEndTime && first.LastModifiedTime);
    const newestFirst = await s.sagemaker.send(new ListTransformJobsCommand({ NameContains: 'listed' }));
    assert.deepEqual(newestFirst.TransformJobSummaries?.map((j) => j.TransformJobName), [...names].reverse(), 'default: CreationTime, Descending');
    const completed = await s.sagemaker.send(new ListTransformJobsCommand({ StatusEquals: 'Completed', NameContains: 'listed-g' }));
    assert.deepEqual(completed.TransformJobSummaries?.map((j) => j.TransformJobName), [names[2]]);
    const none = await s.sagemaker.send(new ListTransformJobsCommand({ StatusEquals: 'Failed', NameContains: 'listed' }));
    assert.deepEqual(none.TransformJobSummaries, []);
    const later = await s.sagemaker.send(new ListTransformJobsCommand({ NameContains: 'listed', CreationTimeAfter: new Date(Date.now() + 60_000) }));
    assert.deepEqual(later.TransformJobSummaries, []);
    const p1 = await s.sagemaker.send(new ListTransformJobsCommand({ NameContains: 'listed', MaxResults: 2, SortBy: 'Name', SortOrder: 'Descending' }));
    assert.equal(p1.TransformJobSummaries?.length, 2);
    const p2 = await s.sagemaker.send(new ListTransformJobsCommand({ NameContains: 'listed', MaxResults: 2, SortBy: 'Name', SortOrder: 'Descending', NextToken: p1.NextToken }));
    assert.deepEqual([...p1.TransformJobSummaries!, ...p2.TransformJobSummaries!].map((j) => j.TransformJobName), [...names].reverse());
    assert.equal(p2.NextToken, undefined);
    await rejects(s.sagemaker.send(new ListTransformJobsCommand({ NextToken: 'garbage' })), 'ValidationException', /Invalid pagination token/);
  });

  it('Describe and Stop of an unknown job, Stop of a finished one', async () => {
    await rejects(s.sagemaker.send(new DescribeTransformJobCommand({ TransformJobName: 'never-created' })), 'ValidationException', /Requested resource not found/);
    await rejects(s.sagemaker.send(new StopTransformJobCommand({ TransformJobName: 'never-created' })), 'ValidationException', /Requested resource not found/);
    await settle(s, names[1]!);
    await rejects(s.sagemaker.send(new StopTransformJobCommand({ TransformJobName: names[1] })), 'ValidationException', /is in status Completed and can no longer be stopped/);
  });
});
