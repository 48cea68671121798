/**
 * The validation runner's state machine with stand-in operations (no
 * containers): the names it persists before creating jobs, resuming after a
 * restart without creating anything twice, the training artifacts handed to
 * the model, and a transform that completes without writing output failing
 * the validation at that step.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { InternalSageMaker } from '../src/api/internal-calls';
import { ValidationRunner, type ValidationSubject } from '../src/jobs/algorithms/validation-runner';
import type { ProductStatus, StatusItem, ValidatedInternal } from '../src/jobs/algorithms/status';
import { ResourceRepo } from '../src/store/resource-repo';
import { requireDocker } from './helpers/docker';
import { startServer, type TestServer } from './helpers/server';
import { eventually } from './helpers/endpoints';
import { putObject } from './helpers/training';

interface Doc {
  Status?: ProductStatus;
  Items: StatusItem[];
}

let s: TestServer;
before(async () => {
  await requireDocker();
  s = await startServer();
  await putObject(s, 'full/rows.csv.out', '1\n', 'unit-bucket');
});
after(async () => s.stop());

/** Stand-in operations: records calls, stores a row per created resource, answers Describe from `statuses`. */
function fakeCalls(statuses: Map<string, Record<string, unknown>>) {
  const calls: { op: string; input: Record<string, unknown> }[] = [];
  const kinds: Record<string, [string, string]> = { CreateTrainingJob: ['training-job', 'TrainingJobName'], CreateModel: ['model', 'ModelName'], CreateTransformJob: ['transform-job', 'TransformJobName'] };
  const fake = {
    async call(op: string, input: Record<string, unknown>) {
      calls.push({ op, input });
      const kind = kinds[op];
      if (kind) {
        const name = String(input[kind[1]]);
        new ResourceRepo(s.app.ctx.db, kind[0]).insert({ name, arn: `arn:${name}`, creationTime: 0, lastModifiedTime: 0, doc: {}, internal: {} });
        return {};
      }
      const name = String(input.TrainingJobName ?? input.TransformJobName);
      return statuses.get(`${op}:${name}`) ?? { TrainingJobStatus: 'InProgress', TransformJobStatus: 'InProgress' };
    },
  };
  return { calls, calls_of: (op: string) => calls.filter((c) => c.op === op), client: fake as unknown as InternalSageMaker };
}

function subject(repo: ResourceRepo<Doc, ValidatedInternal>, outputOf: (name: string) => string): ValidationSubject<Doc> {
  return {
    noun: 'thing',
    repo,
    status: (d) => d.Status,
    setStatus: (d, st) => void (d.Status = st),
    items: (d) => d.Items,
    plan: (row) => ({
      profile: 'p',
      role: 'arn:aws:iam::123456789012:role/R',
      baseName: row.name,
      training: { RoleArn: 'arn:aws:iam::123456789012:role/R' },
      transform: {
        definition: { TransformInput: { DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://unit-bucket/in/' } } }, TransformOutput: { S3OutputPath: outputOf(row.name) }, TransformResources: { InstanceType: 'ml.m5.large', InstanceCount: 1 } },
        container: (modelDataUrl) => ({ Image: 'img', ModelDataUrl: modelDataUrl }),
      },
    }),
  };
}

describe('validation runner', () => {
  it('persists its progress, resumes after a restart without creating twice, and fails a transform that wrote nothing', async () => {
    const repo = new ResourceRepo<Doc, ValidatedInternal>(s.app.ctx.db, 'unit-validated');
    for (const name of ['unit-empty', 'unit-full']) repo.insert({ name, arn: `arn:${name}`, status: 'Pending', creationTime: 0, lastModifiedTime: 0, doc: { Status: 'Pending', Items: [{ Name: 'p', Status: 'NotStarted' }] }, internal: {} });
    const statuses = new Map<string, Record<string, unknown>>();
    const fake = fakeCalls(statuses);
    const routed = subject(repo, (name) => (name === 'unit-full' ? 's3://unit-bucket/full/' : 's3://unit-bucket/empty/'));

    const first = new ValidationRunner(s.app.ctx, fake.client, [routed], { pollMs: 20 });
    first.kick();
    await eventually('both training jobs created', () => (fake.calls_of('CreateTrainingJob').length === 2 ? true : undefined));
    await eventually('a few polls', () => (fake.calls_of('DescribeTrainingJob').length >= 4 ? true : undefined));
    await first.close();
    const row = repo.get('unit-empty')!;
    assert.equal(row.doc.Status, 'InProgress');
    assert.deepEqual(row.doc.Items, [{ Name: 'p', Status: 'InProgress' }]);
    assert.deepEqual(row.internal.validation, { profile: 'p', step: 'training', trainingJob: 'unit-empty-validation-1', model: 'unit-empty-validation-1', transformJob: 'unit-empty-validation-1' });
    assert.deepEqual(fake.calls_of('CreateTrainingJob').map((c) => c.input.TrainingJobName), ['unit-empty-validation-1', 'unit-full-validation-1']);

    for (const name of ['unit-empty', 'unit-full']) {
      statuses.set(`DescribeTrainingJob:${name}-validation-1`, { TrainingJobStatus: 'Completed', ModelArtifacts: { S3ModelArtifacts: `s3://unit-bucket/${name}/model.tar.gz` } });
      statuses.set(`DescribeTransformJob:${name}-validation-1`, { TransformJobStatus: 'Completed' });
    }
    const second = new ValidationRunner(s.app.ctx, fake.client, [routed], { pollMs: 20 });
    second.kick();
    await eventually('both finished', () => (['unit-empty', 'unit-full'].every((n) => ['Completed', 'Failed'].includes(repo.get(n)!.doc.Status!)) ? true : undefined));
    await second.close();

    assert.equal(fake.calls_of('CreateTrainingJob').length, 2, 'not created again after the restart');
    const models = fake.calls_of('CreateModel');
    assert.deepEqual(models.map((c) => [c.input.ModelName, (c.input.PrimaryContainer as { ModelDataUrl?: string }).ModelDataUrl]), [
      ['unit-empty-validation-1', 's3://unit-bucket/unit-empty/model.tar.gz'],
      ['unit-full-validation-1', 's3://unit-bucket/unit-full/model.tar.gz'],
    ]);
    assert.deepEqual(fake.calls_of('CreateTransformJob').map((c) => [c.input.TransformJobName, c.input.ModelName]), [
      ['unit-empty-validation-1', 'unit-empty-validation-1'],
      ['unit-full-validation-1', 'unit-full-validation-1'],
    ]);
    const empty = repo.get('unit-empty')!;
    assert.equal(empty.doc.Status, 'Failed');
    assert.deepEqual(empty.doc.Items, [{ Name: 'p', Status: 'Failed', FailureReason: 'Validation transform job unit-empty-validation-1 completed but wrote no output under s3://unit-bucket/empty/.' }]);
    assert.equal(empty.internal.validation?.step, 'done');
    const full = repo.get('unit-full')!;
    assert.equal(full.doc.Status, 'Completed');
    assert.deepEqual(full.doc.Items, [{ Name: 'p', Status: 'Completed' }]);
  });

  it('picks the next free name when `<name>-validation-1` is taken, within 63 characters', async () => {
    const repo = new ResourceRepo<Doc, ValidatedInternal>(s.app.ctx.db, 'unit-validated-2');
    const long = `a${'b'.repeat(62)}`;
    repo.insert({ name: long, arn: 'arn:x', status: 'Pending', creationTime: 0, lastModifiedTime: 0, doc: { Status: 'Pending', Items: [] }, internal: {} });
    new ResourceRepo(s.app.ctx.db, 'model').insert({ name: `${long.slice(0, 63 - 13)}-validation-1`, arn: 'arn:m', creationTime: 0, lastModifiedTime: 0, doc: {}, internal: {} });
    const fake = fakeCalls(new Map());
    const runner = new ValidationRunner(s.app.ctx, fake.client, [subject(repo, () => 's3://unit-bucket/x/')], { pollMs: 20 });
    runner.kick();
    await eventually('training job created', () => fake.calls_of('CreateTrainingJob')[0]);
    await runner.close();
    const name = String(fake.calls_of('CreateTrainingJob')[0]!.input.TrainingJobName);
    assert.equal(name, `${long.slice(0, 63 - 13)}-validation-2`);
    assert.equal(name.length, 63);
  });
});
