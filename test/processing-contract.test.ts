/**
 * The processing container contract, end to end through @aws-sdk/client-sagemaker
 * against the in-process server and real Docker. What the container saw comes
 * from the probe image's report (test/images/probe), what it left behind from
 * the embedded object store. Jobs run in parallel.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StopProcessingJobCommand } from '@aws-sdk/client-sagemaker';
import { startServer, type TestServer } from './helpers/server';
import { BUCKET, PROBE_IMAGE, createJob, stopAndClean, describe as describeJob, eventually, getObject, jobLogs, jobName, listKeys, probeJob, probeReports, putObject, settle } from './helpers/processing';

let s: TestServer;
before(async () => {
  s = await startServer({ stopGraceSeconds: { jobs: 3, endpoints: 3 } });
});
after(async () => stopAndClean(s));

const out = (name: string, localPath: string, prefix: string, mode: 'EndOfJob' | 'Continuous' = 'EndOfJob') => ({
  OutputName: name,
  S3Output: { S3Uri: `s3://${BUCKET}/${prefix}`, LocalPath: localPath, S3UploadMode: mode },
});
const sh = (script: string) => ({ ImageUri: PROBE_IMAGE, ContainerEntrypoint: ['sh', '-c', script] });
const fileEntries = (report: any) => new Map<string, any>((report.processing as any[]).map((e) => [e.path, e]));

describe('processing contract', { concurrency: true }, () => {
  it('runs the image ENTRYPOINT with no argument, writes both config files, stages inputs and uploads outputs', async () => {
    const name = jobName('contract');
    const p = `${name}/`;
    await putObject(s, `${p}data/a.csv`, 'a,1\n');
    await putObject(s, `${p}data/sub/b.csv`, 'b,2\n');
    await putObject(s, `${p}listed/x.txt`, 'x');
    await putObject(s, `${p}listed/deep/y.txt`, 'yy');
    await putObject(s, `${p}listed/not-listed.txt`, 'no');
    await putObject(s, `${p}x.manifest`, JSON.stringify([{ prefix: `s3://${BUCKET}/${p}listed/` }, 'x.txt', 'deep/y.txt']));
    await putObject(s, `${p}code/script.py`, 'print(1)\n');
    const arn = await createJob(s, probeJob(name, {
      Environment: { PROBE_WRITE_OUTPUT: '1', PROBE_MESSAGE_TEXT: 'all good', MY_SETTING: 'value with spaces', AWS_DEFAULT_REGION: 'eu-west-1' },
      ProcessingInputs: [
        { InputName: 'data', S3Input: { S3Uri: `s3://${BUCKET}/${p}data`, LocalPath: '/opt/ml/processing/input/data', S3DataType: 'S3Prefix' } },
        { InputName: 'manifest', S3Input: { S3Uri: `s3://${BUCKET}/${p}x.manifest`, LocalPath: '/opt/ml/processing/input/listed/', S3DataType: 'ManifestFile', S3InputMode: 'File', S3DataDistributionType: 'FullyReplicated', S3CompressionType: 'None' } },
        { InputName: 'code', S3Input: { S3Uri: `s3://${BUCKET}/${p}code/script.py`, LocalPath: '/opt/ml/processing/input/code', S3DataType: 'S3Prefix' } },
        { InputName: 'app', AppManaged: true, S3Input: { S3Uri: `s3://${BUCKET}/${p}nothing-here`, LocalPath: '/opt/ml/processing/app-managed', S3DataType: 'S3Prefix' } },
      ],
      ProcessingOutputConfig: { Outputs: [out('first', '/opt/ml/processing/output/first', `${p}out/first`), out('second', '/opt/ml/processing/second', `${p}out/second/`)] },
    }));
    assert.equal(arn, `arn:aws:sagemaker:us-east-1:000000000000:processing-job/${name}`);
    const d = await settle(s, name);
    assert.equal(d.ProcessingJobStatus, 'Completed', d.FailureReason);
    assert.equal(d.ExitMessage, 'all good');
    assert.equal(d.FailureReason, undefined);
    assert.ok(d.CreationTime! <= d.ProcessingStartTime! && d.ProcessingStartTime! <= d.ProcessingEndTime!);
    assert.equal(d.LastModifiedTime!.getTime(), d.ProcessingEndTime!.getTime());
    assert.deepEqual(d.StoppingCondition, { MaxRuntimeInSeconds: 86400 });
    assert.deepEqual(d.ProcessingInputs![0]!.S3Input, { S3Uri: `s3://${BUCKET}/${p}data`, LocalPath: '/opt/ml/processing/input/data', S3DataType: 'S3Prefix', S3InputMode: 'File', S3DataDistributionType: 'FullyReplicated', S3CompressionType: 'None' });
    assert.equal(d.ProcessingInputs![0]!.AppManaged, false);
    assert.equal(d.ProcessingOutputConfig!.Outputs![1]!.AppManaged, false);

    const r = probeReports(s, name).get('algo-1');
    assert.ok(r, 'the probe report is in the job log');
    assert.deepEqual(r.argv, [], 'the image ENTRYPOINT runs with no extra argument');
    assert.equal(r.environment.MY_SETTING, 'value with spaces');
    assert.equal(r.environment.PROBE_MESSAGE_TEXT, 'all good');
    assert.equal(r.environment.AWS_REGION, 'us-east-1', 'the platform environment is there too');
    assert.equal(r.environment.AWS_DEFAULT_REGION, 'eu-west-1', 'and the request wins on a clash');
    assert.deepEqual(r.config_files['/opt/ml/config/resourceconfig.json'], { current_host: 'algo-1', current_instance_type: 'ml.m5.large', hosts: ['algo-1'], network_interface_name: 'eth0' });
    const cfg = r.config_files['/opt/ml/config/processingjobconfig.json'];
    assert.equal(cfg.ProcessingJobArn, arn);
    assert.equal(cfg.ProcessingJobName, name);
    assert.deepEqual(cfg.AppSpecification, { ImageUri: PROBE_IMAGE, ContainerEntrypoint: null, ContainerArguments: null });
    assert.deepEqual(cfg.ProcessingInputs[0], {
      InputName: 'data', AppManaged: false, DatasetDefinition: null,
      S3Input: { LocalPath: '/opt/ml/processing/input/data', S3Uri: `s3://${BUCKET}/${p}data`, S3DataDistributionType: 'FullyReplicated', S3DataType: 'S3Prefix', S3InputMode: 'File', S3CompressionType: 'None', S3DownloadMode: 'StartOfJob' },
    });
    assert.deepEqual(cfg.ProcessingOutputConfig.Outputs[0], { OutputName: 'first', AppManaged: false, FeatureStoreOutput: null, S3Output: { LocalPath: '/opt/ml/processing/output/first', S3Uri: `s3://${BUCKET}/${p}out/first`, S3UploadMode: 'EndOfJob' } });
    assert.equal(cfg.ProcessingOutputConfig.KmsKeyId, null);
    assert.deepEqual(cfg.ProcessingResources, { ClusterConfig: { InstanceCount: 1, InstanceType: 'ml.m5.large', VolumeSizeInGB: 1, VolumeKmsKeyId: null } });
    assert.equal(cfg.RoleArn, 'arn:aws:iam::123456789012:role/SageMakerRole');
    assert.deepEqual(cfg.StoppingCondition, { MaxRuntimeInSeconds: 86400 });
    assert.equal(cfg.NetworkConfig, null);

    const files = fileEntries(r);
    assert.equal(files.get('input/data/a.csv')?.size, 4);
    assert.equal(files.get('input/data/sub/b.csv')?.size, 4);
    assert.equal(files.get('input/listed/x.txt')?.size, 1);
    assert.equal(files.get('input/listed/deep/y.txt')?.size, 2);
    assert.equal(files.has('input/listed/not-listed.txt'), false, 'only what the manifest lists is staged');
    assert.equal(files.get('input/code/script.py')?.type, 'file', 'a prefix naming one object stages that file');
    assert.equal(files.has('app-managed'), false, 'AppManaged inputs are left to the container');
    // The report was taken before the probe wrote anything: the output directories existed at start.
    assert.equal(files.get('output/first')?.type, 'dir');
    assert.equal(files.get('second')?.type, 'dir');

    for (const prefix of [`${p}out/first`, `${p}out/second`]) {
      assert.deepEqual(await listKeys(s, `${prefix}/`), [`${prefix}/nested/deeper/file.txt`, `${prefix}/probe-output.txt`, `${prefix}/report.json`]);
    }
    assert.equal(await getObject(s, `${p}out/first/nested/deeper/file.txt`), 'nested\n');

    const streams = [...jobLogs(s, name).keys()];
    assert.equal(streams.length, 1);
    assert.match(streams[0]!, new RegExp(`^${name}/algo-1-\\d{10}$`));
  });

  it('ContainerEntrypoint and ContainerArguments combine as docker run --entrypoint does', async () => {
    const cases = [
      { app: { ContainerEntrypoint: ['python3', '/usr/local/bin/probe'], ContainerArguments: ['data-format', 'csv'] }, argv: ['data-format', 'csv'] },
      { app: { ContainerArguments: ['only', 'args'] }, argv: ['only', 'args'] },
      { app: { ContainerEntrypoint: ['python3', '-u', '/usr/local/bin/probe'] }, argv: [] },
    ];
    await Promise.all(
      cases.map(async (c) => {
        const name = jobName('cmd');
        await createJob(s, probeJob(name, { AppSpecification: { ImageUri: PROBE_IMAGE, ...c.app } }));
        const d = await settle(s, name);
        assert.equal(d.ProcessingJobStatus, 'Completed', d.FailureReason);
        assert.deepEqual(d.AppSpecification, { ImageUri: PROBE_IMAGE, ...c.app });
        const r = probeReports(s, name).get('algo-1');
        assert.deepEqual(r.argv, c.argv);
        const cfg = r.config_files['/opt/ml/config/processingjobconfig.json'];
        assert.deepEqual(cfg.AppSpecification, { ImageUri: PROBE_IMAGE, ContainerEntrypoint: c.app.ContainerEntrypoint ?? null, ContainerArguments: c.app.ContainerArguments ?? null });
      }),
    );
  });

  it('several instances: hosts algo-1..N reach each other, each has its resourceconfig.json, inputs replicated or sharded', async () => {
    const name = jobName('multi');
    const p = `${name}/`;
    for (const k of ['k0', 'k1', 'k2', 'k3']) await putObject(s, `${p}shards/${k}.txt`, k);
    await putObject(s, `${p}all/common.txt`, 'common');
    await createJob(s, probeJob(name, {
      ProcessingResources: { ClusterConfig: { InstanceCount: 2, InstanceType: 'ml.m5.large', VolumeSizeInGB: 1 } },
      // Sleep a little so each instance is still up (and resolvable) while the other looks it up.
      Environment: { PROBE_MESSAGE_TEXT: 'part;', PROBE_SLEEP: '3' },
      ProcessingInputs: [
        { InputName: 'sharded', S3Input: { S3Uri: `s3://${BUCKET}/${p}shards/`, LocalPath: '/opt/ml/processing/input/shards', S3DataType: 'S3Prefix', S3DataDistributionType: 'ShardedByS3Key' } },
        { InputName: 'replicated', S3Input: { S3Uri: `s3://${BUCKET}/${p}all/`, LocalPath: '/opt/ml/processing/input/all', S3DataType: 'S3Prefix', S3DataDistributionType: 'FullyReplicated' } },
      ],
    }));
    const d = await settle(s, name);
    assert.equal(d.ProcessingJobStatus, 'Completed', d.FailureReason);
    assert.equal(d.ExitMessage, 'part;part;', 'the messages of every instance, concatenated');
    const reports = probeReports(s, name);
    assert.deepEqual([...reports.keys()].sort(), ['algo-1', 'algo-2']);
    const shardsSeen: string[] = [];
    for (const [host, r] of reports) {
      assert.deepEqual(r.config_files['/opt/ml/config/resourceconfig.json'], { current_host: host, current_instance_type: 'ml.m5.large', hosts: ['algo-1', 'algo-2'], network_interface_name: 'eth0' });
      assert.equal(r.hostname, host);
      for (const h of ['algo-1', 'algo-2']) assert.ok(r.hosts[h], `${host} resolves ${h}: ${JSON.stringify(r.host_errors)}`);
      const files = fileEntries(r);
      assert.equal(files.get('input/all/common.txt')?.size, 6, 'FullyReplicated: every host gets every object');
      const mine = [...files.keys()].filter((k) => k.startsWith('input/shards/') && files.get(k).type === 'file');
      assert.equal(mine.length, 2, `${host} gets half of the shards: ${mine}`);
      shardsSeen.push(...mine);
    }
    assert.deepEqual(shardsSeen.sort(), ['input/shards/k0.txt', 'input/shards/k1.txt', 'input/shards/k2.txt', 'input/shards/k3.txt']);
    const streams = [...jobLogs(s, name).keys()].sort();
    assert.equal(streams.length, 2);
    assert.match(streams[0]!, new RegExp(`^${name}/algo-1-\\d{10}$`));
    assert.match(streams[1]!, new RegExp(`^${name}/algo-2-\\d{10}$`));
  });

  it('a non-zero exit fails the job: AlgorithmError with the failure text and exit code', async () => {
    const withText = jobName('fail');
    const plain = jobName('fail');
    await createJob(s, probeJob(withText, { Environment: { PROBE_EXIT_CODE: '3', PROBE_FAILURE_TEXT: 'boom: bad row 7', PROBE_MESSAGE_TEXT: 'partial' } }));
    await createJob(s, probeJob(plain, { Environment: { PROBE_EXIT_CODE: '2' } }));
    const [a, b] = await Promise.all([settle(s, withText), settle(s, plain)]);
    assert.equal(a.ProcessingJobStatus, 'Failed');
    assert.equal(a.FailureReason, 'AlgorithmError: boom: bad row 7, exit code: 3');
    assert.equal(a.ExitMessage, 'partial');
    assert.ok(a.ProcessingEndTime);
    assert.equal(b.ProcessingJobStatus, 'Failed');
    assert.equal(b.FailureReason, 'AlgorithmError: , exit code: 2');
    assert.equal(b.ExitMessage, undefined);
  });

  it('one failing instance fails the job and stops the others', async () => {
    const name = jobName('failfast');
    const started = Date.now();
    await createJob(s, probeJob(name, {
      ProcessingResources: { ClusterConfig: { InstanceCount: 2, InstanceType: 'ml.m5.large', VolumeSizeInGB: 1 } },
      AppSpecification: sh('if grep -q \'"current_host":"algo-2"\' /opt/ml/config/resourceconfig.json; then exit 5; fi; sleep 60'),
    }));
    const d = await settle(s, name);
    assert.equal(d.ProcessingJobStatus, 'Failed');
    assert.equal(d.FailureReason, 'AlgorithmError: , exit code: 5', 'the reason names the instance that failed, not the one stopped');
    assert.ok(Date.now() - started < 30_000, 'algo-1 was stopped, not waited for');
  });

  it('ExitMessage is the first 1 KiB; a message that is not UTF-8 fails the job with a ClientError', async () => {
    const long = jobName('msg');
    const bad = jobName('msg');
    await createJob(s, probeJob(long, { AppSpecification: sh(`python3 -c "open('/opt/ml/output/message','w').write('é' + 'x' * 3000)"`) }));
    await createJob(s, probeJob(bad, { AppSpecification: sh(`printf 'ok \\377\\376 not utf-8' > /opt/ml/output/message`) }));
    const [a, b] = await Promise.all([settle(s, long), settle(s, bad)]);
    assert.equal(a.ProcessingJobStatus, 'Completed', a.FailureReason);
    assert.equal(a.ExitMessage, 'é' + 'x'.repeat(1022));
    assert.equal(b.ProcessingJobStatus, 'Failed');
    assert.match(b.FailureReason!, /^ClientError: .*\/opt\/ml\/output\/message.*not valid UTF-8/);
    assert.equal(b.ExitMessage, undefined);
  });

  it('Continuous outputs are uploaded while the job runs, again when a file changes, and symlinks are never followed', async () => {
    const name = jobName('cont');
    const p = `${name}/`;
    const script = [
      'd=/opt/ml/processing/cont; e=/opt/ml/processing/eoj',
      'echo one > $d/f.txt; mkdir -p $d/sub; echo nested > $d/sub/n.txt',
      'ln -s /etc/hostname $d/link; ln -s /opt/ml/processing $d/dirlink; ln -s /etc $e/etc; echo eoj > $e/real.txt',
      'while [ ! -e /opt/ml/processing/go/1 ]; do sleep 0.1; done',
      'echo two > $d/f.txt',
      'while [ ! -e /opt/ml/processing/go/2 ]; do sleep 0.1; done',
      'echo late > $d/late.txt',
    ].join('\n');
    await putObject(s, `${p}code/run.sh`, script);
    await createJob(s, probeJob(name, {
      AppSpecification: { ImageUri: PROBE_IMAGE, ContainerEntrypoint: ['sh', '/opt/ml/processing/code/run.sh'] },
      ProcessingInputs: [{ InputName: 'code', S3Input: { S3Uri: `s3://${BUCKET}/${p}code/`, LocalPath: '/opt/ml/processing/code', S3DataType: 'S3Prefix' } }],
      ProcessingOutputConfig: { Outputs: [out('cont', '/opt/ml/processing/cont', `${p}cont`, 'Continuous'), out('eoj', '/opt/ml/processing/eoj', `${p}eoj`)] },
    }));
    const inProgress = async () => (await describeJob(s, name)).ProcessingJobStatus === 'InProgress';
    // The container waits for go/1 and go/2, which the test creates in the job's work directory.
    const goDir = `${s.dataDir}/jobs/processing-job/${name}/algo-1/processing/go`;
    const fs = await import('node:fs/promises');
    await eventually('f.txt uploaded during the run', async () => ((await getObject(s, `${p}cont/f.txt`)) === 'one\n' ? true : undefined), 30_000);
    assert.ok(await inProgress());
    await eventually('sub/n.txt uploaded during the run', async () => ((await getObject(s, `${p}cont/sub/n.txt`)) === 'nested\n' ? true : undefined), 30_000);
    await fs.mkdir(goDir, { recursive: true });
    await fs.writeFile(`${goDir}/1`, '');
    await eventually('f.txt uploaded again after it changed', async () => ((await getObject(s, `${p}cont/f.txt`)) === 'two\n' ? true : undefined), 30_000);
    assert.ok(await inProgress());
    assert.equal(await getObject(s, `${p}eoj/real.txt`), undefined, 'EndOfJob outputs wait for the end');
    await fs.writeFile(`${goDir}/2`, '');
    const d = await settle(s, name);
    assert.equal(d.ProcessingJobStatus, 'Completed', d.FailureReason);
    assert.deepEqual(await listKeys(s, `${p}cont/`), [`${p}cont/f.txt`, `${p}cont/late.txt`, `${p}cont/sub/n.txt`]);
    assert.deepEqual(await listKeys(s, `${p}eoj/`), [`${p}eoj/real.txt`]);
  });

  it('StopProcessingJob: Stopping, SIGTERM, then Stopped; what the job wrote until then is uploaded', async () => {
    const name = jobName('stop');
    const p = `${name}/`;
    await createJob(s, probeJob(name, {
      Environment: { PROBE_SLEEP: '60', PROBE_ON_SIGTERM_WRITE: '/opt/ml/processing/output/sigterm.txt', PROBE_MESSAGE_TEXT: 'never written' },
      ProcessingOutputConfig: { Outputs: [out('o', '/opt/ml/processing/output', `${p}out`)] },
    }));
    await eventually('the probe to sleep', async () => ([...jobLogs(s, name).values()].flat().some((l) => l.startsWith('PROBE: sleeping')) ? true : undefined));
    await s.sagemaker.send(new StopProcessingJobCommand({ ProcessingJobName: name }));
    assert.equal((await describeJob(s, name)).ProcessingJobStatus, 'Stopping');
    await s.sagemaker.send(new StopProcessingJobCommand({ ProcessingJobName: name })); // stopping twice is fine
    const d = await settle(s, name);
    assert.equal(d.ProcessingJobStatus, 'Stopped');
    assert.equal(d.FailureReason, undefined);
    assert.ok(d.ProcessingEndTime);
    assert.deepEqual(await listKeys(s, `${p}out/`), [`${p}out/report.json`, `${p}out/sigterm.txt`]);
    assert.match((await getObject(s, `${p}out/sigterm.txt`))!, /^SIGTERM received/);
    assert.ok([...jobLogs(s, name).values()].flat().includes('PROBE: received SIGTERM'));
    await assert.rejects(s.sagemaker.send(new StopProcessingJobCommand({ ProcessingJobName: name })), (e: any) => e.name === 'ValidationException' && /Stopped/.test(e.message));
  });

  it('a container that ignores SIGTERM is killed after the grace period', async () => {
    const name = jobName('stopkill');
    await createJob(s, probeJob(name, { Environment: { PROBE_SLEEP: '120', PROBE_IGNORE_SIGTERM: '1' } }));
    await eventually('the probe to sleep', async () => ([...jobLogs(s, name).values()].flat().some((l) => l.startsWith('PROBE: sleeping')) ? true : undefined));
    const t0 = Date.now();
    await s.sagemaker.send(new StopProcessingJobCommand({ ProcessingJobName: name }));
    const d = await settle(s, name);
    const took = Date.now() - t0;
    assert.equal(d.ProcessingJobStatus, 'Stopped');
    assert.ok(took >= 2500 && took < 20_000, `stopped after ${took} ms with a 3 s grace`);
  });

  it('MaxRuntimeInSeconds stops the job the same way', async () => {
    const name = jobName('maxrt');
    const p = `${name}/`;
    await createJob(s, probeJob(name, {
      // Long enough for the probe to install its SIGTERM handler on a busy machine (before that,
      // SIGTERM to PID 1 is ignored and only the SIGKILL after the grace ends it).
      StoppingCondition: { MaxRuntimeInSeconds: 8 },
      Environment: { PROBE_SLEEP: '60', PROBE_ON_SIGTERM_WRITE: '/opt/ml/processing/output/sigterm.txt' },
      ProcessingOutputConfig: { Outputs: [out('o', '/opt/ml/processing/output', `${p}out`)] },
    }));
    const d = await settle(s, name);
    assert.equal(d.ProcessingJobStatus, 'Stopped');
    assert.deepEqual(d.StoppingCondition, { MaxRuntimeInSeconds: 8 });
    const ran = d.ProcessingEndTime!.getTime() - d.ProcessingStartTime!.getTime();
    assert.ok(ran >= 7500 && ran < 25_000, `ran ${ran} ms`);
    assert.deepEqual(await listKeys(s, `${p}out/`), [`${p}out/report.json`, `${p}out/sigterm.txt`]);
  });

  it('missing input data or a missing image fail the job with a ClientError', async () => {
    const noData = jobName('nodata');
    const noImage = jobName('noimage');
    await createJob(s, probeJob(noData, { ProcessingInputs: [{ InputName: 'd', S3Input: { S3Uri: `s3://${BUCKET}/${noData}/nothing/`, LocalPath: '/opt/ml/processing/input', S3DataType: 'S3Prefix' } }] }));
    await createJob(s, probeJob(noImage, { AppSpecification: { ImageUri: 'sagebox-test/no-such-image:latest' } }));
    const [a, b] = await Promise.all([settle(s, noData), settle(s, noImage)]);
    assert.equal(a.ProcessingJobStatus, 'Failed');
    assert.match(a.FailureReason!, /^ClientError: No objects found under S3 URL/);
    assert.equal(a.ProcessingStartTime, undefined, 'no container ran');
    assert.equal(b.ProcessingJobStatus, 'Failed');
    assert.match(b.FailureReason!, /^ClientError: .*no-such-image/);
  });

  it('NetworkConfig.EnableNetworkIsolation runs the container without a network', async () => {
    const name = jobName('isolated');
    await createJob(s, probeJob(name, { NetworkConfig: { EnableNetworkIsolation: true }, Environment: { PROBE_RESOLVE_TIMEOUT_S: '0.5' } }));
    const d = await settle(s, name);
    assert.equal(d.ProcessingJobStatus, 'Completed', d.FailureReason);
    assert.deepEqual(d.NetworkConfig, { EnableNetworkIsolation: true });
    assert.deepEqual(probeReports(s, name).get('algo-1').interfaces, ['lo']);
  });
});
