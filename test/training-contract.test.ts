/**
 * The training container contract, end to end through @aws-sdk/client-sagemaker
 * against the in-process server and real Docker. What the container saw comes
 * from the probe image's report (test/images/probe); what it left behind from
 * the embedded object store. Jobs run in parallel.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { requireDocker } from './helpers/docker';
import type { TestServer } from './helpers/server';
import { BUCKET, archiveFiles, createJob, eventually, jobLogs, jobName, listKeys, probeJob, probeReport, probeReports, putObject, settle, startTrainingServer } from './helpers/training';

let s: TestServer;
before(async () => {
  s = await startTrainingServer();
});
after(async () => s.stop());

const files = (listing: any[] | null, under: string): Map<string, any> =>
  new Map((listing ?? []).filter((e) => e.type === 'file' && e.path.startsWith(`${under}/`)).map((e) => [e.path.slice(under.length + 1), e]));
const cfg = (r: any, file: string): any => r.config_files[`/opt/ml/input/config/${file}`];

describe('training contract', { concurrency: true }, () => {
  it('runs `IMAGE train` with the config files, environment, channels, mounts and limits of the contract', async () => {
    const name = jobName('contract');
    const p = `${name}/`;
    await putObject(s, `${p}train/a.csv`, 'a,1\n');
    await putObject(s, `${p}train/sub/dir/b.csv`, 'b,2\n');
    await putObject(s, `${p}listed/x.txt`, 'x');
    await putObject(s, `${p}listed/deep/y.txt`, 'yy');
    await putObject(s, `${p}listed/not-listed.txt`, 'no');
    await putObject(s, `${p}m.manifest`, JSON.stringify([{ prefix: `s3://${BUCKET}/${p}listed/` }, 'x.txt', 'deep/y.txt']));
    await putObject(s, `${p}ckpt/step-1.pt`, 'checkpoint one');
    const arn = await createJob(s, probeJob(name, {
      env: { PROBE_WRITE_OUTPUT: '1', MY_SETTING: 'value with spaces' },
      HyperParameters: { epochs: '10', sagemaker_program: '"train.py"' },
      InputDataConfig: [
        { ChannelName: 'train', ContentType: 'text/csv', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/${p}train` } } },
        { ChannelName: 'listed', InputMode: 'File', DataSource: { S3DataSource: { S3DataType: 'ManifestFile', S3Uri: `s3://${BUCKET}/${p}m.manifest`, S3DataDistributionType: 'FullyReplicated' } } },
      ],
      CheckpointConfig: { S3Uri: `s3://${BUCKET}/${p}ckpt` },
      alg: { MetricDefinitions: [{ Name: 'loss', Regex: 'loss=([0-9.]+)' }] },
    }));
    assert.equal(arn, `arn:aws:sagemaker:us-east-1:000000000000:training-job/${name}`);
    const d = await settle(s, name);
    assert.equal(d.TrainingJobStatus, 'Completed', d.FailureReason);

    const r = probeReport(s, name);
    assert.deepEqual(r.argv, ['train']);
    assert.equal(r.hostname, 'algo-1');
    assert.ok(r.hosts['algo-1'], 'algo-1 resolves');
    assert.deepEqual(cfg(r, 'hyperparameters.json'), { epochs: '10', sagemaker_program: '"train.py"' });
    assert.deepEqual(cfg(r, 'resourceconfig.json'), {
      current_host: 'algo-1', current_instance_type: 'ml.m5.large', current_group_name: 'homogeneousCluster', hosts: ['algo-1'],
      instance_groups: [{ instance_group_name: 'homogeneousCluster', instance_type: 'ml.m5.large', hosts: ['algo-1'] }],
      network_interface_name: 'eth0', topology: null,
    });
    assert.deepEqual(cfg(r, 'inputdataconfig.json'), {
      train: { ContentType: 'text/csv', TrainingInputMode: 'File', S3DistributionType: 'FullyReplicated', RecordWrapperType: 'None' },
      listed: { TrainingInputMode: 'File', S3DistributionType: 'FullyReplicated', RecordWrapperType: 'None' },
    });
    assert.deepEqual(cfg(r, 'metric-definition-regex.json'), [{ Name: 'loss', Regex: 'loss=([0-9.]+)' }]);
    assert.deepEqual(cfg(r, 'checkpointconfig.json'), { LocalPath: '/opt/ml/checkpoints', S3Uri: `s3://${BUCKET}/${p}ckpt` });
    const tjc = cfg(r, 'trainingjobconfig.json');
    assert.equal(tjc.TrainingJobName, name);
    assert.equal(tjc.TrainingJobArn, arn);
    assert.equal(tjc.StoppingCondition.MaxRuntimeInSeconds, 120);

    const env = r.environment;
    assert.equal(env.TRAINING_JOB_NAME, name);
    assert.equal(env.TRAINING_JOB_ARN, arn);
    assert.equal(env.AWS_REGION, 'us-east-1');
    assert.equal(env.AWS_DEFAULT_REGION, 'us-east-1');
    assert.equal(env.MY_SETTING, 'value with spaces');

    const train = files(r.input_data, 'train');
    assert.deepEqual([...train.keys()].sort(), ['a.csv', 'sub/dir/b.csv']);
    assert.equal(train.get('a.csv').size, 4);
    assert.deepEqual([...files(r.input_data, 'listed').keys()].sort(), ['deep/y.txt', 'x.txt']);
    const mounts = new Map<string, string>(r.ml_mounts.map((m: any) => [m.mountpoint, m.options]));
    assert.match(mounts.get('/opt/ml/input/config')!, /^ro\b/);
    for (const m of ['/opt/ml/input', '/opt/ml/model', '/opt/ml/output', '/opt/ml/checkpoints']) assert.match(mounts.get(m) ?? '', /^rw\b/, m);

    // ml.m5.large: 2 vCPUs, 8 GiB (capped to the machine).
    assert.equal(r.cgroup.cpus, Math.min(2, os.cpus().length));
    assert.equal(r.cgroup.memory_bytes, Math.min(8 * 1024 ** 3, Math.floor(os.totalmem() * 0.9)));

    const model = await archiveFiles(s, `out/${name}/output/model.tar.gz`);
    assert.deepEqual([...model.keys()], ['report.json']);
    assert.equal(JSON.parse(model.get('report.json')!).current_host, 'algo-1');
    const output = await archiveFiles(s, `out/${name}/output/output.tar.gz`);
    assert.deepEqual([...output.keys()].sort(), ['nested/deeper/file.txt', 'probe-output.txt']);
    assert.deepEqual(d.ModelArtifacts, { S3ModelArtifacts: `s3://${BUCKET}/out/${name}/output/model.tar.gz` });
  });

  it('combines ContainerEntrypoint and ContainerArguments as Docker does (the four cases)', async () => {
    const cases: [string, { ContainerEntrypoint?: string[]; ContainerArguments?: string[] }, string[]][] = [
      ['neither', {}, ['train']],
      ['args', { ContainerArguments: ['alpha', 'beta'] }, ['alpha', 'beta']],
      ['entry', { ContainerEntrypoint: ['python3', '/usr/local/bin/probe'] }, []],
      ['both', { ContainerEntrypoint: ['python3', '/usr/local/bin/probe'], ContainerArguments: ['gamma'] }, ['gamma']],
    ];
    await Promise.all(
      cases.map(async ([label, alg, argv]) => {
        const name = jobName(`cmd-${label}`);
        await createJob(s, probeJob(name, { alg }));
        const d = await settle(s, name);
        assert.equal(d.TrainingJobStatus, 'Completed', `${label}: ${d.FailureReason}`);
        assert.deepEqual(probeReport(s, name).argv, argv, label);
        assert.deepEqual(d.AlgorithmSpecification!.ContainerEntrypoint, alg.ContainerEntrypoint, label);
        assert.deepEqual(d.AlgorithmSpecification!.ContainerArguments, alg.ContainerArguments, label);
      }),
    );
  });

  it('runs one container per host that resolve each other, shards ShardedByS3Key channels and merges the outputs', async () => {
    const name = jobName('multi');
    const p = `${name}/`;
    for (const k of ['k0', 'k1', 'k2', 'k3', 'k4']) await putObject(s, `${p}shards/${k}.txt`, k);
    await putObject(s, `${p}all/common.txt`, 'common');
    await createJob(s, probeJob(name, {
      env: { PROBE_WRITE_OUTPUT: '1', PROBE_RESOLVE_TIMEOUT_S: '20', PROBE_SLEEP: '3' },
      ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 3, VolumeSizeInGB: 1 },
      InputDataConfig: [
        { ChannelName: 'shards', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/${p}shards/`, S3DataDistributionType: 'ShardedByS3Key' } } },
        { ChannelName: 'all', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/${p}all/` } } },
      ],
    }));
    const d = await settle(s, name);
    assert.equal(d.TrainingJobStatus, 'Completed', d.FailureReason);
    const reports = probeReports(s, name);
    assert.deepEqual([...reports.keys()].sort(), ['algo-1', 'algo-2', 'algo-3']);
    const expected: Record<string, string[]> = { 'algo-1': ['k0.txt', 'k3.txt'], 'algo-2': ['k1.txt', 'k4.txt'], 'algo-3': ['k2.txt'] };
    for (const [host, r] of reports) {
      assert.equal(r.hostname, host);
      assert.deepEqual(cfg(r, 'resourceconfig.json').hosts, ['algo-1', 'algo-2', 'algo-3']);
      assert.equal(cfg(r, 'resourceconfig.json').current_host, host);
      for (const h of ['algo-1', 'algo-2', 'algo-3']) assert.ok(r.hosts[h], `${host} resolves ${h}: ${JSON.stringify(r.host_errors)}`);
      assert.deepEqual([...files(r.input_data, 'shards').keys()].sort(), expected[host], host);
      assert.deepEqual([...files(r.input_data, 'all').keys()], ['common.txt'], host);
      assert.equal(cfg(r, 'inputdataconfig.json').shards.S3DistributionType, 'ShardedByS3Key');
    }
    assert.deepEqual([...jobLogs(s, name).keys()].map((k) => k.replace(/-\d+$/, '')).sort(), [`${name}/algo-1`, `${name}/algo-2`, `${name}/algo-3`]);
    const model = await archiveFiles(s, `out/${name}/output/model.tar.gz`);
    assert.equal(JSON.parse(model.get('report.json')!).current_host, 'algo-3', 'the later host wins a name clash');
    const output = await archiveFiles(s, `out/${name}/output/output.tar.gz`);
    assert.match(output.get('probe-output.txt')!, /on algo-3/);
  });

  it('gives heterogeneous clusters their group names and channels restricted to groups', async () => {
    const name = jobName('groups');
    await putObject(s, `${name}/only-g2/f.txt`, 'f');
    await putObject(s, `${name}/everyone/e.txt`, 'e');
    await createJob(s, probeJob(name, {
      ResourceConfig: { VolumeSizeInGB: 1, InstanceGroups: [
        { InstanceGroupName: 'g1', InstanceType: 'ml.m5.large', InstanceCount: 1 },
        { InstanceGroupName: 'g2', InstanceType: 'ml.c5.xlarge', InstanceCount: 1 },
      ] },
      InputDataConfig: [
        { ChannelName: 'g2data', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/${name}/only-g2/`, InstanceGroupNames: ['g2'] } } },
        { ChannelName: 'common', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/${name}/everyone/` } } },
      ],
    }));
    const d = await settle(s, name);
    assert.equal(d.TrainingJobStatus, 'Completed', d.FailureReason);
    const r1 = probeReport(s, name, 'algo-1');
    const r2 = probeReport(s, name, 'algo-2');
    assert.equal(cfg(r1, 'resourceconfig.json').current_group_name, 'g1');
    assert.equal(cfg(r2, 'resourceconfig.json').current_group_name, 'g2');
    assert.equal(cfg(r2, 'resourceconfig.json').current_instance_type, 'ml.c5.xlarge');
    assert.deepEqual(cfg(r1, 'resourceconfig.json').instance_groups, [
      { instance_group_name: 'g1', instance_type: 'ml.m5.large', hosts: ['algo-1'] },
      { instance_group_name: 'g2', instance_type: 'ml.c5.xlarge', hosts: ['algo-2'] },
    ]);
    assert.deepEqual(Object.keys(cfg(r1, 'inputdataconfig.json')), ['common']);
    assert.deepEqual(Object.keys(cfg(r2, 'inputdataconfig.json')).sort(), ['common', 'g2data']);
    assert.equal(files(r1.input_data, 'g2data').size, 0);
    assert.deepEqual([...files(r2.input_data, 'g2data').keys()], ['f.txt']);
    assert.deepEqual(d.ResourceConfig!.InstanceGroups!.map((g) => g.InstanceGroupName), ['g1', 'g2']);
  });

  it('cuts the network with EnableNetworkIsolation: none for one host, an internal network for several', async () => {
    const docker = await requireDocker();
    const one = jobName('isolated');
    const many = jobName('isolated-multi');
    await createJob(s, probeJob(one, { EnableNetworkIsolation: true }));
    await createJob(s, probeJob(many, { EnableNetworkIsolation: true, env: { PROBE_SLEEP: '3', PROBE_RESOLVE_TIMEOUT_S: '20' }, ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 2, VolumeSizeInGB: 1 } }));
    const net = await eventually('the job network', async () => {
      const nets = await docker.listNetworks({ filters: { label: [`sagebox.resource=${many}`] } });
      return nets[0] ? docker.getNetwork(nets[0].Id).inspect() : undefined;
    }, 30_000);
    assert.equal(net.Internal, true);
    const [d1, d2] = await Promise.all([settle(s, one), settle(s, many)]);
    assert.equal(d1.TrainingJobStatus, 'Completed', d1.FailureReason);
    assert.equal(d2.TrainingJobStatus, 'Completed', d2.FailureReason);
    assert.equal(d1.EnableNetworkIsolation, true);
    const r = probeReport(s, one);
    assert.deepEqual(r.interfaces, ['lo']);
    assert.equal(r.network_outbound, false);
    for (const host of ['algo-1', 'algo-2']) {
      const rm = probeReport(s, many, host);
      assert.equal(rm.network_outbound, false);
      assert.ok(rm.hosts['algo-1'] && rm.hosts['algo-2'], `${host} resolves both hosts on the internal network`);
    }
  });

  it('uploads the model uncompressed under output/model/ with OutputDataConfig.CompressionType NONE', async () => {
    const name = jobName('uncompressed');
    await createJob(s, probeJob(name, { OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/raw/`, CompressionType: 'NONE' } }));
    const d = await settle(s, name);
    assert.equal(d.TrainingJobStatus, 'Completed', d.FailureReason);
    assert.equal(d.ModelArtifacts!.S3ModelArtifacts, `s3://${BUCKET}/raw/${name}/output/model/`);
    assert.deepEqual(await listKeys(s, `raw/${name}/output/`), [`raw/${name}/output/model/report.json`, `raw/${name}/output/output.tar.gz`]);
  });

  it('lets a process that is not root write the model, output data and checkpoints', async () => {
    const name = jobName('nonroot');
    const write = 'echo m > /opt/ml/model/m.txt && echo o > /opt/ml/output/data/o.txt && echo c > /opt/ml/checkpoints/c.txt';
    await createJob(s, probeJob(name, {
      alg: { TrainingImage: 'sagebox/base:bookworm', ContainerEntrypoint: ['setpriv', '--reuid=1000', '--regid=1000', '--clear-groups', 'sh', '-c', write] },
      CheckpointConfig: { S3Uri: `s3://${BUCKET}/${name}/ckpt/` },
    }));
    const d = await settle(s, name);
    assert.equal(d.TrainingJobStatus, 'Completed', d.FailureReason);
    assert.deepEqual([...(await archiveFiles(s, `out/${name}/output/model.tar.gz`)).keys()], ['m.txt']);
    assert.deepEqual([...(await archiveFiles(s, `out/${name}/output/output.tar.gz`)).keys()], ['o.txt']);
    assert.deepEqual(await listKeys(s, `${name}/ckpt/`), [`${name}/ckpt/c.txt`]);
  });

  it('reads channels from and writes outputs to file:// locations', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sagebox-train-file-'));
    try {
      fs.mkdirSync(path.join(dir, 'in', 'nested'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'in', 'one.txt'), '1');
      fs.writeFileSync(path.join(dir, 'in', 'nested', 'two.txt'), '22');
      const name = jobName('file-uri');
      await createJob(s, probeJob(name, {
        InputDataConfig: [{ ChannelName: 'local', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `file://${dir}/in/` } } }],
        OutputDataConfig: { S3OutputPath: `file://${dir}/out` },
      }));
      const d = await settle(s, name);
      assert.equal(d.TrainingJobStatus, 'Completed', d.FailureReason);
      assert.deepEqual([...files(probeReport(s, name).input_data, 'local').keys()].sort(), ['nested/two.txt', 'one.txt']);
      assert.equal(d.ModelArtifacts!.S3ModelArtifacts, `file://${dir}/out/${name}/output/model.tar.gz`);
      assert.ok(fs.statSync(path.join(dir, 'out', name, 'output', 'model.tar.gz')).size > 0);
      assert.ok(fs.existsSync(path.join(dir, 'out', name, 'output', 'output.tar.gz')));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
