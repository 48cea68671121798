/**
 * Model packages without running a container: unversioned and versioned
 * (groups, version numbers, ARNs), InferenceSpecification and
 * SourceAlgorithmSpecification, listing filters, deletion rules, and
 * CreateModel resolving Containers[].ModelPackageName by name, ARN and
 * `group/version`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateAlgorithmCommand, CreateModelCommand, CreateModelPackageCommand, CreateModelPackageGroupCommand, DeleteModelPackageCommand,
  DeleteModelPackageGroupCommand, DescribeModelCommand, DescribeModelPackageCommand, DescribeModelPackageGroupCommand,
  ListModelPackageGroupsCommand, ListModelPackagesCommand, type CreateModelPackageCommandInput,
} from '@aws-sdk/client-sagemaker';
import { requireDocker } from './helpers/docker';
import { startServer, type TestServer } from './helpers/server';
import { INFERENCE_IMAGE, algorithmRequest } from './helpers/algorithms';
import { putObject } from './helpers/training';

let s: TestServer;
const BUCKET = 'packages';
const DATA = `s3://${BUCKET}/model.tar.gz`;

before(async () => {
  await requireDocker();
  s = await startServer();
  await putObject(s, 'model.tar.gz', 'not really an archive', BUCKET);
  await s.sagemaker.send(new CreateAlgorithmCommand(algorithmRequest('pkg-algo', { InferenceSpecification: { Containers: [{ Image: INFERENCE_IMAGE, Environment: { FROM_ALGORITHM: '1' } }], SupportedContentTypes: ['text/csv'], SupportedResponseMIMETypes: ['text/csv'] } })));
});
after(async () => s.stop());

const inference = (image = 'sagebox-test/probe:latest') => ({
  Containers: [{ Image: image, ModelDataUrl: DATA, Environment: { FROM_PACKAGE: 'yes' } }],
  SupportedContentTypes: ['text/csv'],
  SupportedResponseMIMETypes: ['application/json'],
});

async function rejects(p: Promise<unknown>, name: string, expected: RegExp, label: string): Promise<void> {
  await assert.rejects(p, (e: any) => {
    assert.equal(e.name, name, `${label}: ${e.name} ${e.message}`);
    assert.match(e.message, expected, label);
    return true;
  }, label);
}

describe('model packages without containers', () => {
  it('creates unversioned packages from an InferenceSpecification or a source algorithm, Completed at once', async () => {
    const arn = (await s.sagemaker.send(new CreateModelPackageCommand({ ModelPackageName: 'pkg-inf', ModelPackageDescription: 'd', InferenceSpecification: inference() }))).ModelPackageArn!;
    assert.match(arn, /^arn:aws:sagemaker:us-east-1:\d{12}:model-package\/pkg-inf$/);
    const d = await s.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));
    assert.equal(d.ModelPackageName, 'pkg-inf');
    assert.equal(d.ModelPackageStatus, 'Completed');
    assert.deepEqual(d.ModelPackageStatusDetails, { ValidationStatuses: [], ImageScanStatuses: [] });
    assert.equal(d.ModelPackageVersion, undefined);
    assert.equal(d.ModelApprovalStatus, undefined);
    assert.equal(d.InferenceSpecification?.Containers?.[0]?.ModelDataUrl, DATA);
    assert.equal(d.CertifyForMarketplace, false);
    assert.ok(d.CreationTime instanceof Date);

    await s.sagemaker.send(new CreateModelPackageCommand({ ModelPackageName: 'pkg-src', SourceAlgorithmSpecification: { SourceAlgorithms: [{ AlgorithmName: 'pkg-algo', ModelDataUrl: DATA }] } }));
    const src = await s.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: 'pkg-src' }));
    assert.equal(src.SourceAlgorithmSpecification?.SourceAlgorithms?.[0]?.AlgorithmName, 'pkg-algo');
    assert.equal(src.ModelPackageStatus, 'Completed');

    const cases: [string, CreateModelPackageCommandInput, RegExp][] = [
      ['neither name nor group', { InferenceSpecification: inference() }, /exactly one of ModelPackageName .* and ModelPackageGroupName/],
      ['nothing to serve', { ModelPackageName: 'pkg-x' }, /needs an InferenceSpecification or a SourceAlgorithmSpecification/],
      ['missing model data', { ModelPackageName: 'pkg-x', InferenceSpecification: { ...inference(), Containers: [{ Image: 'i', ModelDataUrl: `s3://${BUCKET}/nope.tar.gz` }] } }, /Could not find model data at s3:\/\/packages\/nope\.tar\.gz/],
      ['unknown algorithm', { ModelPackageName: 'pkg-x', SourceAlgorithmSpecification: { SourceAlgorithms: [{ AlgorithmName: 'nope', ModelDataUrl: DATA }] } }, /Algorithm arn:.*algorithm\/nope does not exist/],
      ['source without model data', { ModelPackageName: 'pkg-x', SourceAlgorithmSpecification: { SourceAlgorithms: [{ AlgorithmName: 'pkg-algo' }] } }, /modelDataUrl' is required/],
      ['unknown group', { ModelPackageGroupName: 'nope', InferenceSpecification: inference() }, /ModelPackageGroup arn:.*model-package-group\/nope does not exist/],
      ['duplicate', { ModelPackageName: 'PKG-INF', InferenceSpecification: inference() }, /Cannot create already existing model package/],
    ];
    for (const [label, input, expected] of cases) await rejects(s.sagemaker.send(new CreateModelPackageCommand(input)), 'ValidationException', expected, label);
  });

  it('numbers versions in a group (never reusing a number), lists by type and group, and refuses to delete a group with versions', async () => {
    const g = await s.sagemaker.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'grp', ModelPackageGroupDescription: 'a group' }));
    assert.match(g.ModelPackageGroupArn!, /:model-package-group\/grp$/);
    const gd = await s.sagemaker.send(new DescribeModelPackageGroupCommand({ ModelPackageGroupName: 'grp' }));
    assert.equal(gd.ModelPackageGroupStatus, 'Completed');
    assert.equal(gd.ModelPackageGroupDescription, 'a group');
    await rejects(s.sagemaker.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'grp' })), 'ValidationException', /already exists/, 'duplicate group');

    const v1 = await s.sagemaker.send(new CreateModelPackageCommand({ ModelPackageGroupName: 'grp', InferenceSpecification: inference() }));
    const v2 = await s.sagemaker.send(new CreateModelPackageCommand({ ModelPackageGroupName: g.ModelPackageGroupArn, InferenceSpecification: inference(), ModelApprovalStatus: 'Approved' }));
    assert.match(v1.ModelPackageArn!, /:model-package\/grp\/1$/);
    assert.match(v2.ModelPackageArn!, /:model-package\/grp\/2$/);
    const d2 = await s.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: 'grp/2' }));
    assert.equal(d2.ModelPackageName, 'grp');
    assert.equal(d2.ModelPackageGroupName, 'grp');
    assert.equal(d2.ModelPackageVersion, 2);
    assert.equal(d2.ModelApprovalStatus, 'Approved');
    const d1 = await s.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: v1.ModelPackageArn }));
    assert.equal(d1.ModelApprovalStatus, 'PendingManualApproval');

    const unversioned = await s.sagemaker.send(new ListModelPackagesCommand({}));
    assert.ok(unversioned.ModelPackageSummaryList!.every((p) => p.ModelPackageVersion === undefined));
    assert.deepEqual(unversioned.ModelPackageSummaryList!.map((p) => p.ModelPackageName).filter((n) => n!.startsWith('pkg-')), ['pkg-inf', 'pkg-src']);
    const versions = await s.sagemaker.send(new ListModelPackagesCommand({ ModelPackageGroupName: 'grp', SortOrder: 'Descending' }));
    assert.deepEqual(versions.ModelPackageSummaryList!.map((p) => p.ModelPackageVersion), [2, 1]);
    const approved = await s.sagemaker.send(new ListModelPackagesCommand({ ModelPackageType: 'Both', ModelApprovalStatus: 'Approved' }));
    assert.deepEqual(approved.ModelPackageSummaryList!.map((p) => p.ModelPackageArn), [v2.ModelPackageArn]);
    const page = await s.sagemaker.send(new ListModelPackagesCommand({ ModelPackageType: 'Versioned', MaxResults: 1 }));
    assert.equal(page.ModelPackageSummaryList!.length, 1);
    assert.ok(page.NextToken);
    const groups = await s.sagemaker.send(new ListModelPackageGroupsCommand({ NameContains: 'gr' }));
    assert.deepEqual(groups.ModelPackageGroupSummaryList!.map((x) => x.ModelPackageGroupName), ['grp']);

    await rejects(s.sagemaker.send(new DeleteModelPackageGroupCommand({ ModelPackageGroupName: 'grp' })), 'ConflictException', /still has 2 model package version/, 'group with versions');
    await s.sagemaker.send(new DeleteModelPackageCommand({ ModelPackageName: 'grp/2' }));
    const v3 = await s.sagemaker.send(new CreateModelPackageCommand({ ModelPackageGroupName: 'grp', InferenceSpecification: inference() }));
    assert.match(v3.ModelPackageArn!, /:model-package\/grp\/3$/);
    await s.sagemaker.send(new DeleteModelPackageCommand({ ModelPackageName: 'grp/1' }));
    await s.sagemaker.send(new DeleteModelPackageCommand({ ModelPackageName: v3.ModelPackageArn }));
    await s.sagemaker.send(new DeleteModelPackageGroupCommand({ ModelPackageGroupName: 'grp' }));
    await rejects(s.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: 'grp/1' })), 'ValidationException', /ModelPackage arn:.*model-package\/grp\/1 does not exist/, 'deleted version');
  });

  it('CreateModel with Containers[].ModelPackageName runs the package\'s image and model data (name, ARN, group/version)', async () => {
    await s.sagemaker.send(new CreateModelCommand({ ModelName: 'm-from-inf', Containers: [{ ModelPackageName: 'pkg-inf', Environment: { EXTRA: '1' } }] }));
    const m = await s.sagemaker.send(new DescribeModelCommand({ ModelName: 'm-from-inf' }));
    const c = m.Containers![0]!;
    assert.equal(c.ModelPackageName, 'pkg-inf');
    assert.equal(c.Image, 'sagebox-test/probe:latest');
    assert.equal(c.ModelDataUrl, DATA);
    assert.deepEqual(c.Environment, { FROM_PACKAGE: 'yes', EXTRA: '1' });

    const src = (await s.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: 'pkg-src' }))).ModelPackageArn!;
    await s.sagemaker.send(new CreateModelCommand({ ModelName: 'm-from-src', PrimaryContainer: { ModelPackageName: src } }));
    const p = (await s.sagemaker.send(new DescribeModelCommand({ ModelName: 'm-from-src' }))).PrimaryContainer!;
    assert.equal(p.Image, INFERENCE_IMAGE);
    assert.equal(p.ModelDataUrl, DATA);
    assert.deepEqual(p.Environment, { FROM_ALGORITHM: '1' });

    await s.sagemaker.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'grp2' }));
    await s.sagemaker.send(new CreateModelPackageCommand({ ModelPackageGroupName: 'grp2', InferenceSpecification: inference(INFERENCE_IMAGE) }));
    await s.sagemaker.send(new CreateModelCommand({ ModelName: 'm-from-version', Containers: [{ ModelPackageName: 'grp2/1' }] }));
    assert.equal((await s.sagemaker.send(new DescribeModelCommand({ ModelName: 'm-from-version' }))).Containers![0]!.Image, INFERENCE_IMAGE);

    await rejects(s.sagemaker.send(new CreateModelCommand({ ModelName: 'm-missing', Containers: [{ ModelPackageName: 'no-such-package' }] })), 'ValidationException', /ModelPackage arn:.*model-package\/no-such-package does not exist/, 'missing package');
    await rejects(s.sagemaker.send(new CreateModelCommand({ ModelName: 'm-missing', Containers: [{ ModelPackageName: 'grp2/9' }] })), 'ValidationException', /model-package\/grp2\/9 does not exist/, 'missing version');
  });
});
