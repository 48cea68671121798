/**
 * UpdateModelPackage through the JS SDK and the AWS CLI v2, against the real
 * server: approving, rejecting and re-pending a version (DescribeModelPackage
 * and ListModelPackages' ModelApprovalStatus filter follow), the approval
 * description, customer metadata added and removed, the plain records
 * (SourceUri, ModelCard, ModelLifeCycle, additional inference
 * specifications), ClientToken, and the refusals: an unversioned package's
 * approval, an unknown package, a bad enum value, a name instead of an ARN,
 * InferenceSpecification. No container runs.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateModelCommand, CreateModelPackageCommand, CreateModelPackageGroupCommand, DescribeModelCommand, DescribeModelPackageCommand,
  ListModelPackagesCommand, UpdateModelPackageCommand, type ModelApprovalStatus, type UpdateModelPackageCommandInput,
} from '@aws-sdk/client-sagemaker';
import { startServer, type TestServer } from './helpers/server';
import { awsCli } from './helpers/clients';
import { putObject } from './helpers/training';

let s: TestServer;
const BUCKET = 'update-packages';
const DATA = `s3://${BUCKET}/model.tar.gz`;
const GROUP = 'approvals';
const IMAGE = 'sagebox-test/probe:latest';
const inference = { Containers: [{ Image: IMAGE, ModelDataUrl: DATA }], SupportedContentTypes: ['text/csv'], SupportedResponseMIMETypes: ['text/csv'] };

before(async () => {
  s = await startServer();
  await putObject(s, 'model.tar.gz', 'not really an archive', BUCKET);
  await s.sagemaker.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: GROUP }));
});
after(async () => s.stop());

/** A new version of the group; its ARN. */
async function newVersion(extra: { CustomerMetadataProperties?: Record<string, string> } = {}): Promise<string> {
  return (await s.sagemaker.send(new CreateModelPackageCommand({ ModelPackageGroupName: GROUP, InferenceSpecification: inference, ...extra }))).ModelPackageArn!;
}

const update = (input: UpdateModelPackageCommandInput) => s.sagemaker.send(new UpdateModelPackageCommand(input));
const describePackage = (arn: string) => s.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: arn }));

async function listed(status: ModelApprovalStatus): Promise<string[]> {
  const r = await s.sagemaker.send(new ListModelPackagesCommand({ ModelPackageGroupName: GROUP, ModelApprovalStatus: status, MaxResults: 100 }));
  return r.ModelPackageSummaryList!.map((p) => p.ModelPackageArn!);
}

async function rejects(p: Promise<unknown>, expected: RegExp, label: string): Promise<string> {
  let message = '';
  await assert.rejects(p, (e: any) => {
    assert.equal(e.name, 'ValidationException', `${label}: ${e.name} ${e.message}`);
    assert.match(e.message, expected, label);
    message = e.message;
    return true;
  }, label);
  return message;
}

describe('UpdateModelPackage', () => {
  it('approves, rejects and puts a version back to pending; Describe and the ListModelPackages filter follow', async () => {
    const v1 = await newVersion();
    const v2 = await newVersion();
    const created = await describePackage(v1);
    assert.equal(created.ModelApprovalStatus, 'PendingManualApproval');

    assert.deepEqual((await update({ ModelPackageArn: v1, ModelApprovalStatus: 'Approved', ApprovalDescription: 'AUC 0.93 on holdout' })).ModelPackageArn, v1);
    const approved = await describePackage(v1);
    assert.equal(approved.ModelApprovalStatus, 'Approved');
    assert.equal(approved.ApprovalDescription, 'AUC 0.93 on holdout');
    assert.ok(approved.LastModifiedTime! > created.LastModifiedTime!, 'LastModifiedTime moves');
    assert.deepEqual(approved.CreationTime, created.CreationTime);
    assert.deepEqual(approved.LastModifiedBy, {});
    assert.equal(approved.ModelPackageStatus, 'Completed');
    assert.deepEqual(await listed('Approved'), [v1]);
    assert.deepEqual(await listed('PendingManualApproval'), [v2]);

    await update({ ModelPackageArn: v1, ModelApprovalStatus: 'Rejected' });
    const rejected = await describePackage(v1);
    assert.equal(rejected.ModelApprovalStatus, 'Rejected');
    assert.equal(rejected.ApprovalDescription, 'AUC 0.93 on holdout', 'a status alone keeps the description');
    assert.deepEqual(await listed('Rejected'), [v1]);
    assert.deepEqual(await listed('Approved'), []);

    await update({ ModelPackageArn: v1, ModelApprovalStatus: 'PendingManualApproval', ApprovalDescription: 'needs a second look' });
    assert.equal((await describePackage(v1)).ApprovalDescription, 'needs a second look');
    assert.deepEqual(await listed('PendingManualApproval'), [v1, v2]);
    const summary = (await s.sagemaker.send(new ListModelPackagesCommand({ ModelPackageGroupName: GROUP }))).ModelPackageSummaryList!;
    assert.ok(summary.every((p) => p.ModelApprovalStatus === 'PendingManualApproval'));
  });

  it('adds, replaces and removes customer metadata', async () => {
    const v = await newVersion({ CustomerMetadataProperties: { owner: 'ana', stage: 'dev' } });
    await update({ ModelPackageArn: v, CustomerMetadataProperties: { stage: 'prod', ticket: 'ML-42' }, CustomerMetadataPropertiesToRemove: ['owner', 'never-set'] });
    const d = await describePackage(v);
    assert.deepEqual(d.CustomerMetadataProperties, { stage: 'prod', ticket: 'ML-42' });
    assert.equal(d.ModelApprovalStatus, 'PendingManualApproval', 'metadata alone leaves the approval');

    await rejects(update({ ModelPackageArn: v, CustomerMetadataProperties: { stage: 'x' }, CustomerMetadataPropertiesToRemove: ['stage'] }), /both name stage/, 'add and remove one key');
    const tooMany = Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`k${i}`, 'v']));
    await rejects(update({ ModelPackageArn: v, CustomerMetadataProperties: tooMany }), /would hold 51 keys; a model package holds at most 50/, 'more than 50 keys');
    assert.deepEqual((await describePackage(v)).CustomerMetadataProperties, { stage: 'prod', ticket: 'ML-42' }, 'a refused update changes nothing');

    await update({ ModelPackageArn: v, CustomerMetadataPropertiesToRemove: ['stage', 'ticket'] });
    assert.equal((await describePackage(v)).CustomerMetadataProperties, undefined);
  });

  it('stores SourceUri, ModelCard, ModelLifeCycle and added inference specifications; refuses InferenceSpecification', async () => {
    const v = await newVersion();
    const extra = (name: string) => ({ Name: name, Containers: [{ Image: IMAGE, ModelDataUrl: DATA }], SupportedContentTypes: ['text/csv'] });
    await update({
      ModelPackageArn: v,
      SourceUri: 'arn:aws:sagemaker:us-east-1:000000000000:model/origin',
      ModelCard: { ModelCardContent: '{"intended_uses":{"risk_rating":"Low"}}', ModelCardStatus: 'Draft' },
      ModelLifeCycle: { Stage: 'Staging', StageStatus: 'InProgress' },
      AdditionalInferenceSpecificationsToAdd: [extra('neo')],
    });
    await update({ ModelPackageArn: v, ModelCard: { ModelCardStatus: 'Archived' }, AdditionalInferenceSpecificationsToAdd: [extra('gpu')], ClientToken: 'add-gpu' });
    await update({ ModelPackageArn: v, AdditionalInferenceSpecificationsToAdd: [extra('gpu')], ClientToken: 'add-gpu' });
    const d = await describePackage(v);
    assert.equal(d.SourceUri, 'arn:aws:sagemaker:us-east-1:000000000000:model/origin');
    assert.deepEqual(d.ModelCard, { ModelCardContent: '{"intended_uses":{"risk_rating":"Low"}}', ModelCardStatus: 'Archived' });
    assert.deepEqual(d.ModelLifeCycle, { Stage: 'Staging', StageStatus: 'InProgress' });
    const listed = (await s.sagemaker.send(new ListModelPackagesCommand({ ModelPackageGroupName: GROUP, MaxResults: 100 }))).ModelPackageSummaryList!;
    assert.deepEqual(listed.find((x) => x.ModelPackageArn === v)?.ModelLifeCycle, { Stage: 'Staging', StageStatus: 'InProgress' }, 'the summary shows it too');
    assert.deepEqual(d.AdditionalInferenceSpecifications?.map((x) => x.Name), ['neo', 'gpu'], 'a repeated ClientToken adds nothing twice');

    await rejects(update({ ModelPackageArn: v, AdditionalInferenceSpecificationsToAdd: [extra('neo')] }), /the name neo is already used .* names must be unique/, 'duplicate name');
    await rejects(update({ ModelPackageArn: v, ModelCard: { ModelCardContent: '{}' } }), /Model Card is in Archived state/, 'archived card');
    await rejects(update({ ModelPackageArn: v, InferenceSpecification: inference }), /sagebox does not support updating the InferenceSpecification of a model package yet/, 'InferenceSpecification');
    assert.deepEqual((await describePackage(v)).InferenceSpecification?.Containers?.[0]?.Image, IMAGE);
  });

  it('refuses an unversioned package\'s approval, an unknown package, a bad enum value and a name for the ARN', async () => {
    const unversioned = (await s.sagemaker.send(new CreateModelPackageCommand({ ModelPackageName: 'loose-package', InferenceSpecification: inference }))).ModelPackageArn!;
    await rejects(update({ ModelPackageArn: unversioned, ModelApprovalStatus: 'Approved' }), /ModelApprovalStatus does not apply to the unversioned model package arn:.*model-package\/loose-package/, 'unversioned approval');
    assert.equal((await describePackage(unversioned)).ModelApprovalStatus, undefined);
    await update({ ModelPackageArn: unversioned, CustomerMetadataProperties: { team: 'search' } });
    assert.deepEqual((await describePackage(unversioned)).CustomerMetadataProperties, { team: 'search' });

    const missing = unversioned.replace('loose-package', `${GROUP}/99`);
    const describeMessage = await rejects(describePackage(missing), /does not exist/, 'Describe of an unknown package');
    const updateMessage = await rejects(update({ ModelPackageArn: missing, ModelApprovalStatus: 'Approved' }), /ModelPackage arn:.*model-package\/approvals\/99 does not exist/, 'unknown package');
    assert.equal(updateMessage, describeMessage);

    const v = await newVersion();
    await rejects(update({ ModelPackageArn: v, ModelApprovalStatus: 'Maybe' as ModelApprovalStatus }), /Value 'Maybe' at 'modelApprovalStatus' failed to satisfy constraint: Member must satisfy enum value set: \[Approved, Rejected, PendingManualApproval\]/, 'bad enum');
    await rejects(update({ ModelPackageArn: `${GROUP}/1`, ModelApprovalStatus: 'Approved' }), /at 'modelPackageArn' failed to satisfy constraint: Member must satisfy regular expression pattern/, 'a name, not an ARN');
  });

  it('leaves CreateModel as it was: a version deploys whatever its approval', async () => {
    const v = await newVersion();
    await update({ ModelPackageArn: v, ModelApprovalStatus: 'Rejected' });
    await s.sagemaker.send(new CreateModelCommand({ ModelName: 'from-rejected', PrimaryContainer: { ModelPackageName: v } }));
    assert.equal((await s.sagemaker.send(new DescribeModelCommand({ ModelName: 'from-rejected' }))).PrimaryContainer?.Image, IMAGE);
  });

  it('approves through the AWS CLI v2: update-model-package, describe-model-package, list-model-packages', async () => {
    const v = await newVersion();
    const cli = (args: string[]) => awsCli(s.clientEnv, ['sagemaker', ...args]);
    const r = await cli(['update-model-package', '--model-package-arn', v, '--model-approval-status', 'Approved', '--approval-description', 'approved from the CLI',
      '--customer-metadata-properties', 'reviewer=bo,run=7']);
    assert.equal(r.json.ModelPackageArn, v);
    const d = (await cli(['describe-model-package', '--model-package-name', v])).json;
    assert.equal(d.ModelApprovalStatus, 'Approved');
    assert.equal(d.ApprovalDescription, 'approved from the CLI');
    assert.deepEqual(d.CustomerMetadataProperties, { reviewer: 'bo', run: '7' });
    assert.equal(typeof d.LastModifiedTime, 'string');
    const list = (await cli(['list-model-packages', '--model-package-group-name', GROUP, '--model-approval-status', 'Approved'])).json;
    assert.ok(list.ModelPackageSummaryList.some((p: { ModelPackageArn: string }) => p.ModelPackageArn === v));
    await assert.rejects(cli(['update-model-package', '--model-package-arn', v, '--model-approval-status', 'Maybe']), (e: any) => {
      assert.match(e.stderr, /ValidationException.*modelApprovalStatus/s);
      return true;
    });
  });
});
