/**
 * Validation runs with real containers: a profile whose training fails leaves
 * the algorithm Failed with the job's reason; one whose transform input is
 * missing fails at the transform step (after its training, whose container
 * saw the specification's defaults in hyperparameters.json); a model package
 * validated by a transform job of its own model becomes Completed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateAlgorithmCommand, CreateModelCommand, CreateModelPackageCommand, CreateTransformJobCommand, DescribeTrainingJobCommand,
  DescribeTransformJobCommand, type TransformJobDefinition,
} from '@aws-sdk/client-sagemaker';
import { requireDocker } from './helpers/docker';
import { startServer, type TestServer } from './helpers/server';
import { algorithmRequest, algorithmsFeature, seed001Spec, waitAlgorithm, waitModelPackage } from './helpers/algorithms';
import { BUCKET, PROBE_IMAGE, ROLE, eventually, getObject, listKeys, probeReport, putObject } from './helpers/training';
import { TEST_CONFIG } from './helpers/endpoints';

let s: TestServer;
before(async () => {
  await requireDocker();
  s = await startServer(TEST_CONFIG);
  algorithmsFeature(s).settings.pollMs = 250;
  await putObject(s, 'validation/train/train.csv', '1,0.5,0.25,1,2\n0,-1,-0.5,0,1\n'.repeat(10));
  await putObject(s, 'validation/rows/rows.csv', '1,2\n3,4\n');
});
after(async () => s.stop());

const trainingDefinition = (hyperParameters: Record<string, string>) => ({
  TrainingInputMode: 'File' as const,
  HyperParameters: hyperParameters,
  InputDataConfig: [{ ChannelName: 'train', ContentType: 'text/csv', DataSource: { S3DataSource: { S3DataType: 'S3Prefix' as const, S3Uri: `s3://${BUCKET}/validation/train/` } } }],
  OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/validation/out` },
  ResourceConfig: { InstanceType: 'ml.m5.large' as const, InstanceCount: 1, VolumeSizeInGB: 1 },
  StoppingCondition: { MaxRuntimeInSeconds: 120 },
});

const transformDefinition = (input: string, output: string): TransformJobDefinition => ({
  TransformInput: { DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: input } }, ContentType: 'text/csv', SplitType: 'Line' },
  TransformOutput: { S3OutputPath: output, AssembleWith: 'Line' },
  TransformResources: { InstanceType: 'ml.m5.large', InstanceCount: 1 },
});

describe('validation with containers', { concurrency: true }, () => {
  it('a profile whose training fails leaves the algorithm Failed with the training job\'s reason', async () => {
    await s.sagemaker.send(new CreateAlgorithmCommand(algorithmRequest('val-train-fails', {
      ValidationSpecification: { ValidationRole: ROLE, ValidationProfiles: [{ ProfileName: 'broken-training', TrainingJobDefinition: trainingDefinition({ seed: '1', fail: 'the seller data was rejected' }) }] },
    })));
    const d = await waitAlgorithm(s, 'val-train-fails', ['Completed', 'Failed']);
    assert.equal(d.AlgorithmStatus, 'Failed');
    const item = d.AlgorithmStatusDetails!.ValidationStatuses![0]!;
    assert.equal(item.Name, 'broken-training');
    assert.equal(item.Status, 'Failed');
    const job = await s.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: 'val-train-fails-validation-1' }));
    assert.equal(job.TrainingJobStatus, 'Failed');
    assert.match(job.FailureReason!, /^AlgorithmError: .*the seller data was rejected/);
    assert.equal(item.FailureReason, `Validation training job val-train-fails-validation-1 ended Failed: ${job.FailureReason}`);
  });

  it('a profile whose transform input is missing fails at the transform step; a package validated by a transform job completes', async () => {
    await s.sagemaker.send(new CreateAlgorithmCommand(algorithmRequest('val-no-rows', {
      TrainingSpecification: seed001Spec({ TrainingImage: PROBE_IMAGE }),
      InferenceSpecification: { Containers: [{ Image: PROBE_IMAGE }], SupportedContentTypes: ['text/csv'], SupportedResponseMIMETypes: ['application/json'] },
      ValidationSpecification: { ValidationRole: ROLE, ValidationProfiles: [{
        ProfileName: 'no-rows',
        TrainingJobDefinition: trainingDefinition({ seed: '3', epochs: '2' }),
        TransformJobDefinition: transformDefinition(`s3://${BUCKET}/validation/no-such-rows/`, `s3://${BUCKET}/validation/no-rows-out/`),
      }] },
    })));
    const d = await waitAlgorithm(s, 'val-no-rows', ['Completed', 'Failed']);
    assert.equal(d.AlgorithmStatus, 'Failed');
    const item = d.AlgorithmStatusDetails!.ValidationStatuses![0]!;
    assert.equal(item.Status, 'Failed');
    assert.match(item.FailureReason!, /^Could not create the validation transform job: No S3 objects found under S3 URL "s3:\/\/train-bucket\/validation\/no-such-rows\/"/);

    // The training step ran and completed first; its container saw the defaults.
    const job = await s.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: 'val-no-rows-validation-1' }));
    assert.equal(job.TrainingJobStatus, 'Completed');
    const report = probeReport(s, 'val-no-rows-validation-1');
    assert.deepEqual(report.config_files['/opt/ml/input/config/hyperparameters.json'], { seed: '3', epochs: '2', alpha: '0.001', learning_rate: 'optimal' });

    // A package of those artifacts, validated by a transform job of the probe serving them.
    await s.sagemaker.send(new CreateModelPackageCommand({
      ModelPackageName: 'val-package',
      InferenceSpecification: { Containers: [{ Image: PROBE_IMAGE, ModelDataUrl: job.ModelArtifacts!.S3ModelArtifacts! }], SupportedContentTypes: ['text/csv'], SupportedResponseMIMETypes: ['application/json'] },
      ValidationSpecification: { ValidationRole: ROLE, ValidationProfiles: [{ ProfileName: 'rows', TransformJobDefinition: transformDefinition(`s3://${BUCKET}/validation/rows/`, `s3://${BUCKET}/validation/package-out/`) }] },
    }));
    const p = await waitModelPackage(s, 'val-package', ['Completed', 'Failed']);
    assert.equal(p.ModelPackageStatus, 'Completed', JSON.stringify(p.ModelPackageStatusDetails));
    assert.deepEqual(p.ModelPackageStatusDetails?.ValidationStatuses, [{ Name: 'rows', Status: 'Completed' }]);
    const t = await s.sagemaker.send(new DescribeTransformJobCommand({ TransformJobName: 'val-package-validation-1' }));
    assert.equal(t.TransformJobStatus, 'Completed');
    assert.deepEqual(await listKeys(s, 'validation/package-out/'), ['validation/package-out/rows.csv.out']);

    // A model made from the package runs as a batch transform job of its own.
    await s.sagemaker.send(new CreateModelCommand({ ModelName: 'val-package-model', Containers: [{ ModelPackageName: p.ModelPackageArn }] }));
    await s.sagemaker.send(new CreateTransformJobCommand({ TransformJobName: 'val-package-transform', ModelName: 'val-package-model', ...transformDefinition(`s3://${BUCKET}/validation/rows/`, `s3://${BUCKET}/validation/model-out/`) }));
    const done = await eventually('the transform job ends', async () => {
      const x = await s.sagemaker.send(new DescribeTransformJobCommand({ TransformJobName: 'val-package-transform' }));
      return ['Completed', 'Failed', 'Stopped'].includes(x.TransformJobStatus!) ? x : undefined;
    }, 120_000, 250);
    assert.equal(done.TransformJobStatus, 'Completed', done.FailureReason);
    const out = (await getObject(s, 'validation/model-out/rows.csv.out'))!.toString('utf8').trim().split('\n');
    assert.ok(out.length >= 1);
    assert.ok(out.every((l) => JSON.parse(l).model_files.some((f: { path: string }) => f.path === 'report.json')), 'the probe saw the package\'s model data');
  });
});
