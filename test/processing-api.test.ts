/**
 * The processing job API through @aws-sdk/client-sagemaker: every constraint
 * of CreateProcessingJob that can be broken (model and semantic rules) gives a
 * ValidationException naming the member; duplicates, unknown jobs; the list
 * filters, sort orders and pagination; the SDK's waiter.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateProcessingJobCommand,
  DescribeProcessingJobCommand,
  ListProcessingJobsCommand,
  StopProcessingJobCommand,
  paginateListProcessingJobs,
  waitUntilProcessingJobCompletedOrStopped,
  type ProcessingJobSummary,
} from '@aws-sdk/client-sagemaker';
import { startServer, type TestServer } from './helpers/server';
import { BUCKET, createJob, jobName, probeJob, settle, sleep, stopAndClean } from './helpers/processing';

let s: TestServer;
before(async () => {
  s = await startServer({ stopGraceSeconds: { jobs: 3, endpoints: 3 } });
});
after(async () => stopAndClean(s));

const input = (extra: Record<string, unknown> = {}, s3: Record<string, unknown> = {}) => ({
  InputName: 'in',
  S3Input: { S3Uri: `s3://${BUCKET}/in`, LocalPath: '/opt/ml/processing/input', S3DataType: 'S3Prefix', ...s3 },
  ...extra,
});
const output = (extra: Record<string, unknown> = {}, s3: Record<string, unknown> = {}) => ({
  OutputName: 'out',
  S3Output: { S3Uri: `s3://${BUCKET}/out`, LocalPath: '/opt/ml/processing/output', S3UploadMode: 'EndOfJob', ...s3 },
  ...extra,
});
const athena = { Catalog: 'c', Database: 'd', QueryString: 'select 1', OutputS3Uri: `s3://${BUCKET}/athena`, OutputFormat: 'PARQUET' };
const many = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

/** [what is wrong, how the request is changed, what the message must say (member path and rule)]. */
type Case = [string, (r: any) => void, RegExp];
const CASES: Case[] = [
  // ---- the model's constraints
  ['job name pattern', (r) => (r.ProcessingJobName = 'bad_name!'), /Value 'bad_name!' at 'processingJobName' failed to satisfy constraint: Member must satisfy regular expression pattern/],
  ['job name too long', (r) => (r.ProcessingJobName = 'a'.repeat(64)), /at 'processingJobName' failed to satisfy constraint: Member must have length less than or equal to 63/],
  ['job name missing', (r) => delete r.ProcessingJobName, /Value null at 'processingJobName' failed to satisfy constraint: Member must not be null/],
  ['role missing', (r) => delete r.RoleArn, /at 'roleArn' failed to satisfy constraint: Member must not be null/],
  ['role pattern', (r) => (r.RoleArn = 'arn:aws:iam::123:role/x-too-short-account'), /at 'roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern/],
  ['app specification missing', (r) => delete r.AppSpecification, /at 'appSpecification' failed to satisfy constraint: Member must not be null/],
  ['image missing', (r) => (r.AppSpecification = {}), /at 'appSpecification.imageUri' failed to satisfy constraint: Member must not be null/],
  ['image empty', (r) => (r.AppSpecification = { ImageUri: '' }), /at 'appSpecification.imageUri' failed to satisfy constraint: Member must not be empty/],
  ['image too long', (r) => (r.AppSpecification.ImageUri = 'i'.repeat(256)), /at 'appSpecification.imageUri' failed to satisfy constraint: Member must have length less than or equal to 255/],
  ['empty entrypoint list', (r) => (r.AppSpecification.ContainerEntrypoint = []), /at 'appSpecification.containerEntrypoint' failed to satisfy constraint: Member must have length greater than or equal to 1/],
  ['entrypoint too many', (r) => (r.AppSpecification.ContainerEntrypoint = many(101, () => 'x')), /at 'appSpecification.containerEntrypoint' failed to satisfy constraint: Member must have length less than or equal to 100/],
  ['entrypoint element too long', (r) => (r.AppSpecification.ContainerEntrypoint = ['x'.repeat(257)]), /at 'appSpecification.containerEntrypoint.1.member' failed to satisfy constraint: Member must have length less than or equal to 256/],
  ['empty arguments list', (r) => (r.AppSpecification.ContainerArguments = []), /at 'appSpecification.containerArguments' failed to satisfy constraint: Member must have length greater than or equal to 1/],
  ['argument too long', (r) => (r.AppSpecification.ContainerArguments = ['ok', 'y'.repeat(257)]), /at 'appSpecification.containerArguments.2.member' failed to satisfy constraint: Member must have length less than or equal to 256/],
  ['resources missing', (r) => delete r.ProcessingResources, /at 'processingResources' failed to satisfy constraint: Member must not be null/],
  ['cluster config missing', (r) => (r.ProcessingResources = {}), /at 'processingResources.clusterConfig' failed to satisfy constraint: Member must not be null/],
  ['instance count 0', (r) => (r.ProcessingResources.ClusterConfig.InstanceCount = 0), /Value '0' at 'processingResources.clusterConfig.instanceCount' failed to satisfy constraint: Member must have value greater than or equal to 1/],
  ['instance count 101', (r) => (r.ProcessingResources.ClusterConfig.InstanceCount = 101), /at 'processingResources.clusterConfig.instanceCount' failed to satisfy constraint: Member must have value less than or equal to 100/],
  ['instance count missing', (r) => delete r.ProcessingResources.ClusterConfig.InstanceCount, /at 'processingResources.clusterConfig.instanceCount' failed to satisfy constraint: Member must not be null/],
  ['instance type', (r) => (r.ProcessingResources.ClusterConfig.InstanceType = 'ml.huge'), /Value 'ml.huge' at 'processingResources.clusterConfig.instanceType' failed to satisfy constraint: Member must satisfy enum value set/],
  ['volume 0', (r) => (r.ProcessingResources.ClusterConfig.VolumeSizeInGB = 0), /at 'processingResources.clusterConfig.volumeSizeInGB' failed to satisfy constraint: Member must have value greater than or equal to 1/],
  ['volume too big', (r) => (r.ProcessingResources.ClusterConfig.VolumeSizeInGB = 16385), /at 'processingResources.clusterConfig.volumeSizeInGB' failed to satisfy constraint: Member must have value less than or equal to 16384/],
  ['max runtime 0', (r) => (r.StoppingCondition = { MaxRuntimeInSeconds: 0 }), /at 'stoppingCondition.maxRuntimeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 1/],
  ['max runtime over 9 days', (r) => (r.StoppingCondition = { MaxRuntimeInSeconds: 777601 }), /at 'stoppingCondition.maxRuntimeInSeconds' failed to satisfy constraint: Member must have value less than or equal to 777600/],
  ['max runtime missing', (r) => (r.StoppingCondition = {}), /at 'stoppingCondition.maxRuntimeInSeconds' failed to satisfy constraint: Member must not be null/],
  ['environment too big', (r) => (r.Environment = Object.fromEntries(many(101, (i) => [`K${i}`, 'v']))), /at 'environment' failed to satisfy constraint: Member must have length less than or equal to 100/],
  ['environment key pattern', (r) => (r.Environment = { '1BAD': 'v' }), /Value '1BAD' at 'environment.key' failed to satisfy constraint: Member must satisfy regular expression pattern/],
  ['environment value too long', (r) => (r.Environment = { K: 'v'.repeat(257) }), /at 'environment.K' failed to satisfy constraint: Member must have length less than or equal to 256/],
  ['11 inputs', (r) => (r.ProcessingInputs = many(11, (i) => input({ InputName: `i${i}` }, { LocalPath: `/opt/ml/processing/i${i}` }))), /at 'processingInputs' failed to satisfy constraint: Member must have length less than or equal to 10/],
  ['input name missing', (r) => (r.ProcessingInputs = [{ S3Input: input().S3Input }]), /at 'processingInputs.1.member.inputName' failed to satisfy constraint: Member must not be null/],
  ['input S3Uri pattern', (r) => (r.ProcessingInputs = [input({}, { S3Uri: 'ftp://host/x' })]), /Value 'ftp:\/\/host\/x' at 'processingInputs.1.member.s3Input.s3Uri' failed to satisfy constraint: Member must satisfy regular expression pattern/],
  ['input S3Uri missing', (r) => (r.ProcessingInputs = [input({}, { S3Uri: undefined })]), /at 'processingInputs.1.member.s3Input.s3Uri' failed to satisfy constraint: Member must not be null/],
  ['input S3DataType', (r) => (r.ProcessingInputs = [input({}, { S3DataType: 'AugmentedManifestFile' })]), /at 'processingInputs.1.member.s3Input.s3DataType' failed to satisfy constraint: Member must satisfy enum value set: \[ManifestFile, S3Prefix\]/],
  ['input S3InputMode', (r) => (r.ProcessingInputs = [input({}, { S3InputMode: 'FastFile' })]), /at 'processingInputs.1.member.s3Input.s3InputMode' failed to satisfy constraint: Member must satisfy enum value set: \[Pipe, File\]/],
  ['input distribution', (r) => (r.ProcessingInputs = [input({}, { S3DataDistributionType: 'Sharded' })]), /at 'processingInputs.1.member.s3Input.s3DataDistributionType' failed to satisfy constraint: Member must satisfy enum value set/],
  ['input compression', (r) => (r.ProcessingInputs = [input({}, { S3CompressionType: 'Zip' })]), /at 'processingInputs.1.member.s3Input.s3CompressionType' failed to satisfy constraint: Member must satisfy enum value set: \[None, Gzip\]/],
  ['input LocalPath too long', (r) => (r.ProcessingInputs = [input({}, { LocalPath: `/opt/ml/processing/${'p'.repeat(250)}` })]), /at 'processingInputs.1.member.s3Input.localPath' failed to satisfy constraint: Member must have length less than or equal to 256/],
  ['output config without outputs', (r) => (r.ProcessingOutputConfig = {}), /at 'processingOutputConfig.outputs' failed to satisfy constraint: Member must not be null/],
  ['11 outputs', (r) => (r.ProcessingOutputConfig = { Outputs: many(11, (i) => output({ OutputName: `o${i}` }, { LocalPath: `/opt/ml/processing/o${i}` })) }), /at 'processingOutputConfig.outputs' failed to satisfy constraint: Member must have length less than or equal to 10/],
  ['output name missing', (r) => (r.ProcessingOutputConfig = { Outputs: [{ S3Output: output().S3Output }] }), /at 'processingOutputConfig.outputs.1.member.outputName' failed to satisfy constraint: Member must not be null/],
  ['output upload mode', (r) => (r.ProcessingOutputConfig = { Outputs: [output({}, { S3UploadMode: 'Sometimes' })] }), /at 'processingOutputConfig.outputs.1.member.s3Output.s3UploadMode' failed to satisfy constraint: Member must satisfy enum value set/],
  ['output upload mode missing', (r) => (r.ProcessingOutputConfig = { Outputs: [output({}, { S3UploadMode: undefined })] }), /at 'processingOutputConfig.outputs.1.member.s3Output.s3UploadMode' failed to satisfy constraint: Member must not be null/],
  ['output S3Uri pattern', (r) => (r.ProcessingOutputConfig = { Outputs: [output({}, { S3Uri: 'bucket/key' })] }), /at 'processingOutputConfig.outputs.1.member.s3Output.s3Uri' failed to satisfy constraint: Member must satisfy regular expression pattern/],
  ['output KmsKeyId pattern', (r) => (r.ProcessingOutputConfig = { Outputs: [output()], KmsKeyId: 'bad key!' }), /at 'processingOutputConfig.kmsKeyId' failed to satisfy constraint: Member must satisfy regular expression pattern/],
  ['feature group name', (r) => (r.ProcessingOutputConfig = { Outputs: [{ OutputName: 'fs', AppManaged: true, FeatureStoreOutput: { FeatureGroupName: '-bad' } }] }), /at 'processingOutputConfig.outputs.1.member.featureStoreOutput.featureGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern/],
  ['no security groups', (r) => (r.NetworkConfig = { VpcConfig: { SecurityGroupIds: [], Subnets: ['subnet-1'] } }), /at 'networkConfig.vpcConfig.securityGroupIds' failed to satisfy constraint: Member must have length greater than or equal to 1/],
  ['too many subnets', (r) => (r.NetworkConfig = { VpcConfig: { SecurityGroupIds: ['sg-1'], Subnets: many(17, (i) => `subnet-${i}`) } }), /at 'networkConfig.vpcConfig.subnets' failed to satisfy constraint: Member must have length less than or equal to 16/],
  ['51 tags', (r) => (r.Tags = many(51, (i) => ({ Key: `k${i}`, Value: 'v' }))), /at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50/],
  ['empty tag key', (r) => (r.Tags = [{ Key: '', Value: 'v' }]), /at 'tags.1.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1/],
  ['tag value pattern', (r) => (r.Tags = [{ Key: 'k', Value: 'no;semicolons' }]), /at 'tags.1.member.value' failed to satisfy constraint: Member must satisfy regular expression pattern/],
  ['experiment name pattern', (r) => (r.ExperimentConfig = { ExperimentName: 'bad_name' }), /at 'experimentConfig.experimentName' failed to satisfy constraint: Member must satisfy regular expression pattern/],
  ['athena query missing', (r) => (r.ProcessingInputs = [{ InputName: 'q', DatasetDefinition: { AthenaDatasetDefinition: { ...athena, QueryString: undefined } } }]), /at 'processingInputs.1.member.datasetDefinition.athenaDatasetDefinition.queryString' failed to satisfy constraint: Member must not be null/],
  // ---- the rules beyond the model
  ['input LocalPath outside /opt/ml/processing', (r) => (r.ProcessingInputs = [input({}, { LocalPath: '/data/in' })]), /Value '\/data\/in' at 'processingInputs.1.member.s3Input.localPath' failed to satisfy constraint: Member must be an absolute path that starts with \/opt\/ml\/processing\//],
  ['input LocalPath climbing out', (r) => (r.ProcessingInputs = [input({}, { LocalPath: '/opt/ml/processing/../../../etc' })]), /at 'processingInputs.1.member.s3Input.localPath' failed to satisfy constraint: Member must be an absolute path that starts with \/opt\/ml\/processing\//],
  ['input LocalPath the root itself', (r) => (r.ProcessingInputs = [input({}, { LocalPath: '/opt/ml/processing/' })]), /at 'processingInputs.1.member.s3Input.localPath' failed to satisfy constraint: Member must be an absolute path that starts with/],
  ['input LocalPath missing', (r) => (r.ProcessingInputs = [input({}, { LocalPath: undefined })]), /at 'processingInputs.1.member.s3Input.localPath' failed to satisfy constraint: Member must not be null \(a LocalPath is required unless AppManaged is true\)/],
  ['Gzip with File mode', (r) => (r.ProcessingInputs = [input({}, { S3CompressionType: 'Gzip' })]), /Value 'Gzip' at 'processingInputs.1.member.s3Input.s3CompressionType' failed to satisfy constraint: Gzip compression is only valid with S3InputMode Pipe/],
  ['Athena input', (r) => (r.ProcessingInputs = [{ InputName: 'q', DatasetDefinition: { AthenaDatasetDefinition: athena, LocalPath: '/opt/ml/processing/q' } }]), /at 'processingInputs.1.member.datasetDefinition' failed to satisfy constraint: DatasetDefinition inputs \(Athena, Redshift\) are not supported/],
  ['input with neither source', (r) => (r.ProcessingInputs = [{ InputName: 'nothing' }]), /at 'processingInputs.1.member.s3Input' failed to satisfy constraint: Member must not be null/],
  ['duplicate input names', (r) => (r.ProcessingInputs = [input(), input({}, { LocalPath: '/opt/ml/processing/other' })]), /Value 'in' at 'processingInputs.2.member.inputName' failed to satisfy constraint: InputName must be unique within the job/],
  ['duplicate input LocalPaths', (r) => (r.ProcessingInputs = [input(), input({ InputName: 'in2' }, { LocalPath: '/opt/ml/processing/input/' })]), /at 'processingInputs.2.member.s3Input.localPath' failed to satisfy constraint: The LocalPath of each input must be unique/],
  ['input S3Uri not an S3 URL', (r) => (r.ProcessingInputs = [input({}, { S3Uri: 'https://example.com/data' })]), /at 'processingInputs.1.member.s3Input.s3Uri' failed to satisfy constraint: Member must be an S3 URI/],
  ['output LocalPath outside /opt/ml/processing', (r) => (r.ProcessingOutputConfig = { Outputs: [output({}, { LocalPath: '/opt/ml/model' })] }), /Value '\/opt\/ml\/model' at 'processingOutputConfig.outputs.1.member.s3Output.localPath' failed to satisfy constraint: Member must be an absolute path that starts with \/opt\/ml\/processing\//],
  ['output LocalPath missing', (r) => (r.ProcessingOutputConfig = { Outputs: [output({}, { LocalPath: undefined })] }), /at 'processingOutputConfig.outputs.1.member.s3Output.localPath' failed to satisfy constraint: Member must not be null/],
  ['duplicate output names', (r) => (r.ProcessingOutputConfig = { Outputs: [output(), output({}, { LocalPath: '/opt/ml/processing/o2' })] }), /at 'processingOutputConfig.outputs.2.member.outputName' failed to satisfy constraint: OutputName must be unique within the job/],
  ['duplicate output LocalPaths', (r) => (r.ProcessingOutputConfig = { Outputs: [output(), output({ OutputName: 'o2' })] }), /at 'processingOutputConfig.outputs.2.member.s3Output.localPath' failed to satisfy constraint: The LocalPath of each output must be unique/],
  ['output with neither target', (r) => (r.ProcessingOutputConfig = { Outputs: [{ OutputName: 'nothing' }] }), /at 'processingOutputConfig.outputs.1.member.s3Output' failed to satisfy constraint: Member must not be null/],
  ['feature store output not app-managed', (r) => (r.ProcessingOutputConfig = { Outputs: [{ OutputName: 'fs', FeatureStoreOutput: { FeatureGroupName: 'group' } }] }), /at 'processingOutputConfig.outputs.1.member.featureStoreOutput' failed to satisfy constraint: FeatureStoreOutput is not supported by sagebox unless AppManaged/],
];

describe('CreateProcessingJob validation', { concurrency: true }, () => {
  for (const [what, change, expected] of CASES) {
    it(`refuses: ${what}`, async () => {
      const req: any = probeJob(jobName('bad'));
      req.AppSpecification = { ...req.AppSpecification };
      req.ProcessingResources = { ClusterConfig: { ...req.ProcessingResources.ClusterConfig } };
      change(req);
      await assert.rejects(s.sagemaker.send(new CreateProcessingJobCommand(req)), (e: any) => {
        assert.equal(e.name, 'ValidationException', e.message);
        assert.equal(e.$metadata.httpStatusCode, 400);
        assert.match(e.message, /^\d+ validation errors? detected: /);
        assert.match(e.message, expected);
        return true;
      });
      if (req.ProcessingJobName && /^[a-zA-Z0-9-]{1,63}$/.test(req.ProcessingJobName)) {
        await assert.rejects(s.sagemaker.send(new DescribeProcessingJobCommand({ ProcessingJobName: req.ProcessingJobName })), /Requested resource not found/, 'nothing was created');
      }
    });
  }

  it('reports every problem of a request at once', async () => {
    const req: any = probeJob(jobName('bad'), {
      ProcessingInputs: [input({}, { LocalPath: '/tmp/in', S3CompressionType: 'Gzip' })] as any,
      ProcessingOutputConfig: { Outputs: [output({}, { LocalPath: '/tmp/out' })] as any },
    });
    await assert.rejects(s.sagemaker.send(new CreateProcessingJobCommand(req)), (e: any) => {
      assert.match(e.message, /^3 validation errors detected: /);
      assert.match(e.message, /processingInputs.1.member.s3Input.s3CompressionType/);
      assert.match(e.message, /processingInputs.1.member.s3Input.localPath/);
      assert.match(e.message, /processingOutputConfig.outputs.1.member.s3Output.localPath/);
      return true;
    });
  });

  it('accepts what the rules allow: AppManaged without LocalPath, Gzip is not used, nested LocalPaths, trailing slashes', async () => {
    const name = jobName('ok');
    await s.app.ctx.objectStore.ensureBucket(BUCKET);
    await createJob(s, probeJob(name, {
      ProcessingInputs: [
        { InputName: 'managed', AppManaged: true, S3Input: { S3Uri: `s3://${BUCKET}/nothing`, S3DataType: 'S3Prefix' } },
        { InputName: 'code', AppManaged: true, S3Input: { S3Uri: `s3://${BUCKET}/nothing`, LocalPath: '/opt/ml/processing/input/code/', S3DataType: 'S3Prefix' } },
      ],
      ProcessingOutputConfig: { Outputs: [{ OutputName: 'fs', AppManaged: true, FeatureStoreOutput: { FeatureGroupName: 'my-group' } }, output({}, { LocalPath: '/opt/ml/processing/input/out/' })] as any },
      Tags: [{ Key: 'team', Value: 'data' }],
      NetworkConfig: { VpcConfig: { SecurityGroupIds: ['sg-1'], Subnets: ['subnet-1'] } },
      ExperimentConfig: { ExperimentName: 'exp-1', TrialName: 'trial-1' },
    }));
    const d = await settle(s, name);
    assert.equal(d.ProcessingJobStatus, 'Completed', d.FailureReason);
    assert.deepEqual(d.ExperimentConfig, { ExperimentName: 'exp-1', TrialName: 'trial-1' });
    assert.deepEqual(d.NetworkConfig, { VpcConfig: { SecurityGroupIds: ['sg-1'], Subnets: ['subnet-1'] } });
    assert.equal((d as any).Tags, undefined, 'Tags are not part of DescribeProcessingJob');
  });
});

describe('names, unknown jobs, unusable outputs', { concurrency: true }, () => {
  it('an output bucket that does not exist fails the job with a ClientError', async () => {
    const name = jobName('nobucket');
    await createJob(s, probeJob(name, { ProcessingOutputConfig: { Outputs: [output({}, { S3Uri: 's3://no-such-bucket-here/out' })] as any } }));
    const d = await settle(s, name);
    assert.equal(d.ProcessingJobStatus, 'Failed');
    assert.match(d.FailureReason!, /^ClientError: Uploading the outputs failed: .*no-such-bucket-here/);
  });

  it('a second job with the same name (any case) is ResourceInUse', async () => {
    const name = jobName('dup');
    const arn = await createJob(s, probeJob(name));
    for (const again of [name, name.toUpperCase()]) {
      await assert.rejects(s.sagemaker.send(new CreateProcessingJobCommand(probeJob(again))), (e: any) => {
        assert.equal(e.name, 'ResourceInUse');
        assert.equal(e.$metadata.httpStatusCode, 400);
        assert.ok(e.message.includes(arn), e.message);
        return true;
      });
    }
    await settle(s, name);
  });

  it('DescribeProcessingJob and StopProcessingJob of an unknown job: ValidationException "Requested resource not found."', async () => {
    for (const cmd of [new DescribeProcessingJobCommand({ ProcessingJobName: 'no-such-job' }), new StopProcessingJobCommand({ ProcessingJobName: 'no-such-job' })]) {
      await assert.rejects(s.sagemaker.send(cmd as any), (e: any) => {
        assert.equal(e.name, 'ValidationException');
        assert.equal(e.message, 'Requested resource not found.');
        return true;
      });
    }
  });
});

describe('ListProcessingJobs and the waiter', () => {
  const token = `lst${process.pid}`;
  const names = [`${token}-a`, `${token}-b`, `${token}-c`];
  const created: number[] = [];
  before(async () => {
    for (const [i, n] of names.entries()) {
      // b fails, a and c complete; creations are spaced so the time filters can split them
      await createJob(s, probeJob(n, { Environment: i === 1 ? { PROBE_EXIT_CODE: '4', PROBE_MESSAGE_TEXT: 'b says bye' } : {} }));
      created.push(Date.now());
      await sleep(1100);
    }
    await Promise.all(names.map((n) => settle(s, n)));
  });
  const list = async (q: Record<string, unknown> = {}) => s.sagemaker.send(new ListProcessingJobsCommand({ NameContains: token, ...q }));
  const namesOf = (xs: ProcessingJobSummary[] | undefined) => (xs ?? []).map((x) => x.ProcessingJobName);

  it('lists newest first by default, with summaries carrying status, times, FailureReason and ExitMessage', async () => {
    const r = await list();
    assert.deepEqual(namesOf(r.ProcessingJobSummaries), [...names].reverse());
    assert.equal(r.NextToken, undefined);
    const b = r.ProcessingJobSummaries!.find((x) => x.ProcessingJobName === names[1])!;
    assert.deepEqual(Object.keys(b).sort(), ['CreationTime', 'ExitMessage', 'FailureReason', 'LastModifiedTime', 'ProcessingEndTime', 'ProcessingJobArn', 'ProcessingJobName', 'ProcessingJobStatus']);
    assert.equal(b.ProcessingJobStatus, 'Failed');
    assert.equal(b.FailureReason, 'AlgorithmError: , exit code: 4');
    assert.equal(b.ExitMessage, 'b says bye');
    assert.ok(b.ProcessingJobArn!.endsWith(`:processing-job/${names[1]}`));
    const a = r.ProcessingJobSummaries!.find((x) => x.ProcessingJobName === names[0])!;
    assert.equal(a.ProcessingJobStatus, 'Completed');
    assert.equal(a.FailureReason, undefined);
  });

  it('sorts by name, creation time and status, both ways', async () => {
    assert.deepEqual(namesOf((await list({ SortOrder: 'Ascending' })).ProcessingJobSummaries), names);
    assert.deepEqual(namesOf((await list({ SortBy: 'Name', SortOrder: 'Descending' })).ProcessingJobSummaries), [...names].reverse());
    assert.deepEqual(namesOf((await list({ SortBy: 'Name', SortOrder: 'Ascending' })).ProcessingJobSummaries), names);
    const byStatus = (await list({ SortBy: 'Status', SortOrder: 'Ascending' })).ProcessingJobSummaries!.map((x) => x.ProcessingJobStatus);
    assert.deepEqual(byStatus, ['Completed', 'Completed', 'Failed']);
  });

  it('filters by status, name and time', async () => {
    assert.deepEqual(namesOf((await list({ StatusEquals: 'Failed' })).ProcessingJobSummaries), [names[1]]);
    assert.deepEqual(namesOf((await list({ StatusEquals: 'InProgress' })).ProcessingJobSummaries), []);
    assert.deepEqual(namesOf((await list({ NameContains: `${token}-C` })).ProcessingJobSummaries), [names[2]], 'NameContains ignores case');
    const mid = new Date(created[0]! + 500);
    assert.deepEqual(namesOf((await list({ CreationTimeAfter: mid, SortOrder: 'Ascending' })).ProcessingJobSummaries), [names[1], names[2]]);
    assert.deepEqual(namesOf((await list({ CreationTimeBefore: mid })).ProcessingJobSummaries), [names[0]]);
    assert.deepEqual(namesOf((await list({ LastModifiedTimeAfter: new Date(Date.now() + 60_000) })).ProcessingJobSummaries), []);
    assert.equal((await list({ LastModifiedTimeBefore: new Date(Date.now() + 60_000) })).ProcessingJobSummaries!.length, 3);
  });

  it('pages with MaxResults and NextToken, and the SDK paginator follows them', async () => {
    const first = await list({ MaxResults: 2, SortOrder: 'Ascending' });
    assert.deepEqual(namesOf(first.ProcessingJobSummaries), names.slice(0, 2));
    assert.ok(first.NextToken);
    const second = await list({ MaxResults: 2, SortOrder: 'Ascending', NextToken: first.NextToken });
    assert.deepEqual(namesOf(second.ProcessingJobSummaries), names.slice(2));
    assert.equal(second.NextToken, undefined);
    const seen: string[] = [];
    for await (const page of paginateListProcessingJobs({ client: s.sagemaker, pageSize: 1 }, { NameContains: token, SortOrder: 'Ascending' })) {
      assert.ok((page.ProcessingJobSummaries ?? []).length <= 1);
      seen.push(...namesOf(page.ProcessingJobSummaries).map(String));
    }
    assert.deepEqual(seen, names);
    await assert.rejects(list({ NextToken: 'not-a-token' }), (e: any) => e.name === 'ValidationException');
    await assert.rejects(list({ MaxResults: 101 }), (e: any) => e.name === 'ValidationException' && /maxResults/.test(e.message));
    await assert.rejects(list({ StatusEquals: 'Done' }), (e: any) => e.name === 'ValidationException' && /statusEquals/.test(e.message));
  });

  it('waitUntilProcessingJobCompletedOrStopped succeeds on Completed and fails on Failed', async () => {
    const ok = await waitUntilProcessingJobCompletedOrStopped({ client: s.sagemaker, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { ProcessingJobName: names[0] });
    assert.equal(ok.state, 'SUCCESS');
    await assert.rejects(
      waitUntilProcessingJobCompletedOrStopped({ client: s.sagemaker, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { ProcessingJobName: names[1] }),
      (e: any) => /FAILURE/.test(e.message) || e.state === 'FAILURE',
    );
  });

  it('the waiter follows a running job until it stops', async () => {
    const name = jobName('wait');
    await createJob(s, probeJob(name, { Environment: { PROBE_SLEEP: '2' } }));
    const r = await waitUntilProcessingJobCompletedOrStopped({ client: s.sagemaker, maxWaitTime: 120, minDelay: 1, maxDelay: 1 }, { ProcessingJobName: name });
    assert.equal(r.state, 'SUCCESS');
    assert.equal((r.reason as any).ProcessingJobStatus, 'Completed');
  });
});
