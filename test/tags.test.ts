/**
 * AddTags, ListTags and DeleteTags through the JS SDK and AWS CLI v2: the
 * Create* operations' Tags listed first, adding (replacing a key's value),
 * deleting, paging, every resource kind sagebox keeps, unknown and malformed
 * ARNs, the 50-tag limit, a deleted resource's tags gone, and tags written
 * before the tags table existed kept across the migration.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import {
  AddTagsCommand, CreateAlgorithmCommand, CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, CreateModelPackageCommand,
  CreateModelPackageGroupCommand, CreateProcessingJobCommand, CreateTrainingJobCommand, CreateTransformJobCommand, DeleteEndpointCommand,
  DeleteModelCommand, DeleteTagsCommand, ListTagsCommand, paginateListTags, type Tag,
} from '@aws-sdk/client-sagemaker';
import { MIGRATIONS } from '../src/store/migrations';
import { awsCli } from './helpers/clients';
import { requireDocker } from './helpers/docker';
import { PROBE, TEST_CONFIG, removeServerContainers, waitForStatus } from './helpers/endpoints';
import { algorithmRequest } from './helpers/algorithms';
import { requireBinary, startServer, type TestServer } from './helpers/server';
import * as processing from './helpers/processing';
import * as training from './helpers/training';
import * as transform from './helpers/transform';

const ACCOUNT = '000000000000';
const arnOf = (type: string, name: string): string => `arn:aws:sagemaker:us-east-1:${ACCOUNT}:${type}/${name}`;
const tag = (Key: string, Value: string): Tag => ({ Key, Value });
const numbered = (n: number, prefix = 'k'): Tag[] => Array.from({ length: n }, (_, i) => tag(`${prefix}${i}`, `v${i}`));

async function rejects(p: Promise<unknown>, message: RegExp | string, label: string): Promise<void> {
  await assert.rejects(p, (err: Error) => {
    assert.equal(err.name, 'ValidationException', `${label}: ${err.name} ${err.message}`);
    if (typeof message === 'string') assert.equal(err.message, message, label);
    else assert.match(err.message, message, label);
    return true;
  }, label);
}

describe('tags', { timeout: 300_000 }, () => {
  let s: TestServer;
  const list = async (ResourceArn: string): Promise<Tag[] | undefined> => (await s.sagemaker.send(new ListTagsCommand({ ResourceArn }))).Tags;
  const model = async (name: string, Tags?: Tag[]): Promise<string> =>
    (await s.sagemaker.send(new CreateModelCommand({ ModelName: name, PrimaryContainer: { Image: PROBE }, Tags }))).ModelArn!;

  before(async () => {
    await requireDocker();
    s = await startServer(TEST_CONFIG);
  });
  after(async () => {
    await s.stop();
    await removeServerContainers(s);
  });

  it('lists the Create tags first, adds (a known key gets the new value), deletes (unknown keys are no error)', async () => {
    const arn = await model('tagged', [tag('team', 'ml'), tag('env', 'dev')]);
    assert.deepEqual(await list(arn), [tag('team', 'ml'), tag('env', 'dev')]);

    const added = await s.sagemaker.send(new AddTagsCommand({ ResourceArn: arn, Tags: [tag('env', 'prod'), tag('owner', 'ana'), tag('empty', '')] }));
    const all = [tag('team', 'ml'), tag('env', 'prod'), tag('owner', 'ana'), tag('empty', '')];
    assert.deepEqual(added.Tags, all);
    assert.deepEqual(await list(arn), all);

    const deleted = await s.sagemaker.send(new DeleteTagsCommand({ ResourceArn: arn, TagKeys: ['team', 'no-such-key', 'empty'] }));
    const { $metadata, ...output } = deleted;
    assert.equal($metadata.httpStatusCode, 200);
    assert.deepEqual(output, {});
    assert.deepEqual(await list(arn), [tag('env', 'prod'), tag('owner', 'ana')]);
    // Keys are case-sensitive; the resource name in the ARN is not (SageMaker names are unique case-insensitively).
    await s.sagemaker.send(new AddTagsCommand({ ResourceArn: arnOf('model', 'TAGGED'), Tags: [tag('Env', 'x')] }));
    assert.deepEqual(await list(arn), [tag('env', 'prod'), tag('owner', 'ana'), tag('Env', 'x')]);

    await model('untagged');
    assert.deepEqual(await list(arnOf('model', 'untagged')), []);
  });

  it('pages ListTags: MaxResults as the model allows (50 at least), NextToken checked', async () => {
    const arn = await model('fifty', numbered(50));
    const pages: Tag[][] = [];
    for await (const p of paginateListTags({ client: s.sagemaker, pageSize: 50 }, { ResourceArn: arn })) {
      pages.push(p.Tags ?? []);
      assert.equal(p.NextToken, undefined);
    }
    assert.deepEqual(pages, [numbered(50)]);
    // The AWS model's ListTagsMaxResults has min 50, so SageMaker refuses smaller pages; so does sagebox.
    await rejects(s.sagemaker.send(new ListTagsCommand({ ResourceArn: arn, MaxResults: 1 })), /Value '1' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 50/, 'MaxResults 1');
    await rejects(s.sagemaker.send(new ListTagsCommand({ ResourceArn: arn, NextToken: 'garbage' })), /^Invalid pagination token/, 'bad NextToken');
  });

  it('holds at most 50 tags per resource; a refused AddTags changes nothing', async () => {
    const arn = await model('full', numbered(49));
    await s.sagemaker.send(new AddTagsCommand({ ResourceArn: arn, Tags: [tag('fiftieth', 'x')] }));
    await rejects(
      s.sagemaker.send(new AddTagsCommand({ ResourceArn: arn, Tags: [tag('k0', 'changed'), tag('one-more', 'x')] })),
      `Tags: the resource ${arn} would have 51 tags, more than the limit of 50 tags per resource.`,
      '51st tag',
    );
    assert.deepEqual(await list(arn), [...numbered(49), tag('fiftieth', 'x')]);
    const replaced = await s.sagemaker.send(new AddTagsCommand({ ResourceArn: arn, Tags: [tag('k0', 'changed')] }));
    assert.equal(replaced.Tags?.length, 50);
    assert.deepEqual(replaced.Tags?.[0], tag('k0', 'changed'));
    await rejects(s.sagemaker.send(new AddTagsCommand({ ResourceArn: arn, Tags: numbered(51, 'n') })), /at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50/, '51 in one call');
  });

  it('answers "Resource <arn> not found." for ARNs that name nothing, and names resourceArn when it is malformed', async () => {
    const missing = [
      arnOf('model', 'no-such-model'),
      arnOf('training-job', 'no-such-job'),
      arnOf('notebook-instance', 'not-kept-by-sagebox'),
      `arn:aws:sagemaker:eu-west-1:${ACCOUNT}:model/tagged`,
      'arn:aws:sagemaker:us-east-1:123456789012:model/tagged',
    ];
    for (const arn of missing) {
      const message = `Resource ${arn} not found.`;
      await rejects(s.sagemaker.send(new ListTagsCommand({ ResourceArn: arn })), message, `ListTags ${arn}`);
      await rejects(s.sagemaker.send(new AddTagsCommand({ ResourceArn: arn, Tags: [tag('a', 'b')] })), message, `AddTags ${arn}`);
      await rejects(s.sagemaker.send(new DeleteTagsCommand({ ResourceArn: arn, TagKeys: ['a'] })), message, `DeleteTags ${arn}`);
    }
    await rejects(s.sagemaker.send(new ListTagsCommand({ ResourceArn: 'model/tagged' })), /^1 validation error detected: Value 'model\/tagged' at 'resourceArn' failed to satisfy constraint: Member must satisfy regular expression pattern/, 'not an ARN');
    const noName = `arn:aws:sagemaker:us-east-1:${ACCOUNT}:model`;
    await rejects(s.sagemaker.send(new AddTagsCommand({ ResourceArn: noName, Tags: [tag('a', 'b')] })), /^1 validation error detected: Value '.*:model' at 'resourceArn' failed to satisfy constraint: Member must be the ARN of a SageMaker resource/, 'no resource name');
    await rejects(s.sagemaker.send(new AddTagsCommand({ ResourceArn: arnOf('model', 'tagged'), Tags: [tag('bad#key', 'v')] })), /at 'tags\.1\.member\.key' failed to satisfy constraint/, 'bad key');
  });

  it("refuses tag keys with the system prefix 'aws:' (any case) in AddTags, DeleteTags and a Create* call", async () => {
    const arn = await model('reserved', [tag('ok', '1')]);
    const reserved = (key: string) => `System prefix 'aws:' reserved for AWS usage in tag key: ${key}`;
    await rejects(s.sagemaker.send(new AddTagsCommand({ ResourceArn: arn, Tags: [tag('fine', 'x'), tag('aws:owner', 'me')] })), reserved('aws:owner'), 'AddTags');
    await rejects(s.sagemaker.send(new AddTagsCommand({ ResourceArn: arn, Tags: [tag('AWS:Owner', 'me')] })), reserved('AWS:Owner'), 'upper case');
    await rejects(s.sagemaker.send(new DeleteTagsCommand({ ResourceArn: arn, TagKeys: ['aws:cloudformation:stack-name'] })), reserved('aws:cloudformation:stack-name'), 'DeleteTags');
    await rejects(model('reserved-2', [tag('aws:x', 'y')]), reserved('aws:x'), 'CreateModel');
    assert.deepEqual(await list(arn), [tag('ok', '1')], 'a refused AddTags adds nothing');
    await rejects(s.sagemaker.send(new ListTagsCommand({ ResourceArn: arnOf('model', 'reserved-2') })), `Resource ${arnOf('model', 'reserved-2')} not found.`, 'not created');
    await s.sagemaker.send(new AddTagsCommand({ ResourceArn: arn, Tags: [tag('awsome', 'x'), tag('my:aws:key', 'y')] }));
    assert.deepEqual((await list(arn))?.map((t) => t.Key).sort(), ['awsome', 'my:aws:key', 'ok'], 'only a leading aws: is reserved');
  });

  it("forgets a deleted resource's tags: a new resource of the same name starts without them", async () => {
    const arn = await model('reborn', [tag('generation', '1')]);
    await s.sagemaker.send(new AddTagsCommand({ ResourceArn: arn, Tags: [tag('added', 'later')] }));
    await s.sagemaker.send(new DeleteModelCommand({ ModelName: 'reborn' }));
    await rejects(s.sagemaker.send(new ListTagsCommand({ ResourceArn: arn })), `Resource ${arn} not found.`, 'deleted model');
    await model('Reborn');
    assert.deepEqual(await list(arn), []);
  });

  it('tags every resource kind sagebox keeps (hosting, algorithms, model packages, training, processing, transform jobs)', async () => {
    const kindTag = (kind: string): Tag[] => [tag('kind', kind)];
    await transform.putObject(s, 'in/data.csv', '1,2\n');
    const arns = [
      await model('kinds-model', kindTag('model')),
      (await s.sagemaker.send(new CreateEndpointConfigCommand({
        EndpointConfigName: 'kinds-config', Tags: kindTag('endpoint-config'),
        ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'kinds-model', InstanceType: 'ml.m5.large', InitialInstanceCount: 1 }],
      }))).EndpointConfigArn!,
      (await s.sagemaker.send(new CreateEndpointCommand({ EndpointName: 'kinds-endpoint', EndpointConfigName: 'kinds-config', Tags: kindTag('endpoint') }))).EndpointArn!,
      (await s.sagemaker.send(new CreateAlgorithmCommand(algorithmRequest('kinds-algorithm', { Tags: kindTag('algorithm') })))).AlgorithmArn!,
      (await s.sagemaker.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'kinds-group', Tags: kindTag('model-package-group') }))).ModelPackageGroupArn!,
      (await s.sagemaker.send(new CreateModelPackageCommand({ ModelPackageGroupName: 'kinds-group', InferenceSpecification: packageInference(), Tags: kindTag('model-package') }))).ModelPackageArn!,
      (await s.sagemaker.send(new CreateModelPackageCommand({ ModelPackageName: 'kinds-package', InferenceSpecification: packageInference(), Tags: kindTag('model-package') }))).ModelPackageArn!,
      (await s.sagemaker.send(new CreateTrainingJobCommand(training.probeJob('kinds-training', { Tags: kindTag('training-job') })))).TrainingJobArn!,
      (await s.sagemaker.send(new CreateProcessingJobCommand(processing.probeJob('kinds-processing', { Tags: kindTag('processing-job') })))).ProcessingJobArn!,
      (await s.sagemaker.send(new CreateTransformJobCommand({
        ...transform.jobRequest({ name: 'kinds-transform', model: 'kinds-model', input: `s3://${transform.BUCKET}/in/`, output: `s3://${transform.BUCKET}/out/` }),
        Tags: kindTag('transform-job'),
      }))).TransformJobArn!,
    ];
    assert.match(arns[5]!, /:model-package\/kinds-group\/1$/);
    for (const arn of arns) {
      const kind = /:([a-z-]+)\//.exec(arn)![1]!;
      assert.deepEqual(await list(arn), kindTag(kind), arn);
      const added = await s.sagemaker.send(new AddTagsCommand({ ResourceArn: arn, Tags: [tag('added', 'yes')] }));
      assert.deepEqual(added.Tags, [...kindTag(kind), tag('added', 'yes')], arn);
      await s.sagemaker.send(new DeleteTagsCommand({ ResourceArn: arn, TagKeys: ['kind'] }));
      assert.deepEqual(await list(arn), [tag('added', 'yes')], arn);
    }
    await training.settle(s, 'kinds-training');
    await processing.settle(s, 'kinds-processing');
    await transform.settle(s, 'kinds-transform');
    await s.sagemaker.send(new DeleteEndpointCommand({ EndpointName: 'kinds-endpoint' }));
    await waitForStatus(s, 'kinds-endpoint', ['__gone__'], 30_000).catch((err: Error) => assert.match(err.message, /Could not find endpoint/));
    await rejects(s.sagemaker.send(new ListTagsCommand({ ResourceArn: arns[2]! })), `Resource ${arns[2]} not found.`, 'deleted endpoint');
  });

  it('add-tags, list-tags and delete-tags with AWS CLI v2', async () => {
    requireBinary('/usr/bin/aws', "install Debian's awscli (apt-get install -y awscli)");
    const cli = (args: string[]): ReturnType<typeof awsCli> => awsCli(s.clientEnv, ['sagemaker', ...args]);
    const arn = await model('cli-model', [tag('from', 'create')]);
    const added = await cli(['add-tags', '--resource-arn', arn, '--tags', 'Key=from,Value=cli', 'Key=stage,Value=test']);
    assert.deepEqual(added.json, { Tags: [tag('from', 'cli'), tag('stage', 'test')] });
    assert.deepEqual((await cli(['list-tags', '--resource-arn', arn])).json, { Tags: [tag('from', 'cli'), tag('stage', 'test')] });
    const deleted = await cli(['delete-tags', '--resource-arn', arn, '--tag-keys', 'from']);
    assert.equal(deleted.stdout.trim(), '');
    assert.deepEqual((await cli(['list-tags', '--resource-arn', arn])).json, { Tags: [tag('stage', 'test')] });
    await assert.rejects(cli(['list-tags', '--resource-arn', arnOf('model', 'nope')]), (err: Error & { stderr?: string }) => {
      assert.match(err.stderr ?? '', /ValidationException.*Resource arn:aws:sagemaker:us-east-1:000000000000:model\/nope not found\./);
      return true;
    });
  });
});

const packageInference = () => ({ Containers: [{ Image: PROBE }], SupportedContentTypes: ['text/csv'], SupportedResponseMIMETypes: ['text/csv'] });

describe('tags written before the tags table', { timeout: 120_000 }, () => {
  it('keeps the Create tags a data directory of schema 1 holds (internal.tags, jobs internal.extra.tags)', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sagebox-tags-'));
    writeSchema1(dataDir);
    const s = await startServer({ dataDir });
    try {
      const list = async (arn: string): Promise<Tag[] | undefined> => (await s.sagemaker.send(new ListTagsCommand({ ResourceArn: arn }))).Tags;
      assert.deepEqual(await list(arnOf('model', 'Old-Model')), [tag('team', 'ml'), tag('env', 'dev')]);
      assert.deepEqual(await list(arnOf('training-job', 'old-job')), [tag('run', '7')]);
      assert.deepEqual(await list(arnOf('endpoint-config', 'old-config')), []);
      const added = await s.sagemaker.send(new AddTagsCommand({ ResourceArn: arnOf('model', 'old-model'), Tags: [tag('env', 'prod')] }));
      assert.deepEqual(added.Tags, [tag('team', 'ml'), tag('env', 'prod')]);
    } finally {
      await s.stop();
    }
    const db = new Database(path.join(dataDir, 'sagebox.db'), { readonly: true });
    try {
      const internals = db.prepare('SELECT internal FROM resources ORDER BY kind').pluck().all() as string[];
      assert.deepEqual(internals.map((i) => JSON.parse(i)), [{}, {}, { phase: 'done', attempt: 1, hosts: [], extra: { algorithmImage: 'img' } }]);
    } finally {
      db.close();
    }
  });
});

/** A database as sagebox wrote it before migration 2: rows shaped as the Create operations stored them then. */
function writeSchema1(dataDir: string): void {
  const db = new Database(path.join(dataDir, 'sagebox.db'));
  try {
    db.exec('CREATE TABLE schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    db.exec(MIGRATIONS[0]!.sql);
    db.prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)').run(MIGRATIONS[0]!.id, MIGRATIONS[0]!.name, Date.now());
    const insert = db.prepare(
      `INSERT INTO resources (kind, name_key, name, arn, status, creation_time, last_modified_time, doc, internal)
       VALUES (?, ?, ?, ?, ?, 1700000000, 1700000000, ?, ?)`,
    );
    const row = (kind: string, name: string, status: string | null, doc: object, internal: object): void => {
      insert.run(kind, name.toLowerCase(), name, arnOf(kind, name), status, JSON.stringify(doc), JSON.stringify(internal));
    };
    row('model', 'Old-Model', null, { ModelName: 'Old-Model', ModelArn: arnOf('model', 'Old-Model'), CreationTime: 1700000000, PrimaryContainer: { Image: PROBE } }, { tags: [tag('team', 'ml'), tag('env', 'dev')] });
    row('endpoint-config', 'old-config', null, { EndpointConfigName: 'old-config', EndpointConfigArn: arnOf('endpoint-config', 'old-config'), ProductionVariants: [], CreationTime: 1700000000 }, {});
    row('training-job', 'old-job', 'Completed', { TrainingJobName: 'old-job', TrainingJobArn: arnOf('training-job', 'old-job'), TrainingJobStatus: 'Completed' }, {
      phase: 'done', attempt: 1, hosts: [], extra: { tags: [tag('run', '7')], algorithmImage: 'img' },
    });
  } finally {
    db.close();
  }
}
