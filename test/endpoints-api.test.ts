/**
 * Hosting control plane through the JS SDK: models, endpoint configurations
 * and endpoints (create/describe/list/delete, waiters, Failed endpoints,
 * DeleteModel/DeleteEndpointConfig leaving a running endpoint alone), every
 * input constraint we can reach, duplicates and unknown names worded as AWS.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, DeleteEndpointCommand, DeleteEndpointConfigCommand,
  DeleteModelCommand, DescribeEndpointCommand, DescribeEndpointConfigCommand, DescribeModelCommand, ListEndpointConfigsCommand,
  ListEndpointsCommand, ListModelsCommand, UpdateEndpointCommand, UpdateEndpointWeightsAndCapacitiesCommand,
  waitUntilEndpointDeleted, waitUntilEndpointInService, type CreateEndpointConfigCommandInput, type CreateModelCommandInput,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { startServer, type TestServer } from './helpers/server';
import {
  PROBE, TEST_CONFIG, createEndpoint, deleteEndpointQuietly, eventually, putModelArchive, removeServerContainers, runtimeClient, waitForStatus,
} from './helpers/endpoints';

const ACCOUNT = '000000000000';
const arn = (type: string, name: string): string => `arn:aws:sagemaker:us-east-1:${ACCOUNT}:${type}/${name}`;

async function rejects(p: Promise<unknown>, name: string, message: RegExp | string): Promise<void> {
  await assert.rejects(p, (err: Error) => {
    assert.equal(err.name, name, `error name (message: ${err.message})`);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

describe('hosting control plane', { timeout: 300_000 }, () => {
  let s: TestServer;
  let archive: string;

  before(async () => {
    s = await startServer(TEST_CONFIG);
    archive = await putModelArchive(s, 'models', 'api/model.tar.gz', { 'weights.txt': 'w' });
    await s.sagemaker.send(new CreateModelCommand({ ModelName: 'base-model', PrimaryContainer: { Image: PROBE } }));
  });
  after(async () => {
    for (const e of ['life', 'failing', 'no-image']) await deleteEndpointQuietly(s, e);
    await s.stop();
    await removeServerContainers(s);
  });

  it('creates, describes, lists and deletes models', async () => {
    const created = await s.sagemaker.send(
      new CreateModelCommand({
        ModelName: 'Model-A',
        PrimaryContainer: { Image: PROBE, ModelDataUrl: archive, Environment: { KEY: 'value' } },
        ExecutionRoleArn: `arn:aws:iam::${ACCOUNT}:role/SageMakerRole`,
        EnableNetworkIsolation: true,
        Tags: [{ Key: 'team', Value: 'ml' }],
      }),
    );
    assert.equal(created.ModelArn, arn('model', 'Model-A'));
    const d = await s.sagemaker.send(new DescribeModelCommand({ ModelName: 'model-a' }));
    assert.equal(d.ModelName, 'Model-A');
    assert.equal(d.ModelArn, created.ModelArn);
    assert.deepEqual(d.PrimaryContainer, { Image: PROBE, ModelDataUrl: archive, Environment: { KEY: 'value' } });
    assert.equal(d.EnableNetworkIsolation, true);
    assert.equal(d.ExecutionRoleArn, `arn:aws:iam::${ACCOUNT}:role/SageMakerRole`);
    assert.ok(d.CreationTime instanceof Date);

    await s.sagemaker.send(new CreateModelCommand({ ModelName: 'model-b', Containers: [{ Image: PROBE }] }));
    const all = await s.sagemaker.send(new ListModelsCommand({ SortBy: 'Name', SortOrder: 'Ascending' }));
    assert.deepEqual(all.Models?.map((m) => m.ModelName), ['base-model', 'Model-A', 'model-b']);
    const first = await s.sagemaker.send(new ListModelsCommand({ NameContains: 'model-', MaxResults: 1, SortBy: 'Name', SortOrder: 'Ascending' }));
    assert.equal(first.Models?.length, 1);
    assert.ok(first.NextToken);
    const second = await s.sagemaker.send(new ListModelsCommand({ NameContains: 'model-', MaxResults: 1, SortBy: 'Name', SortOrder: 'Ascending', NextToken: first.NextToken }));
    assert.deepEqual(second.Models?.map((m) => m.ModelName), ['model-b']);
    assert.equal(second.NextToken, undefined);
    await rejects(s.sagemaker.send(new ListModelsCommand({ NextToken: 'garbage' })), 'ValidationException', 'Invalid pagination token');

    await s.sagemaker.send(new DeleteModelCommand({ ModelName: 'model-b' }));
    await rejects(s.sagemaker.send(new DescribeModelCommand({ ModelName: 'model-b' })), 'ValidationException', `Could not find model "${arn('model', 'model-b')}".`);
  });

  it('creates, describes, lists and deletes endpoint configurations', async () => {
    const created = await s.sagemaker.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: 'cfg-a',
        ProductionVariants: [
          { VariantName: 'A', ModelName: 'base-model', InstanceType: 'ml.m5.large', InitialInstanceCount: 2, InitialVariantWeight: 3 },
          { VariantName: 'B', ModelName: 'base-model', InstanceType: 'ml.c5.xlarge', InitialInstanceCount: 1, ContainerStartupHealthCheckTimeoutInSeconds: 600 },
        ],
      }),
    );
    assert.equal(created.EndpointConfigArn, arn('endpoint-config', 'cfg-a'));
    const d = await s.sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: 'cfg-a' }));
    assert.equal(d.ProductionVariants?.length, 2);
    assert.equal(d.ProductionVariants?.[0]?.InitialVariantWeight, 3);
    assert.equal(d.ProductionVariants?.[1]?.InitialVariantWeight, 1, 'default weight 1.0');
    assert.equal(d.ProductionVariants?.[1]?.ContainerStartupHealthCheckTimeoutInSeconds, 600);
    const list = await s.sagemaker.send(new ListEndpointConfigsCommand({ NameContains: 'cfg-' }));
    assert.deepEqual(list.EndpointConfigs?.map((c) => c.EndpointConfigName), ['cfg-a']);
    await s.sagemaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: 'cfg-a' }));
    await rejects(
      s.sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: 'cfg-a' })),
      'ValidationException',
      `Could not find endpoint configuration "${arn('endpoint-config', 'cfg-a')}".`,
    );
  });

  it('refuses duplicates (names are case-insensitive) with AWS messages', async () => {
    await rejects(
      s.sagemaker.send(new CreateModelCommand({ ModelName: 'BASE-model', PrimaryContainer: { Image: PROBE } })),
      'ValidationException',
      `Cannot create already existing model "${arn('model', 'BASE-model')}".`,
    );
    const cfg = { EndpointConfigName: 'dup-cfg', ProductionVariants: [{ VariantName: 'v', ModelName: 'base-model', InstanceType: 'ml.m5.large' as const, InitialInstanceCount: 1 }] };
    await s.sagemaker.send(new CreateEndpointConfigCommand(cfg));
    await rejects(s.sagemaker.send(new CreateEndpointConfigCommand(cfg)), 'ValidationException', `Cannot create already existing endpoint configuration "${arn('endpoint-config', 'dup-cfg')}".`);
    // An endpoint whose container fails at once, so the duplicate check does not wait on a healthy one.
    await s.sagemaker.send(new CreateModelCommand({ ModelName: 'crash-model', PrimaryContainer: { Image: PROBE, Environment: { SAGEMAKER_BIND_TO_PORT: 'notaport' } } }));
    await s.sagemaker.send(new CreateEndpointConfigCommand({ ...cfg, EndpointConfigName: 'crash-cfg', ProductionVariants: [{ ...cfg.ProductionVariants[0]!, ModelName: 'crash-model' }] }));
    await s.sagemaker.send(new CreateEndpointCommand({ EndpointName: 'failing', EndpointConfigName: 'crash-cfg' }));
    await rejects(
      s.sagemaker.send(new CreateEndpointCommand({ EndpointName: 'FAILING', EndpointConfigName: 'crash-cfg' })),
      'ValidationException',
      `Cannot create already existing endpoint "${arn('endpoint', 'FAILING')}".`,
    );
  });

  it('answers unknown names with "Could not find ..."', async () => {
    const ep = arn('endpoint', 'nope');
    await rejects(s.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'nope' })), 'ValidationException', `Could not find endpoint "${ep}".`);
    await rejects(s.sagemaker.send(new DeleteEndpointCommand({ EndpointName: 'nope' })), 'ValidationException', `Could not find endpoint "${ep}".`);
    await rejects(s.sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'nope', EndpointConfigName: 'dup-cfg' })), 'ValidationException', `Could not find endpoint "${ep}".`);
    await rejects(
      s.sagemaker.send(new UpdateEndpointWeightsAndCapacitiesCommand({ EndpointName: 'nope', DesiredWeightsAndCapacities: [{ VariantName: 'v', DesiredWeight: 1 }] })),
      'ValidationException',
      `Could not find endpoint "${ep}".`,
    );
    await rejects(s.sagemaker.send(new DeleteModelCommand({ ModelName: 'nope' })), 'ValidationException', `Could not find model "${arn('model', 'nope')}".`);
    await rejects(s.sagemaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: 'nope' })), 'ValidationException', `Could not find endpoint configuration "${arn('endpoint-config', 'nope')}".`);
    await rejects(
      s.sagemaker.send(new CreateEndpointCommand({ EndpointName: 'orphan', EndpointConfigName: 'nope' })),
      'ValidationException',
      `Could not find endpoint configuration "${arn('endpoint-config', 'nope')}".`,
    );
    await rejects(
      s.sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'c-x', ProductionVariants: [{ VariantName: 'v', ModelName: 'nope', InstanceType: 'ml.m5.large', InitialInstanceCount: 1 }] })),
      'ValidationException',
      `Could not find model "${arn('model', 'nope')}".`,
    );
    const rt = runtimeClient(s);
    await rejects(rt.send(new InvokeEndpointCommand({ EndpointName: 'nope', Body: Buffer.from('x') })), 'ValidationError', `Endpoint nope of account ${ACCOUNT} not found.`);
    rt.destroy();
  });

  const model = (over: Partial<CreateModelCommandInput> & Record<string, unknown>): CreateModelCommandInput => ({ ModelName: 'bad-model', PrimaryContainer: { Image: PROBE }, ...over }) as CreateModelCommandInput;
  const badModels: [string, CreateModelCommandInput, RegExp][] = [
    ['a name with an underscore', model({ ModelName: 'bad_name' }), /Value 'bad_name' at 'modelName' failed to satisfy constraint: Member must satisfy regular expression pattern/],
    ['a 64-character name', model({ ModelName: 'm'.repeat(64) }), /at 'modelName' failed to satisfy constraint: Member must have length less than or equal to 63/],
    ['a name ending in a hyphen', model({ ModelName: 'ends-' }), /at 'modelName'/],
    ['no container', model({ PrimaryContainer: undefined }), /PrimaryContainer or Containers must be specified/],
    ['both PrimaryContainer and Containers', model({ Containers: [{ Image: PROBE }] }), /either PrimaryContainer or Containers/],
    ['two containers', model({ PrimaryContainer: undefined, Containers: [{ Image: PROBE }, { Image: PROBE }] }), /Containers: sagebox serves models of one container/],
    ['16 containers', model({ PrimaryContainer: undefined, Containers: Array.from({ length: 16 }, () => ({ Image: PROBE })) }), /at 'containers' failed to satisfy constraint: Member must have length less than or equal to 15/],
    ['no image', model({ PrimaryContainer: { ModelDataUrl: 's3://models/api/model.tar.gz' } }), /PrimaryContainer\.Image is required/],
    ['an image with a space', model({ PrimaryContainer: { Image: 'bad image' } }), /at 'primaryContainer\.image' failed to satisfy constraint: Member must satisfy regular expression pattern/],
    ['a 256-character image', model({ PrimaryContainer: { Image: 'i'.repeat(256) } }), /at 'primaryContainer\.image' failed to satisfy constraint: Member must have length less than or equal to 255/],
    ['a ModelDataUrl that is not s3/https', model({ PrimaryContainer: { Image: PROBE, ModelDataUrl: 'file:///etc/passwd' } }), /at 'primaryContainer\.modelDataUrl' failed to satisfy constraint/],
    ['a ModelDataUrl outside the store', model({ PrimaryContainer: { Image: PROBE, ModelDataUrl: 'https://example.com/model.tar.gz' } }), /example\.com.*not an Amazon S3 URL/],
    ['a missing ModelDataUrl object', model({ PrimaryContainer: { Image: PROBE, ModelDataUrl: 's3://models/none/model.tar.gz' } }), /^Could not find model data at s3:\/\/models\/none\/model\.tar\.gz\.$/],
    ['a ModelDataUrl in a missing bucket', model({ PrimaryContainer: { Image: PROBE, ModelDataUrl: 's3://no-such-bucket/model.tar.gz' } }), /Could not find model data at s3:\/\/no-such-bucket/],
    ['a ModelDataUrl climbing out of the store', model({ PrimaryContainer: { Image: PROBE, ModelDataUrl: 's3://models/../../etc/passwd' } }), /Could not find model data at s3:\/\/models\/\.\.\/\.\.\/etc\/passwd/],
    ['both ModelDataUrl and ModelDataSource', model({ PrimaryContainer: { Image: PROBE, ModelDataUrl: 's3://models/api/model.tar.gz', ModelDataSource: { S3DataSource: { S3Uri: 's3://models/api/', S3DataType: 'S3Prefix', CompressionType: 'None' } } } }), /either ModelDataUrl or ModelDataSource/],
    ['an S3Prefix without a trailing slash', model({ PrimaryContainer: { Image: PROBE, ModelDataSource: { S3DataSource: { S3Uri: 's3://models/api', S3DataType: 'S3Prefix', CompressionType: 'None' } } } }), /S3Uri must end with '\/' when S3DataType is S3Prefix/],
    ['an S3Prefix with Gzip', model({ PrimaryContainer: { Image: PROBE, ModelDataSource: { S3DataSource: { S3Uri: 's3://models/api/', S3DataType: 'S3Prefix', CompressionType: 'Gzip' } } } }), /CompressionType Gzip is only valid with S3DataType S3Object/],
    ['a ModelDataSource without CompressionType', model({ PrimaryContainer: { Image: PROBE, ModelDataSource: { S3DataSource: { S3Uri: 's3://models/api/', S3DataType: 'S3Prefix' } } } } as never), /at 'primaryContainer\.modelDataSource\.s3DataSource\.compressionType' failed to satisfy constraint: Member must not be null/],
    ['an environment key starting with a digit', model({ PrimaryContainer: { Image: PROBE, Environment: { '1BAD': 'x' } } }), /at 'primaryContainer\.environment\.key' failed to satisfy constraint: Member must satisfy regular expression pattern/],
    ['an environment value over 1024 characters', model({ PrimaryContainer: { Image: PROBE, Environment: { K: 'v'.repeat(1025) } } }), /at 'primaryContainer\.environment\.K' failed to satisfy constraint: Member must have length less than or equal to 1024/],
    ['101 environment variables', model({ PrimaryContainer: { Image: PROBE, Environment: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`K${i}`, 'v'])) } }), /at 'primaryContainer\.environment' failed to satisfy constraint: Member must have length less than or equal to 100/],
    ['an environment over 32 KB', model({ PrimaryContainer: { Image: PROBE, Environment: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`K${i}`, 'v'.repeat(1000)])) } }), /may not exceed 32 KB/],
    ['Mode MultiModel', model({ PrimaryContainer: { Image: PROBE, Mode: 'MultiModel' } }), /Mode MultiModel is not supported/],
    ['an unknown Mode', model({ PrimaryContainer: { Image: PROBE, Mode: 'Other' as never } }), /at 'primaryContainer\.mode' failed to satisfy constraint: Member must satisfy enum value set/],
    ['a bad ExecutionRoleArn', model({ ExecutionRoleArn: 'role' }), /at 'executionRoleArn' failed to satisfy constraint/],
    ['51 tags', model({ Tags: Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })) }), /at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50/],
    ['a container hostname with an underscore', model({ PrimaryContainer: { Image: PROBE, ContainerHostname: 'a_b' } }), /at 'primaryContainer\.containerHostname' failed to satisfy constraint/],
  ];
  for (const [what, input, message] of badModels) {
    it(`CreateModel refuses ${what}`, async () => {
      await rejects(s.sagemaker.send(new CreateModelCommand(input)), 'ValidationException', message);
    });
  }

  const variant = { VariantName: 'v', ModelName: 'base-model', InstanceType: 'ml.m5.large' as const, InitialInstanceCount: 1 };
  const config = (over: Record<string, unknown>, v: Record<string, unknown> = {}): CreateEndpointConfigCommandInput =>
    ({ EndpointConfigName: 'bad-cfg', ProductionVariants: [{ ...variant, ...v }], ...over }) as CreateEndpointConfigCommandInput;
  const badConfigs: [string, CreateEndpointConfigCommandInput, RegExp][] = [
    ['a name with a dot', config({ EndpointConfigName: 'bad.cfg' }), /Value 'bad\.cfg' at 'endpointConfigName' failed to satisfy constraint: Member must satisfy regular expression pattern/],
    ['a 64-character name', config({ EndpointConfigName: 'c'.repeat(64) }), /at 'endpointConfigName' failed to satisfy constraint: Member must have length less than or equal to 63/],
    ['no variants', config({ ProductionVariants: [] }), /at 'productionVariants' failed to satisfy constraint: Member must have length greater than or equal to 1/],
    ['11 variants', config({ ProductionVariants: Array.from({ length: 11 }, (_, i) => ({ ...variant, VariantName: `v${i}` })) }), /at 'productionVariants' failed to satisfy constraint: Member must have length less than or equal to 10/],
    ['a variant without a name', config({}, { VariantName: undefined }), /at 'productionVariants\.1\.member\.variantName' failed to satisfy constraint: Member must not be null/],
    ['a variant name with an underscore', config({}, { VariantName: 'a_b' }), /at 'productionVariants\.1\.member\.variantName' failed to satisfy constraint: Member must satisfy regular expression pattern/],
    ['InitialInstanceCount 0', config({}, { InitialInstanceCount: 0 }), /at 'productionVariants\.1\.member\.initialInstanceCount' failed to satisfy constraint: Member must have value greater than or equal to 1/],
    ['a negative weight', config({}, { InitialVariantWeight: -1 }), /at 'productionVariants\.1\.member\.initialVariantWeight' failed to satisfy constraint: Member must have value greater than or equal to 0/],
    ['an unknown instance type', config({}, { InstanceType: 'ml.bogus.large' }), /at 'productionVariants\.1\.member\.instanceType' failed to satisfy constraint: Member must satisfy enum value set/],
    ['a 59 s health check timeout', config({}, { ContainerStartupHealthCheckTimeoutInSeconds: 59 }), /containerStartupHealthCheckTimeoutInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60/],
    ['a 3601 s health check timeout', config({}, { ContainerStartupHealthCheckTimeoutInSeconds: 3601 }), /containerStartupHealthCheckTimeoutInSeconds' failed to satisfy constraint: Member must have value less than or equal to 3600/],
    ['a 30 s download timeout', config({}, { ModelDataDownloadTimeoutInSeconds: 30 }), /modelDataDownloadTimeoutInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60/],
    ['a 513 GB volume', config({}, { VolumeSizeInGB: 513 }), /volumeSizeInGB' failed to satisfy constraint: Member must have value less than or equal to 512/],
    ['a variant without InstanceType', config({}, { InstanceType: undefined }), /ProductionVariants\.1\.InstanceType is required/],
    ['a variant without InitialInstanceCount', config({}, { InitialInstanceCount: undefined }), /ProductionVariants\.1\.InitialInstanceCount is required/],
    ['a variant without a model', config({}, { ModelName: undefined }), /ProductionVariants\.1\.ModelName is required/],
    ['two variants of one name', config({ ProductionVariants: [variant, { ...variant, VariantName: 'V' }] }), /variant name V is used more than once/],
    ['a serverless variant with an instance type', config({}, { ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 1 } }), /serverless variant .* must not specify InstanceType/],
    ['serverless memory under 1024 MB', config({}, { InstanceType: undefined, InitialInstanceCount: undefined, ServerlessConfig: { MemorySizeInMB: 512, MaxConcurrency: 1 } }), /memorySizeInMB' failed to satisfy constraint: Member must have value greater than or equal to 1024/],
    ['AsyncInferenceConfig', config({ AsyncInferenceConfig: { OutputConfig: { S3OutputPath: 's3://models/out/' } } }), /asynchronous inference is not supported/],
    ['a bad KmsKeyId', config({ KmsKeyId: 'key with spaces' }), /at 'kmsKeyId' failed to satisfy constraint/],
  ];
  for (const [what, input, message] of badConfigs) {
    it(`CreateEndpointConfig refuses ${what}`, async () => {
      await rejects(s.sagemaker.send(new CreateEndpointConfigCommand(input)), 'ValidationException', message);
    });
  }

  it('CreateEndpoint and UpdateEndpoint refuse bad names', async () => {
    await rejects(s.sagemaker.send(new CreateEndpointCommand({ EndpointName: 'bad_name', EndpointConfigName: 'dup-cfg' })), 'ValidationException', /Value 'bad_name' at 'endpointName' failed to satisfy constraint: Member must satisfy regular expression pattern/);
    await rejects(s.sagemaker.send(new CreateEndpointCommand({ EndpointName: 'e'.repeat(64), EndpointConfigName: 'dup-cfg' })), 'ValidationException', /at 'endpointName' failed to satisfy constraint: Member must have length less than or equal to 63/);
    await rejects(s.sagemaker.send(new CreateEndpointCommand({ EndpointName: 'ok', EndpointConfigName: 'bad cfg' })), 'ValidationException', /at 'endpointConfigName' failed to satisfy constraint/);
    await rejects(s.sagemaker.send(new CreateEndpointCommand({ EndpointName: 'ok', EndpointConfigName: 'dup-cfg', Tags: [{ Key: '', Value: 'v' }] })), 'ValidationException', /at 'tags\.1\.member\.key' failed to satisfy constraint: Member must have length greater than or equal to 1/);
    await rejects(s.sagemaker.send(new UpdateEndpointCommand({ EndpointName: '-x', EndpointConfigName: 'dup-cfg' })), 'ValidationException', /at 'endpointName'/);
  });

  it('runs an endpoint through its life: Creating -> InService -> Deleting -> gone, with the JS SDK waiters', async () => {
    await s.sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'life-config', ProductionVariants: [{ ...variant, VariantName: 'AllTraffic', InitialInstanceCount: 2 }] }));
    const created = await s.sagemaker.send(new CreateEndpointCommand({ EndpointName: 'life', EndpointConfigName: 'life-config', Tags: [] }));
    assert.equal(created.EndpointArn, arn('endpoint', 'life'));
    const creating = await s.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'life' }));
    assert.equal(creating.EndpointStatus, 'Creating');
    await rejects(s.sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'life', EndpointConfigName: 'life-config' })), 'ValidationException', `Cannot update in-progress endpoint "${arn('endpoint', 'life')}".`);
    const rt = runtimeClient(s);
    await rejects(rt.send(new InvokeEndpointCommand({ EndpointName: 'life', Body: Buffer.from('x') })), 'ValidationError', `Endpoint life of account ${ACCOUNT} not found.`);

    const waited = await waitUntilEndpointInService({ client: s.sagemaker, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { EndpointName: 'life' });
    assert.equal(waited.state, 'SUCCESS');
    const d = await s.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'life' }));
    assert.equal(d.EndpointStatus, 'InService');
    assert.equal(d.EndpointConfigName, 'life-config');
    assert.equal(d.FailureReason, undefined);
    const pv = d.ProductionVariants?.[0];
    assert.equal(pv?.VariantName, 'AllTraffic');
    assert.equal(pv?.CurrentInstanceCount, 2);
    assert.equal(pv?.DesiredInstanceCount, 2);
    assert.equal(pv?.CurrentWeight, 1);
    assert.equal(pv?.DesiredWeight, 1);
    assert.equal(pv?.DeployedImages?.[0]?.SpecifiedImage, PROBE);
    assert.match(pv?.DeployedImages?.[0]?.ResolvedImage ?? '', /sha256:[0-9a-f]{64}/);
    assert.deepEqual(pv?.VariantStatus, []);
    assert.ok(d.LastModifiedTime! >= d.CreationTime!);
    const listed = await s.sagemaker.send(new ListEndpointsCommand({ StatusEquals: 'InService', NameContains: 'lif' }));
    assert.deepEqual(listed.Endpoints?.map((e) => [e.EndpointName, e.EndpointStatus]), [['life', 'InService']]);

    // Deleting the model and the configuration leaves the running endpoint alone.
    await s.sagemaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: 'life-config' }));
    await s.sagemaker.send(new DeleteModelCommand({ ModelName: 'base-model' }));
    const res = await rt.send(new InvokeEndpointCommand({ EndpointName: 'life', Body: Buffer.from('still here') }));
    assert.equal(JSON.parse(Buffer.from(res.Body!).toString()).body, 'still here');
    assert.equal((await s.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'life' }))).ProductionVariants?.[0]?.CurrentInstanceCount, 2);
    await s.sagemaker.send(new CreateModelCommand({ ModelName: 'base-model', PrimaryContainer: { Image: PROBE } }));

    await s.sagemaker.send(new DeleteEndpointCommand({ EndpointName: 'life' }));
    const deleted = await waitUntilEndpointDeleted({ client: s.sagemaker, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { EndpointName: 'life' });
    assert.equal(deleted.state, 'SUCCESS');
    await rejects(rt.send(new InvokeEndpointCommand({ EndpointName: 'life', Body: Buffer.from('x') })), 'ValidationError', `Endpoint life of account ${ACCOUNT} not found.`);
    const left = await s.app.ctx.runtime.listByLabels({ 'sagebox.resource': 'life', 'sagebox.instance': s.app.config.instanceId });
    assert.deepEqual(left, [], 'no container left');
    rt.destroy();
  });

  it('fails an endpoint whose container never passes /ping, keeps its logs, and accepts only DeleteEndpoint', async () => {
    const d = await waitForStatus(s, 'failing', ['Failed', 'InService']);
    assert.equal(d.EndpointStatus, 'Failed');
    assert.equal(d.FailureReason, 'The primary container for production variant v did not pass the ping health check. Please check CloudWatch logs for this endpoint.');
    const waiter = waitUntilEndpointInService({ client: s.sagemaker, maxWaitTime: 10, minDelay: 1, maxDelay: 1 }, { EndpointName: 'failing' });
    await assert.rejects(waiter, /FAILURE|Failed/);
    const streams = s.app.ctx.logs.streams('/aws/sagemaker/Endpoints/failing', 'v/');
    assert.equal(streams.length, 1);
    assert.match(streams[0]!.name, /^v\/i-[0-9a-f]{17}$/);
    const lines = s.app.ctx.logs.events(streams[0]!.id).map((e) => e.message).join('\n');
    assert.match(lines, /ValueError: invalid literal for int\(\)/);
    await rejects(
      s.sagemaker.send(new UpdateEndpointCommand({ EndpointName: 'failing', EndpointConfigName: 'dup-cfg' })),
      'ValidationException',
      `Cannot update endpoint "${arn('endpoint', 'failing')}" because it is in Failed status. A failed endpoint can only be deleted.`,
    );
    await rejects(
      s.sagemaker.send(new UpdateEndpointWeightsAndCapacitiesCommand({ EndpointName: 'failing', DesiredWeightsAndCapacities: [{ VariantName: 'v', DesiredWeight: 2 }] })),
      'ValidationException',
      /because it is in Failed status/,
    );
    const rt = runtimeClient(s);
    await rejects(rt.send(new InvokeEndpointCommand({ EndpointName: 'failing', Body: Buffer.from('x') })), 'ValidationError', `Endpoint failing of account ${ACCOUNT} not found.`);
    rt.destroy();
    const left = await s.app.ctx.runtime.listByLabels({ 'sagebox.resource': 'failing', 'sagebox.instance': s.app.config.instanceId });
    assert.deepEqual(left, [], 'containers of a failed endpoint are removed');
    await s.sagemaker.send(new DeleteEndpointCommand({ EndpointName: 'failing' }));
    await waitUntilEndpointDeleted({ client: s.sagemaker, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { EndpointName: 'failing' });
  });

  it('fails an endpoint whose image does not exist with the AWS reason', async () => {
    await createEndpoint(s, { name: 'no-image', container: { Image: 'sagebox-test/does-not-exist:latest' } });
    const d = await waitForStatus(s, 'no-image', ['Failed', 'InService']);
    assert.equal(d.EndpointStatus, 'Failed');
    assert.equal(
      d.FailureReason,
      'Please make sure all images included in the model for the production variant AllTraffic exist, and that the execution role used to create the model has permissions to access them.',
    );
  });

  it('deletes an endpoint that is still Creating: its starting containers are removed', async () => {
    await createEndpoint(s, { name: 'slow', container: { Image: PROBE, Environment: { PROBE_PING_DELAY_S: '120' } }, variants: [{ InitialInstanceCount: 2 }] });
    await eventually('the containers to start', async () => ((await s.app.ctx.runtime.listByLabels({ 'sagebox.resource': 'slow', 'sagebox.instance': s.app.config.instanceId })).length === 2 ? true : undefined));
    assert.equal((await s.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'slow' }))).EndpointStatus, 'Creating');
    await s.sagemaker.send(new DeleteEndpointCommand({ EndpointName: 'slow' }));
    await waitUntilEndpointDeleted({ client: s.sagemaker, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { EndpointName: 'slow' });
    assert.deepEqual(await s.app.ctx.runtime.listByLabels({ 'sagebox.resource': 'slow', 'sagebox.instance': s.app.config.instanceId }), []);
  });

  it('refuses bad UpdateEndpointWeightsAndCapacities input', async () => {
    await createEndpoint(s, { name: 'weights' });
    await waitForStatus(s, 'weights', ['InService']);
    const send = (c: { VariantName?: string; DesiredWeight?: number; DesiredInstanceCount?: number }[]): Promise<unknown> =>
      s.sagemaker.send(new UpdateEndpointWeightsAndCapacitiesCommand({ EndpointName: 'weights', DesiredWeightsAndCapacities: c as never }));
    await rejects(send([{ VariantName: 'Nope', DesiredWeight: 1 }]), 'ValidationException', /the variant Nope is not a production variant of endpoint/);
    await rejects(send([{ VariantName: 'AllTraffic', DesiredInstanceCount: 0 }]), 'ValidationException', /DesiredInstanceCount must be at least 1/);
    await rejects(send([{ VariantName: 'AllTraffic', DesiredWeight: -1 }]), 'ValidationException', /desiredWeight' failed to satisfy constraint: Member must have value greater than or equal to 0/);
    await rejects(send([{ VariantName: 'AllTraffic' }]), 'ValidationException', /specify DesiredWeight, DesiredInstanceCount or both/);
    await rejects(send([]), 'ValidationException', /at 'desiredWeightsAndCapacities' failed to satisfy constraint: Member must have length greater than or equal to 1/);
    await deleteEndpointQuietly(s, 'weights');
    await waitUntilEndpointDeleted({ client: s.sagemaker, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { EndpointName: 'weights' });
  });
});
