/**
 * What a training job goes through and ends with: statuses and their
 * transitions, the Describe document, failures (AlgorithmError and
 * ClientError), StopTrainingJob and MaxRuntimeInSeconds with the grace
 * window, metrics, checkpoints, fail-fast across hosts and the SDK waiter.
 * Real Docker, the probe image, @aws-sdk/client-sagemaker; jobs run in parallel.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StopTrainingJobCommand, waitUntilTrainingJobCompletedOrStopped } from '@aws-sdk/client-sagemaker';
import type { TestServer } from './helpers/server';
import { BUCKET, PROBE_IMAGE, archiveFiles, createJob, describe as describeJob, eventually, getObject, jobLogs, jobName, listKeys, probeJob, putObject, settle, startTrainingServer } from './helpers/training';
import { TrainingMetrics } from '../src/jobs/training/metrics';

let s: TestServer;
before(async () => {
  s = await startTrainingServer();
});
after(async () => s.stop());

const sh = (script: string) => ({ ContainerEntrypoint: ['sh', '-c', script] });
const stop = (name: string) => s.sagemaker.send(new StopTrainingJobCommand({ TrainingJobName: name }));
/** The probe handles SIGTERM once it prints that it sleeps (before, as PID 1 without a handler, it would ignore it). */
const sleeping = (name: string) =>
  eventually(`${name} sleeping`, () => ([...jobLogs(s, name).values()].flat().some((l) => l.startsWith('PROBE: sleeping')) ? true : undefined), 60_000);

describe('training lifecycle', { concurrency: true }, () => {
  it('goes Starting -> Downloading -> Training -> Uploading -> Completed and describes every request field with defaults', async () => {
    const name = jobName('life');
    const req = probeJob(name, {
      HyperParameters: { lr: '0.1' },
      StoppingCondition: undefined,
      ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1 },
      DebugHookConfig: { S3OutputPath: `s3://${BUCKET}/debug` },
      ProfilerConfig: { S3OutputPath: `s3://${BUCKET}/profiler`, ProfilingIntervalInMilliseconds: 500 },
      ProfilerRuleConfigurations: [{ RuleConfigurationName: 'ProfilerReport', RuleEvaluatorImage: '123456789012.dkr.ecr.us-east-1.amazonaws.com/sagemaker-debugger-rules:latest', RuleParameters: { rule_to_invoke: 'ProfilerReport' } }],
      Tags: [{ Key: 'team', Value: 'ml' }],
      ExperimentConfig: { ExperimentName: 'exp' },
      RetryStrategy: { MaximumRetryAttempts: 2 },
    });
    const created = Date.now() / 1000;
    await createJob(s, req);
    const first = await describeJob(s, name);
    assert.equal(first.TrainingJobStatus, 'InProgress');
    assert.equal(first.SecondaryStatusTransitions![0]!.Status, 'Starting');
    assert.equal(first.SecondaryStatusTransitions![0]!.StatusMessage, 'Starting the training job');
    const d = await settle(s, name);
    assert.equal(d.TrainingJobStatus, 'Completed', d.FailureReason);
    assert.equal(d.SecondaryStatus, 'Completed');
    const t = d.SecondaryStatusTransitions!;
    assert.deepEqual(t.map((x) => [x.Status, x.StatusMessage]), [
      ['Starting', 'Preparing the instances for training'],
      ['Downloading', 'Downloading the training image'],
      ['Training', 'Training image download completed. Training in progress.'],
      ['Uploading', 'Uploading generated training model'],
      ['Completed', 'Training job completed'],
    ]);
    for (const [i, x] of t.entries()) {
      assert.ok(x.StartTime && x.EndTime && x.EndTime >= x.StartTime, `transition ${i} has StartTime <= EndTime`);
      if (i > 0) assert.equal(x.StartTime!.getTime(), t[i - 1]!.EndTime!.getTime());
    }
    assert.equal(d.TrainingJobName, name);
    assert.ok(Math.abs(d.CreationTime!.getTime() / 1000 - created) < 5);
    assert.ok(d.TrainingStartTime! >= d.CreationTime! && d.TrainingEndTime! >= d.TrainingStartTime!);
    assert.equal(d.LastModifiedTime!.getTime(), d.TrainingEndTime!.getTime());
    assert.ok(Number.isInteger(d.TrainingTimeInSeconds) && d.TrainingTimeInSeconds! >= 1);
    assert.ok(Number.isInteger(d.BillableTimeInSeconds) && d.BillableTimeInSeconds! >= 1);
    assert.deepEqual(d.OutputDataConfig, { S3OutputPath: `s3://${BUCKET}/out`, KmsKeyId: '', CompressionType: 'GZIP' });
    assert.deepEqual(d.ResourceConfig, { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 30 });
    assert.deepEqual(d.StoppingCondition, { MaxRuntimeInSeconds: 86400 });
    assert.equal(d.EnableNetworkIsolation, false);
    assert.equal(d.EnableInterContainerTrafficEncryption, false);
    assert.equal(d.EnableManagedSpotTraining, false);
    assert.equal(d.RoleArn, req.RoleArn);
    assert.deepEqual(d.HyperParameters, { lr: '0.1' });
    assert.deepEqual(d.AlgorithmSpecification, { TrainingImage: PROBE_IMAGE, TrainingInputMode: 'File', EnableSageMakerMetricsTimeSeries: false });
    assert.deepEqual(d.Environment, req.Environment);
    assert.deepEqual(d.DebugHookConfig, { LocalPath: '/opt/ml/output/tensors', S3OutputPath: `s3://${BUCKET}/debug` });
    assert.deepEqual(d.ProfilerConfig, req.ProfilerConfig);
    assert.deepEqual(d.ProfilerRuleConfigurations, req.ProfilerRuleConfigurations);
    assert.deepEqual(d.ExperimentConfig, { ExperimentName: 'exp' });
    assert.deepEqual(d.RetryStrategy, { MaximumRetryAttempts: 2 });
    assert.equal((d as any).Tags, undefined);
    assert.deepEqual(d.ModelArtifacts, { S3ModelArtifacts: `s3://${BUCKET}/out/${name}/output/model.tar.gz` });
    assert.equal(d.FailureReason, undefined);
  });

  it('fails with AlgorithmError: <failure file>, exit code: <n> (first 1 KiB)', async () => {
    const a = jobName('fail');
    const b = jobName('fail-long');
    await createJob(s, probeJob(a, { env: { PROBE_EXIT_CODE: '3', PROBE_FAILURE_TEXT: 'bad things happened\n' } }));
    await createJob(s, probeJob(b, { alg: sh("head -c 3000 /dev/zero | tr '\\0' x > /opt/ml/output/failure; exit 1") }));
    const [da, db] = await Promise.all([settle(s, a), settle(s, b)]);
    assert.equal(da.TrainingJobStatus, 'Failed');
    assert.equal(da.FailureReason, 'AlgorithmError: bad things happened, exit code: 3');
    assert.equal(da.SecondaryStatus, 'Failed');
    assert.deepEqual(da.SecondaryStatusTransitions!.at(-1)!.StatusMessage, 'Training job failed');
    assert.ok(!da.SecondaryStatusTransitions!.some((x) => x.Status === 'Uploading'));
    assert.equal(da.ModelArtifacts, undefined);
    assert.equal(db.TrainingJobStatus, 'Failed');
    assert.equal(db.FailureReason!.length, 1024);
    assert.ok(db.FailureReason!.startsWith('AlgorithmError: xxx'));
  });

  it('fails with ClientError when the image, the input or the output bucket is missing, or a manifest is bad', async () => {
    const names = { image: jobName('no-image'), input: jobName('no-input'), manifest: jobName('bad-manifest'), bucket: jobName('no-bucket') };
    await putObject(s, `${names.manifest}/m.manifest`, '{not json');
    const ch = (uri: string, type: 'S3Prefix' | 'ManifestFile' = 'S3Prefix') => [{ ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: type, S3Uri: uri } } }];
    await createJob(s, probeJob(names.image, { alg: { TrainingImage: 'sagebox-test/does-not-exist:latest' } }));
    await createJob(s, probeJob(names.input, { InputDataConfig: ch(`s3://${BUCKET}/${names.input}/nothing/`) }));
    await createJob(s, probeJob(names.manifest, { InputDataConfig: ch(`s3://${BUCKET}/${names.manifest}/m.manifest`, 'ManifestFile') }));
    await createJob(s, probeJob(names.bucket, { OutputDataConfig: { S3OutputPath: 's3://no-such-bucket-here/out' } }));
    const d = await Promise.all(Object.values(names).map((n) => settle(s, n)));
    for (const x of d) assert.equal(x.TrainingJobStatus, 'Failed', x.TrainingJobName);
    assert.match(d[0]!.FailureReason!, /^ClientError: Requested image sagebox-test\/does-not-exist:latest not found/);
    assert.match(d[1]!.FailureReason!, new RegExp(`^ClientError: Data download failed for channel 'train': No objects found under S3 URL 's3://${BUCKET}/${names.input}/nothing/'`));
    assert.match(d[2]!.FailureReason!, /^ClientError: Data download failed for channel 'train': The manifest file .* is not valid JSON/);
    assert.match(d[3]!.FailureReason!, /^ClientError: The bucket 'no-such-bucket-here' of OutputDataConfig.S3OutputPath/);
  });

  it('StopTrainingJob: Stopping at once, SIGTERM, artifacts written in the grace window uploaded, Stopped', async () => {
    const name = jobName('stop');
    await createJob(s, probeJob(name, { env: { PROBE_SLEEP: '60', PROBE_ON_SIGTERM_WRITE: '/opt/ml/model/on-term.txt' } }));
    await sleeping(name);
    await stop(name);
    const mid = await describeJob(s, name);
    assert.equal(mid.TrainingJobStatus, 'Stopping');
    assert.equal(mid.SecondaryStatus, 'Stopping');
    await stop(name); // stopping a Stopping job is accepted
    const d = await settle(s, name);
    assert.equal(d.TrainingJobStatus, 'Stopped');
    assert.deepEqual(d.SecondaryStatusTransitions!.slice(-2).map((x) => [x.Status, x.StatusMessage]), [
      ['Stopping', 'Stopping the training job'],
      ['Stopped', 'Training job stopped'],
    ]);
    assert.equal(d.FailureReason, undefined);
    const model = await archiveFiles(s, `out/${name}/output/model.tar.gz`);
    assert.deepEqual([...model.keys()].sort(), ['on-term.txt', 'report.json']);
    assert.match(model.get('on-term.txt')!, /SIGTERM received/);
    await assert.rejects(stop(name), (e: any) => e.name === 'ValidationException' && /status Stopped/.test(e.message));
  });

  it('kills a container that ignores SIGTERM after the grace period', async () => {
    const name = jobName('stop-kill');
    await createJob(s, probeJob(name, { env: { PROBE_SLEEP: '60', PROBE_IGNORE_SIGTERM: '1' } }));
    await sleeping(name);
    const t0 = Date.now();
    await stop(name);
    const d = await settle(s, name);
    const took = (Date.now() - t0) / 1000;
    assert.equal(d.TrainingJobStatus, 'Stopped');
    assert.ok(took >= 2.5 && took < 20, `stopped after ${took} s with a 3 s grace`);
    assert.ok(await getObject(s, `out/${name}/output/model.tar.gz`));
  });

  it('MaxRuntimeInSeconds stops the job: Stopped / MaxRuntimeExceeded, artifacts uploaded', async () => {
    const name = jobName('maxrt');
    // A shell traps SIGTERM within milliseconds of the start (the probe's Python may not be ready in time on a busy machine).
    await createJob(s, probeJob(name, { StoppingCondition: { MaxRuntimeInSeconds: 4 }, alg: sh("trap 'echo term > /opt/ml/model/on-term.txt; exit 0' TERM; sleep 60 & wait") }));
    const d = await settle(s, name);
    assert.equal(d.TrainingJobStatus, 'Stopped');
    assert.equal(d.SecondaryStatus, 'MaxRuntimeExceeded');
    assert.equal(d.SecondaryStatusTransitions!.at(-1)!.StatusMessage, 'Training job runtime exceeded MaxRuntimeInSeconds provided');
    const model = await archiveFiles(s, `out/${name}/output/model.tar.gz`);
    assert.ok(model.has('on-term.txt'), JSON.stringify([...model.keys()]) + JSON.stringify([...jobLogs(s, name).values()].flat().filter((l) => !l.startsWith('PROBE-REPORT'))));
  });

  it('records metrics from log lines and reports the last value of each', async () => {
    const name = jobName('metrics');
    await createJob(s, probeJob(name, {
      env: { PROBE_METRIC_LINES: '1' },
      alg: { MetricDefinitions: [
        { Name: 'train:loss', Regex: 'loss=(.*?);' },
        { Name: 'accuracy', Regex: 'accuracy=(?P<acc>[0-9.]+)' },
        { Name: 'never', Regex: 'no-such-metric=([0-9]+)' },
      ] },
    }));
    const d = await settle(s, name);
    assert.equal(d.TrainingJobStatus, 'Completed', d.FailureReason);
    const final = new Map(d.FinalMetricDataList!.map((m) => [m.MetricName, m]));
    assert.deepEqual([...final.keys()], ['train:loss', 'accuracy']);
    assert.ok(Math.abs(final.get('train:loss')!.Value! - 0.1) < 1e-6);
    assert.ok(Math.abs(final.get('accuracy')!.Value! - 1.0) < 1e-6);
    assert.ok(final.get('accuracy')!.Timestamp instanceof Date);
    const m = new TrainingMetrics(s.app.ctx.db);
    assert.deepEqual(m.samples(name, 'train:loss').map((x) => Math.round(x.value * 10) / 10), [0.5, 0.4, 0.3, 0.2, 0.1]);
    assert.equal(m.samples(name, 'accuracy').length, 5);
  });

  it('syncs checkpoints: S3 -> local at start, local -> S3 while running and at the end, deletions too', async () => {
    const name = jobName('ckpt');
    const prefix = `${name}/ckpt`;
    await putObject(s, `${prefix}/old.pt`, 'old');
    await putObject(s, `${prefix}/keep/kept.pt`, 'kept');
    await createJob(s, probeJob(name, {
      alg: sh('ls -R /opt/ml/ckpts > /opt/ml/model/seen.txt; echo new > /opt/ml/ckpts/new.pt; rm /opt/ml/ckpts/old.pt; sleep 8; echo late > /opt/ml/ckpts/late.pt'),
      CheckpointConfig: { S3Uri: `s3://${BUCKET}/${prefix}`, LocalPath: '/opt/ml/ckpts' },
    }));
    await eventually('new.pt uploaded while the job runs', async () => ((await listKeys(s, `${prefix}/`)).includes(`${prefix}/new.pt`) ? true : undefined), 30_000, 250);
    assert.equal((await describeJob(s, name)).TrainingJobStatus, 'InProgress');
    const d = await settle(s, name);
    assert.equal(d.TrainingJobStatus, 'Completed', d.FailureReason);
    assert.deepEqual(d.CheckpointConfig, { S3Uri: `s3://${BUCKET}/${prefix}`, LocalPath: '/opt/ml/ckpts' });
    assert.deepEqual((await listKeys(s, `${prefix}/`)).sort(), [`${prefix}/keep/kept.pt`, `${prefix}/late.pt`, `${prefix}/new.pt`]);
    const seen = (await archiveFiles(s, `out/${name}/output/model.tar.gz`)).get('seen.txt')!;
    assert.match(seen, /old\.pt/);
    assert.match(seen, /kept\.pt/);
  });

  it('fails the job as soon as one host fails, with that host\'s reason', async () => {
    const name = jobName('failfast');
    const t0 = Date.now();
    await createJob(s, probeJob(name, {
      ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 2, VolumeSizeInGB: 1 },
      alg: sh('if [ "$(hostname)" = algo-2 ]; then echo "host two broke" > /opt/ml/output/failure; exit 5; fi; sleep 60'),
    }));
    const d = await settle(s, name);
    assert.equal(d.TrainingJobStatus, 'Failed');
    assert.equal(d.FailureReason, 'AlgorithmError: host two broke, exit code: 5');
    assert.ok((Date.now() - t0) / 1000 < 30, 'did not wait for the other host to finish its 60 s');
  });

  it('works with the SDK waiter waitUntilTrainingJobCompletedOrStopped', async () => {
    const ok = jobName('waiter');
    const bad = jobName('waiter-fail');
    await createJob(s, probeJob(ok, { env: { PROBE_SLEEP: '1' } }));
    await createJob(s, probeJob(bad, { env: { PROBE_EXIT_CODE: '2' } }));
    const cfg = { client: s.sagemaker, maxWaitTime: 120, minDelay: 1, maxDelay: 1 };
    const r = await waitUntilTrainingJobCompletedOrStopped(cfg, { TrainingJobName: ok });
    assert.equal(r.state, 'SUCCESS');
    await assert.rejects(waitUntilTrainingJobCompletedOrStopped(cfg, { TrainingJobName: bad }), /FAILURE/);
    await assert.rejects(waitUntilTrainingJobCompletedOrStopped(cfg, { TrainingJobName: 'no-such-job' }), /FAILURE/);
  });
});
