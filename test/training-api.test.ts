/**
 * The training job API surface through @aws-sdk/client-sagemaker: every
 * CreateTrainingJob constraint of the model we can reasonably exercise plus
 * sagebox's own checks, duplicate names, unknown jobs, and ListTrainingJobs'
 * filters, sort orders and pages.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CreateTrainingJobCommand, DescribeTrainingJobCommand, ListTrainingJobsCommand, StopTrainingJobCommand, paginateListTrainingJobs, type CreateTrainingJobCommandInput } from '@aws-sdk/client-sagemaker';
import type { TestServer } from './helpers/server';
import { BUCKET, createJob, jobName, probeJob, settle, sleep, startTrainingServer } from './helpers/training';

let s: TestServer;
before(async () => {
  s = await startTrainingServer();
});
after(async () => s.stop());

type Req = CreateTrainingJobCommandInput;
const s3 = (uri: string, extra: Record<string, unknown> = {}) => ({ S3DataSource: { S3DataType: 'S3Prefix' as const, S3Uri: uri, ...extra } });
const channel = (name: string, extra: Record<string, unknown> = {}) => ({ ChannelName: name, DataSource: s3(`s3://${BUCKET}/x/`), ...extra });

/** [label, change to a valid request, what the message must say]. */
const INVALID: [string, (r: Req) => void, RegExp][] = [
  ['name pattern', (r) => void (r.TrainingJobName = 'bad_name'), /Value 'bad_name' at 'trainingJobName' failed to satisfy constraint: Member must satisfy regular expression pattern/],
  ['name leading dash', (r) => void (r.TrainingJobName = '-abc'), /at 'trainingJobName' failed to satisfy constraint: Member must satisfy regular expression pattern/],
  ['name too long', (r) => void (r.TrainingJobName = 'a'.repeat(64)), /at 'trainingJobName' failed to satisfy constraint: Member must have length less than or equal to 63/],
  ['role pattern', (r) => void (r.RoleArn = 'arn:aws:iam::12:role/x-but-long-enough'), /at 'roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern/],
  ['no output config', (r) => void delete r.OutputDataConfig, /Value null at 'outputDataConfig' failed to satisfy constraint: Member must not be null/],
  ['input mode enum', (r) => void (r.AlgorithmSpecification!.TrainingInputMode = 'Stream' as never), /at 'algorithmSpecification.trainingInputMode' failed to satisfy constraint: Member must satisfy enum value set: \[Pipe, File, FastFile\]/],
  ['instance type enum', (r) => void (r.ResourceConfig!.InstanceType = 'ml.nope.large' as never), /at 'resourceConfig.instanceType' failed to satisfy constraint: Member must satisfy enum value set/],
  ['zero channels', (r) => void (r.InputDataConfig = []), /at 'inputDataConfig' failed to satisfy constraint: Member must have length greater than or equal to 1/],
  ['21 channels', (r) => void (r.InputDataConfig = Array.from({ length: 21 }, (_, i) => channel(`c${i}`))), /at 'inputDataConfig' failed to satisfy constraint: Member must have length less than or equal to 20/],
  ['channel name pattern', (r) => void (r.InputDataConfig = [channel('bad name')]), /Value 'bad name' at 'inputDataConfig.1.member.channelName' failed to satisfy constraint: Member must satisfy regular expression pattern/],
  ['channel name too long', (r) => void (r.InputDataConfig = [channel('c'.repeat(65))]), /at 'inputDataConfig.1.member.channelName' failed to satisfy constraint: Member must have length less than or equal to 64/],
  ['channel name ..', (r) => void (r.InputDataConfig = [channel('..')]), /Channel name '\.\.' at 'inputDataConfig.1.member.channelName' is not allowed/],
  ['duplicate channel names', (r) => void (r.InputDataConfig = [channel('train'), channel('train')]), /Duplicate channel name 'train' at 'inputDataConfig.2.member.channelName'/],
  ['S3 data type enum', (r) => void (r.InputDataConfig = [{ ChannelName: 'c', DataSource: { S3DataSource: { S3DataType: 'Folder' as never, S3Uri: 's3://b/x' } } }]), /at 'inputDataConfig.1.member.dataSource.s3DataSource.s3DataType' failed to satisfy constraint: Member must satisfy enum value set/],
  ['distribution enum', (r) => void (r.InputDataConfig = [channel('c', { DataSource: s3('s3://b/x', { S3DataDistributionType: 'Random' }) })]), /s3DataDistributionType' failed to satisfy constraint: Member must satisfy enum value set: \[FullyReplicated, ShardedByS3Key\]/],
  ['S3 URI scheme', (r) => void (r.InputDataConfig = [channel('c', { DataSource: s3('ftp://bucket/x') })]), /Value 'ftp:\/\/bucket\/x' at 'inputDataConfig.1.member.dataSource.s3DataSource.s3Uri' failed to satisfy constraint: Member must satisfy regular expression pattern/],
  ['S3 URI host', (r) => void (r.InputDataConfig = [channel('c', { DataSource: s3('https://example.com/data') })]), /Value 'https:\/\/example.com\/data' at 'inputDataConfig.1.member.dataSource.s3DataSource.s3Uri' is not a valid S3 URI/],
  ['S3 bucket name', (r) => void (r.OutputDataConfig = { S3OutputPath: 's3://Bad_Bucket/out' }), /at 'outputDataConfig.s3OutputPath' is not a valid S3 URI/],
  ['checkpoint URI', (r) => void (r.CheckpointConfig = { S3Uri: 'gs://bucket/ck' }), /at 'checkpointConfig.s3Uri' failed to satisfy constraint: Member must satisfy regular expression pattern/],
  ['checkpoint local path', (r) => void (r.CheckpointConfig = { S3Uri: 's3://bucket/ck', LocalPath: 'relative/dir' }), /'checkpointConfig.localPath' \(relative\/dir\) must be an absolute path/],
  ['checkpoint path reserved', (r) => void (r.CheckpointConfig = { S3Uri: 's3://bucket/ck', LocalPath: '/opt/ml/model/ck' }), /'checkpointConfig.localPath' \(\/opt\/ml\/model\/ck\) may not be, contain or lie inside/],
  ['max runtime 0', (r) => void (r.StoppingCondition = { MaxRuntimeInSeconds: 0 }), /at 'stoppingCondition.maxRuntimeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 1/],
  ['max runtime > 28 days', (r) => void (r.StoppingCondition = { MaxRuntimeInSeconds: 2_419_201 }), /Value '2419201' at 'stoppingCondition.maxRuntimeInSeconds' failed to satisfy constraint: Member must have value less than or equal to 2419200/],
  ['max pending range', (r) => void (r.StoppingCondition = { MaxPendingTimeInSeconds: 60 }), /at 'stoppingCondition.maxPendingTimeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 7200/],
  ['spot without max wait', (r) => void (r.EnableManagedSpotTraining = true), /'stoppingCondition.maxWaitTimeInSeconds' is required when EnableManagedSpotTraining is true/],
  ['spot max wait < runtime', (r) => void ((r.EnableManagedSpotTraining = true), (r.StoppingCondition = { MaxRuntimeInSeconds: 100, MaxWaitTimeInSeconds: 50 })), /must be greater than or equal to 'stoppingCondition.maxRuntimeInSeconds'/],
  ['max wait without spot', (r) => void (r.StoppingCondition = { MaxRuntimeInSeconds: 100, MaxWaitTimeInSeconds: 200 }), /only valid when EnableManagedSpotTraining is true/],
  ['instance count 0', (r) => void (r.ResourceConfig!.InstanceCount = 0), /Value '0' at 'resourceConfig.instanceCount' failed to satisfy constraint: Member must have value greater than or equal to 1/],
  ['no instance type', (r) => void delete r.ResourceConfig!.InstanceType, /'resourceConfig.instanceType' is required when 'resourceConfig.instanceGroups' is not given/],
  ['no resource config', (r) => void delete r.ResourceConfig, /ResourceConfig is required/],
  ['groups and type', (r) => void (r.ResourceConfig!.InstanceGroups = [{ InstanceGroupName: 'g', InstanceType: 'ml.m5.large', InstanceCount: 1 }]), /'resourceConfig.instanceGroups' cannot be combined with 'resourceConfig.instanceType'/],
  ['duplicate group', (r) => void (r.ResourceConfig = { InstanceGroups: [{ InstanceGroupName: 'g', InstanceType: 'ml.m5.large', InstanceCount: 1 }, { InstanceGroupName: 'g', InstanceType: 'ml.m5.large', InstanceCount: 1 }] }), /Duplicate instance group name 'g'/],
  ['unknown group in channel', (r) => void (r.InputDataConfig = [channel('c', { DataSource: s3('s3://b/x', { InstanceGroupNames: ['nope'] }) })]), /names 'nope', which is not an instance group/],
  ['keep-alive range', (r) => void (r.ResourceConfig!.KeepAlivePeriodInSeconds = 3600 * 7), /at 'resourceConfig.keepAlivePeriodInSeconds' failed to satisfy constraint: Member must have value less than or equal to 21600/],
  ['no training image', (r) => void delete r.AlgorithmSpecification!.TrainingImage, /'algorithmSpecification.trainingImage' is required/],
  ['no algorithm spec', (r) => void delete r.AlgorithmSpecification, /AlgorithmSpecification is required/],
  ['algorithm name', (r) => void ((r.AlgorithmSpecification!.AlgorithmName = 'my-algo'), delete r.AlgorithmSpecification!.TrainingImage), /Algorithm arn:aws:sagemaker:[^ ]+:algorithm\/my-algo does not exist/],
  ['image and algorithm', (r) => void (r.AlgorithmSpecification!.AlgorithmName = 'my-algo'), /Only one of 'algorithmSpecification.trainingImage' and 'algorithmSpecification.algorithmName'/],
  ['augmented manifest without attributes', (r) => void ((r.AlgorithmSpecification!.TrainingInputMode = 'Pipe'), (r.InputDataConfig = [channel('train', { DataSource: s3('s3://b/x', { S3DataType: 'AugmentedManifestFile' }) })])), /'inputDataConfig.1.member.dataSource.s3DataSource.attributeNames' is required with S3DataType AugmentedManifestFile/],
  ['fastfile with a manifest', (r) => void (r.InputDataConfig = [channel('train', { InputMode: 'FastFile', DataSource: s3('s3://b/x', { S3DataType: 'ManifestFile' }) })]), /FastFile mode supports S3DataType S3Prefix only \(channel 'train'/],
  ['channel named like a pipe', (r) => void (r.InputDataConfig = [channel('train', { InputMode: 'Pipe' }), channel('train_0')]), /Channel name 'train_0' clashes with the Pipe-mode FIFOs of channel 'train'/],
  ['file system source', (r) => void (r.InputDataConfig = [{ ChannelName: 'fs', DataSource: { FileSystemDataSource: { FileSystemId: 'fs-0123456789abcdef', FileSystemAccessMode: 'ro', FileSystemType: 'EFS', DirectoryPath: '/data' } } }]), /FileSystemDataSource \(EFS\/FSx for Lustre\) is not supported by sagebox/],
  ['no data source', (r) => void (r.InputDataConfig = [{ ChannelName: 'c', DataSource: {} }]), /'inputDataConfig.1.member.dataSource' must have exactly one of S3DataSource, FileSystemDataSource or DatasetSource/],
  ['augmented manifest', (r) => void (r.InputDataConfig = [channel('c', { DataSource: s3('s3://b/x', { S3DataType: 'AugmentedManifestFile' }) })]), /S3DataType AugmentedManifestFile needs Pipe mode \(channel 'c' is in File mode/],
  ['gzip in file mode', (r) => void (r.InputDataConfig = [channel('c', { CompressionType: 'Gzip' })]), /CompressionType Gzip is only supported in Pipe mode \('inputDataConfig.1.member.compressionType'\)/],
  ['compression enum', (r) => void (r.InputDataConfig = [channel('c', { CompressionType: 'Zip' })]), /at 'inputDataConfig.1.member.compressionType' failed to satisfy constraint: Member must satisfy enum value set: \[None, Gzip\]/],
  ['hyperparameter value', (r) => void (r.HyperParameters = { big: 'v'.repeat(2501) }), /at 'hyperParameters.big' failed to satisfy constraint: Member must have length less than or equal to 2500/],
  ['101 hyperparameters', (r) => void (r.HyperParameters = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, 'v']))), /at 'hyperParameters' failed to satisfy constraint: Member must have length less than or equal to 100/],
  ['environment key', (r) => void (r.Environment = { '1BAD': 'x' }), /Value '1BAD' at 'environment.key' failed to satisfy constraint: Member must satisfy regular expression pattern/],
  ['entrypoint length', (r) => void (r.AlgorithmSpecification!.ContainerEntrypoint = Array.from({ length: 101 }, () => 'x')), /at 'algorithmSpecification.containerEntrypoint' failed to satisfy constraint: Member must have length less than or equal to 100/],
  ['metric regex', (r) => void (r.AlgorithmSpecification!.MetricDefinitions = [{ Name: 'm', Regex: 'loss=([0-9' }]), /'algorithmSpecification.metricDefinitions.1.member.regex' of metric 'm' is not a valid regular expression/],
  ['duplicate metric', (r) => void (r.AlgorithmSpecification!.MetricDefinitions = [{ Name: 'm', Regex: 'a=(.*)' }, { Name: 'm', Regex: 'b=(.*)' }]), /Duplicate metric name 'm'/],
  ['51 tags', (r) => void (r.Tags = Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }))), /at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50/],
  ['output compression enum', (r) => void (r.OutputDataConfig!.CompressionType = 'ZIP' as never), /at 'outputDataConfig.compressionType' failed to satisfy constraint: Member must satisfy enum value set: \[GZIP, NONE\]/],
];

describe('training API', { concurrency: true }, () => {
  it('refuses every invalid CreateTrainingJob request with a ValidationException naming the member, and creates nothing', async () => {
    for (const [label, change, expected] of INVALID) {
      const name = jobName('invalid');
      const req = probeJob(name);
      change(req);
      await assert.rejects(s.sagemaker.send(new CreateTrainingJobCommand(req)), (e: any) => {
        assert.equal(e.name, 'ValidationException', `${label}: ${e.name} ${e.message}`);
        assert.match(e.message, expected, label);
        return true;
      }, label);
      if (/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/.test(req.TrainingJobName!)) {
        await assert.rejects(s.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: req.TrainingJobName })), /Requested resource not found/, label);
      }
    }
  });

  it('refuses a duplicate name (any case) with ResourceInUse, and answers unknown jobs with ValidationException', async () => {
    const name = jobName('dup');
    const arn = await createJob(s, probeJob(name));
    await assert.rejects(createJob(s, probeJob(name.toUpperCase())), (e: any) => {
      assert.equal(e.name, 'ResourceInUse');
      assert.equal(e.message, `Training job names must be unique within an AWS account and region, and a training job with this name already exists (${arn})`);
      return true;
    });
    await assert.rejects(s.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: 'no-such-job' })), (e: any) => e.name === 'ValidationException' && e.message === 'Requested resource not found.');
    await assert.rejects(s.sagemaker.send(new StopTrainingJobCommand({ TrainingJobName: 'no-such-job' })), (e: any) => e.name === 'ValidationException' && e.message === 'Requested resource not found.');
    const d = await settle(s, name);
    assert.equal(d.TrainingJobStatus, 'Completed', d.FailureReason);
    await assert.rejects(s.sagemaker.send(new StopTrainingJobCommand({ TrainingJobName: name })), (e: any) => e.name === 'ValidationException' && e.message === 'The request was rejected because the training job is in status Completed.');
  });

  it('lists with filters, sort orders (newest first by default) and pages', async () => {
    const tag = `lst${process.pid}`;
    const names = [`${tag}-b`, `${tag}-a`, `${tag}-c`];
    const createdAt: number[] = [];
    for (const [i, n] of names.entries()) {
      createdAt.push(Date.now() / 1000);
      await createJob(s, probeJob(n, i === 2 ? { env: { PROBE_EXIT_CODE: '1' } } : {}));
      await sleep(50);
    }
    await Promise.all(names.map((n) => settle(s, n)));
    const list = async (q: Record<string, unknown>) => (await s.sagemaker.send(new ListTrainingJobsCommand({ NameContains: tag, ...q }))).TrainingJobSummaries!.map((x) => x.TrainingJobName);

    assert.deepEqual(await list({}), [...names].reverse(), 'CreationTime, newest first');
    assert.deepEqual(await list({ SortOrder: 'Ascending' }), names);
    assert.deepEqual(await list({ SortBy: 'Name', SortOrder: 'Ascending' }), [...names].sort());
    assert.deepEqual(await list({ SortBy: 'Name', SortOrder: 'Descending' }), [...names].sort().reverse());
    assert.deepEqual(await list({ SortBy: 'Status', SortOrder: 'Ascending' }), names, 'Completed before Failed, ties by creation');
    assert.deepEqual(await list({ StatusEquals: 'Failed' }), [names[2]]);
    assert.deepEqual(await list({ StatusEquals: 'Completed', SortOrder: 'Ascending' }), [names[0], names[1]]);
    assert.deepEqual(await list({ NameContains: `${tag}-A` }), [names[1]], 'NameContains ignores case');
    assert.deepEqual(await list({ CreationTimeAfter: new Date((createdAt[1]! - 0.001) * 1000), SortOrder: 'Ascending' }), [names[1], names[2]]);
    assert.deepEqual(await list({ CreationTimeBefore: new Date((createdAt[1]! - 0.001) * 1000) }), [names[0]]);
    assert.deepEqual(await list({ LastModifiedTimeAfter: new Date(Date.now() + 60_000) }), []);
    assert.deepEqual((await list({ LastModifiedTimeBefore: new Date(Date.now() + 60_000) })).length, 3);

    const page1 = await s.sagemaker.send(new ListTrainingJobsCommand({ NameContains: tag, MaxResults: 2, SortOrder: 'Ascending' }));
    assert.deepEqual(page1.TrainingJobSummaries!.map((x) => x.TrainingJobName), names.slice(0, 2));
    assert.ok(page1.NextToken);
    const page2 = await s.sagemaker.send(new ListTrainingJobsCommand({ NameContains: tag, MaxResults: 2, SortOrder: 'Ascending', NextToken: page1.NextToken }));
    assert.deepEqual(page2.TrainingJobSummaries!.map((x) => x.TrainingJobName), names.slice(2));
    assert.equal(page2.NextToken, undefined);
    const all: string[] = [];
    for await (const page of paginateListTrainingJobs({ client: s.sagemaker, pageSize: 1 }, { NameContains: tag })) all.push(...page.TrainingJobSummaries!.map((x) => x.TrainingJobName!));
    assert.deepEqual(all, [...names].reverse());
    await assert.rejects(s.sagemaker.send(new ListTrainingJobsCommand({ NextToken: 'garbage' })), (e: any) => e.name === 'ValidationException');

    const [summary] = (await s.sagemaker.send(new ListTrainingJobsCommand({ NameContains: names[2] }))).TrainingJobSummaries!;
    assert.deepEqual(Object.keys(summary!).filter((k) => k !== '$metadata').sort(), ['CreationTime', 'LastModifiedTime', 'SecondaryStatus', 'TrainingEndTime', 'TrainingJobArn', 'TrainingJobName', 'TrainingJobStatus']);
    assert.equal(summary!.TrainingJobStatus, 'Failed');
    assert.equal(summary!.SecondaryStatus, 'Failed');
    assert.ok(summary!.CreationTime instanceof Date && summary!.TrainingEndTime instanceof Date);
  });
});
