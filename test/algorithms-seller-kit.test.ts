/**
 * The seed-001 seller kit end to end on one server: examples/seed001-seller-kit/run.ts
 * (@aws-sdk/client-sagemaker + the S3 API) and run.sh (/usr/bin/aws), each
 * registering and validating the algorithm (training job, then batch
 * transform), training by AlgorithmName, packaging the artifacts, deploying
 * the package to an endpoint and invoking it. Afterwards the resources they
 * left are checked through the SDK.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import {
  DescribeAlgorithmCommand, DescribeEndpointCommand, DescribeModelPackageCommand, DescribeTrainingJobCommand, DescribeTransformJobCommand,
  ListTrainingJobsCommand,
} from '@aws-sdk/client-sagemaker';
import { requireDocker } from './helpers/docker';
import { requireBinary, startServer, type TestServer } from './helpers/server';
import { AWS_CLI } from './helpers/clients';
import { algorithmsFeature } from './helpers/algorithms';
import { TEST_CONFIG, eventually } from './helpers/endpoints';

const run = promisify(execFile);
const KIT = path.join(__dirname, '..', 'examples', 'seed001-seller-kit');
let s: TestServer;

before(async () => {
  await requireDocker();
  requireBinary(AWS_CLI, "install Debian's awscli (apt-get install -y awscli; .ci/run does it)");
  s = await startServer(TEST_CONFIG);
  algorithmsFeature(s).settings.pollMs = 300;
});
after(async () => s.stop());

async function runKit(command: string, args: string[], kit: string): Promise<string> {
  const env = { ...s.clientEnv, SAGEBOX_URL: s.url, KIT_NAME: kit, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  try {
    const r = await run(command, args, { env, cwd: path.join(__dirname, '..'), maxBuffer: 16 * 1024 * 1024, timeout: 600_000 });
    return r.stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

/** What both runs must have left behind. */
async function checkResources(kit: string, out: string): Promise<void> {
  const predictions = /^PREDICTIONS (.*)$/m.exec(out)?.[1]?.split(',');
  assert.equal(predictions?.length, 5, out);
  assert.ok(predictions!.every((p) => p === '0' || p === '1'), out);
  assert.ok(predictions!.includes('1') && predictions!.includes('0'), `both classes predicted: ${out}`);

  const alg = await s.sagemaker.send(new DescribeAlgorithmCommand({ AlgorithmName: kit }));
  assert.equal(alg.AlgorithmStatus, 'Completed');
  assert.deepEqual(alg.AlgorithmStatusDetails?.ValidationStatuses, [{ Name: 'seed001-validation', Status: 'Completed' }]);

  const validation = await s.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: `${kit}-validation-1` }));
  assert.equal(validation.TrainingJobStatus, 'Completed');
  assert.equal(validation.AlgorithmSpecification?.AlgorithmName, alg.AlgorithmArn);
  assert.equal(validation.HyperParameters?.epochs, '5');
  assert.equal(validation.HyperParameters?.learning_rate, 'optimal', 'defaults filled');
  const transform = await s.sagemaker.send(new DescribeTransformJobCommand({ TransformJobName: `${kit}-validation-1` }));
  assert.equal(transform.TransformJobStatus, 'Completed');
  assert.equal(transform.ModelName, `${kit}-validation-1`);

  const buyer = (await s.sagemaker.send(new ListTrainingJobsCommand({ NameContains: `${kit}-buyer` }))).TrainingJobSummaries ?? [];
  assert.equal(buyer.length, 1);
  const trained = await s.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: buyer[0]!.TrainingJobName }));
  assert.equal(trained.AlgorithmSpecification?.AlgorithmName, alg.AlgorithmArn);
  assert.deepEqual(trained.FinalMetricDataList?.map((m) => m.MetricName), ['train:loss', 'train:accuracy', 'validation:accuracy']);
  assert.equal(trained.HyperParameters?.alpha, '0.001');

  const pkg = await s.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: `${kit}-package` }));
  assert.equal(pkg.ModelPackageStatus, 'Completed');
  assert.equal(pkg.SourceAlgorithmSpecification?.SourceAlgorithms?.[0]?.ModelDataUrl, trained.ModelArtifacts?.S3ModelArtifacts);
  // The kit deletes its endpoint (DeleteEndpoint returns while the endpoint is still Deleting).
  await eventually(`endpoint ${kit}-endpoint deleted`, () =>
    s.sagemaker.send(new DescribeEndpointCommand({ EndpointName: `${kit}-endpoint` })).then(
      (d) => (assert.equal(d.EndpointStatus, 'Deleting'), undefined),
      (e: Error) => (assert.match(e.message, /Could not find endpoint/), true),
    ));
}

describe('seed 001 seller kit', () => {
  it('runs end to end through @aws-sdk/client-sagemaker (run.ts)', async () => {
    const out = await runKit(process.execPath, ['--import', 'tsx', path.join(KIT, 'run.ts')], 'kit-sdk');
    await checkResources('kit-sdk', out);
  });

  it('runs end to end through /usr/bin/aws (run.sh)', async () => {
    const out = await runKit('bash', [path.join(KIT, 'run.sh')], 'kit-cli');
    await checkResources('kit-cli', out);
  });
});
