/**
 * Pipe mode and FastFile mode end to end: real Docker, the
 * sagebox-test/pipe-reader image (test/images/pipe-reader) reading FIFOs and
 * FastFile channels, the in-process server with the embedded store (and one
 * case against s3rver). Expected bytes are computed here from the source
 * objects; the container reports what it read (`PIPE-REPORT <json>`).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { CreateProcessingJobCommand, DescribeProcessingJobCommand, StopTrainingJobCommand, type CreateTrainingJobCommandInput } from '@aws-sdk/client-sagemaker';
import { shuffled } from '../src/jobs/streaming/shuffle';
import { removeLabelled, requireDocker, testInstanceId } from './helpers/docker';
import { startS3rver, type RunningS3rver } from './helpers/s3rver';
import { startServer, type TestServer } from './helpers/server';
import { BUCKET, ROLE, createJob, describe as describeJob, eventually, jobLogs, jobName, settle, sleep } from './helpers/training';

const IMAGE = 'sagebox-test/pipe-reader:latest';
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

const unhandled: unknown[] = [];
process.on('unhandledRejection', (err) => void unhandled.push(err));

let s: TestServer;
before(async () => {
  await requireDocker();
  s = await startServer({ stopGraceSeconds: { jobs: 3, endpoints: 3 } });
  await s.app.ctx.objectStore.ensureBucket(BUCKET);
});
after(async () => {
  await s.stop();
  assert.deepEqual(unhandled, [], 'no unhandled rejections');
});

async function put(server: TestServer, key: string, body: Buffer | string): Promise<void> {
  await server.app.ctx.objectStore.put(BUCKET, key, body);
}

function readerJob(name: string, channels: CreateTrainingJobCommandInput['InputDataConfig'], env: Record<string, string> = {}, mode: 'Pipe' | 'File' | 'FastFile' = 'Pipe'): CreateTrainingJobCommandInput {
  return {
    TrainingJobName: name,
    RoleArn: ROLE,
    AlgorithmSpecification: { TrainingImage: IMAGE, TrainingInputMode: mode },
    OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/out` },
    ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 1 },
    StoppingCondition: { MaxRuntimeInSeconds: 300 },
    Environment: env,
    InputDataConfig: channels,
  };
}

const prefix = (uri: string, extra: Record<string, unknown> = {}) => ({ S3DataSource: { S3DataType: 'S3Prefix' as const, S3Uri: uri, S3DataDistributionType: 'FullyReplicated' as const, ...extra } });

/** The `PIPE-REPORT` of a job, from its logs. */
function report(server: TestServer, name: string, group = '/aws/sagemaker/TrainingJobs'): any {
  const logs = server.app.ctx.logs;
  for (const st of logs.streams(group, `${name}/`)) {
    for (const e of logs.events(st.id, { limit: 100000 })) if (e.message.startsWith('PIPE-REPORT ')) return JSON.parse(e.message.slice('PIPE-REPORT '.length));
  }
  throw new Error(`no PIPE-REPORT in the logs of ${name}: ${JSON.stringify([...jobLogs(server, name).values()]).slice(0, 3000)}`);
}

/** What this process's descriptors point at. */
function openPaths(): string[] {
  return fs.readdirSync('/proc/self/fd').map((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return '';
    }
  });
}

function workDir(server: TestServer, kind: string, name: string): string {
  return path.join(server.dataDir, 'jobs', kind, name);
}

describe('Pipe mode (training)', { concurrency: true }, () => {
  it('streams 3 epochs of a gzip channel and a shuffled RecordIO channel, byte for byte and record for record', async () => {
    const name = jobName('pipe-epochs');
    const texts = ['alpha line\n'.repeat(300), 'bravo\n', 'charlie '.repeat(20_000)];
    for (const [i, t] of texts.entries()) await put(s, `${name}/gz/part-${i}.txt.gz`, gzipSync(Buffer.from(t)));
    const records = [Buffer.alloc(0), Buffer.from('x'), Buffer.from('hello'), Buffer.alloc(70_003, 9), Buffer.from('four')];
    for (const [i, r] of records.entries()) await put(s, `${name}/rec/r${i}`, r);
    await createJob(s, readerJob(name, [
      { ChannelName: 'gz', CompressionType: 'Gzip', DataSource: prefix(`s3://${BUCKET}/${name}/gz/`) },
      { ChannelName: 'rec', RecordWrapperType: 'RecordIO', ShuffleConfig: { Seed: 42 }, DataSource: prefix(`s3://${BUCKET}/${name}/rec`) },
    ]));
    const d = await settle(s, name, 180_000);
    assert.equal(d.TrainingJobStatus, 'Completed', d.FailureReason);
    await eventually('the work directory (FIFOs included) to be removed', () => (fs.existsSync(workDir(s, 'training-job', name)) ? undefined : true), 10_000);
    const r = report(s, name);
    const gzAll = Buffer.from(texts.join(''));
    assert.deepEqual(r.channels.gz.map((e: any) => [e.epoch, e.size, e.sha256]), [0, 1, 2].map((ep) => [ep, gzAll.length, sha(gzAll)]));
    const orders = [0, 1, 2].map((ep) => shuffled(records.map((_, i) => i), 42, ep));
    assert.deepEqual(r.channels.rec.map((e: any) => e.records), orders.map((o) => o.map((i) => [records[i]!.length, sha(records[i]!)])));
    assert.notDeepEqual(orders[0], orders[1], 'the seed gives each epoch its own order');
  });

  it('lets the reader close epoch 0 early and streams epoch 1 in full', async () => {
    const name = jobName('pipe-early');
    const data = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 4) data.writeUInt32LE(i, i);
    await put(s, `${name}/train/a.bin`, data.subarray(0, 1024 * 1024));
    await put(s, `${name}/train/b.bin`, data.subarray(1024 * 1024));
    await createJob(s, readerJob(name, [{ ChannelName: 'train', DataSource: prefix(`s3://${BUCKET}/${name}/train/`) }], { PIPE_READER_MODE: 'early-close', PIPE_READER_EARLY_BYTES: '1000' }));
    const d = await settle(s, name, 180_000);
    assert.equal(d.TrainingJobStatus, 'Completed', d.FailureReason);
    const r = report(s, name);
    assert.deepEqual([r.early.size, r.early.sha256], [1000, sha(data.subarray(0, 1000))]);
    assert.deepEqual([r.full.size, r.full.sha256], [data.length, sha(data)]);
    assert.equal(r.epoch0_exists, false, 'train_0 is removed once train_1 exists');
  });

  it('fails the job with a ClientError when a Pipe channel has no data, before the container starts', async () => {
    const name = jobName('pipe-empty');
    await createJob(s, readerJob(name, [{ ChannelName: 'train', DataSource: prefix(`s3://${BUCKET}/${name}/nothing/`) }]));
    const d = await settle(s, name);
    assert.equal(d.TrainingJobStatus, 'Failed');
    assert.match(d.FailureReason!, /^ClientError: Data download failed for channel 'train': No objects found under S3 URL/);
  });

  it('fails a running job with a ClientError when the stream cannot be read (not gzip)', async () => {
    const name = jobName('pipe-badgz');
    await put(s, `${name}/train/plain.txt`, 'this is not gzip data');
    await createJob(s, readerJob(name, [{ ChannelName: 'train', CompressionType: 'Gzip', DataSource: prefix(`s3://${BUCKET}/${name}/train/`) }]));
    const d = await settle(s, name, 120_000);
    assert.equal(d.TrainingJobStatus, 'Failed');
    assert.match(d.FailureReason!, /^ClientError: Data download failed for channel 'train': s3:\/\/.*plain\.txt is not valid gzip data/);
  });

  it('stops during a Pipe read and tears the feeder down: no FIFO, no descriptor, no rejection left', async () => {
    const name = jobName('pipe-stop');
    await put(s, `${name}/train/big.bin`, Buffer.alloc(32 * 1024 * 1024, 1));
    await createJob(s, readerJob(name, [{ ChannelName: 'train', DataSource: prefix(`s3://${BUCKET}/${name}/train/`) }], { PIPE_READER_MODE: 'slow', PIPE_READER_DELAY_S: '0.5' }));
    await eventually('the slow reader to start', () => ([...jobLogs(s, name).values()].flat().some((l) => l.startsWith('slow reader opening')) ? true : undefined), 120_000);
    await sleep(500);
    await s.sagemaker.send(new StopTrainingJobCommand({ TrainingJobName: name }));
    const d = await settle(s, name, 60_000);
    assert.equal(d.TrainingJobStatus, 'Stopped', d.FailureReason);
    await eventually('the work directory (FIFOs included) to be removed', () => (fs.existsSync(workDir(s, 'training-job', name)) ? undefined : true), 10_000);
    const held = (): string[] => openPaths().filter((p) => p.includes(`/${name}/`));
    await eventually('the FIFO and the object to be closed', () => (held().length === 0 ? true : undefined), 10_000).catch(() => assert.deepEqual(held(), []));
  });
});

describe('Pipe mode, shutdown', () => {
  it('a FIFO nobody opens does not hold up the server stopping', async () => {
    const docker = await requireDocker();
    const instanceId = testInstanceId('pipe-shutdown');
    const other = await startServer({ instanceId, stopGraceSeconds: { jobs: 1, endpoints: 1 } });
    try {
      await other.app.ctx.objectStore.ensureBucket(BUCKET);
      const name = jobName('pipe-abandoned');
      await put(other, `${name}/train/a.bin`, Buffer.alloc(1024 * 1024, 7));
      // The probe image never opens the FIFO: it just sleeps.
      await createJob(other, { ...readerJob(name, [{ ChannelName: 'train', DataSource: prefix(`s3://${BUCKET}/${name}/train/`) }]), AlgorithmSpecification: { TrainingImage: 'sagebox-test/probe:latest', TrainingInputMode: 'Pipe' }, Environment: { PROBE_SLEEP: '120', PROBE_RESOLVE_TIMEOUT_S: '1' } });
      await eventually('the container to run', async () => ((await describeJob(other, name)).SecondaryStatus === 'Training' ? true : undefined), 120_000);
      await sleep(300);
      const t = Date.now();
      await other.stop();
      assert.ok(Date.now() - t < 10_000, `stopping took ${Date.now() - t} ms`);
      assert.deepEqual(openPaths().filter((p) => p.includes(`/${name}/`)), [], 'no descriptor left on the FIFO');
    } finally {
      await removeLabelled(docker, { 'sagebox.instance': instanceId });
    }
  });
});

describe('FastFile mode', () => {
  it('shows the whole tree read-only at the start; a container reading the first file before the last has arrived succeeds', async () => {
    const name = jobName('fastfile');
    const files: Record<string, Buffer> = {
      'a-first.csv': Buffer.from('a,1\n'.repeat(1000)),
      'sub/b.csv': Buffer.from('b,2\n'),
      'sub/deeper/c.bin': Buffer.alloc(300_000, 3),
      'z-last.bin': Buffer.alloc(2 * 1024 * 1024, 0x5a),
    };
    for (const [rel, body] of Object.entries(files)) await put(s, `${name}/ds/${rel}`, body);
    // Hold the last file's download until the container has read the first one.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const store = s.app.ctx.objectStore;
    const original = store.getToFile.bind(store);
    store.getToFile = async (b, k, f) => {
      if (k === `${name}/ds/z-last.bin`) await gate;
      return original(b, k, f);
    };
    try {
      await createJob(s, readerJob(name, [{ ChannelName: 'train', DataSource: prefix(`s3://${BUCKET}/${name}/ds/`) }], { PIPE_READER_MODE: 'fastfile' }, 'FastFile'));
      await eventually('the first file to be read', () => ([...jobLogs(s, name).values()].flat().find((l) => l.startsWith('FASTFILE-FIRST-READ'))), 120_000);
      release();
      const d = await settle(s, name, 120_000);
      assert.equal(d.TrainingJobStatus, 'Completed', d.FailureReason);
    } finally {
      release();
      store.getToFile = original;
    }
    const c = report(s, name).channels.train;
    assert.deepEqual(Object.keys(c.at_start).sort(), Object.keys(files).sort(), 'every file is listed from the start');
    assert.equal(c.last_type_after_first, 'fifo', 'the last file had not arrived when the first was read');
    for (const [rel, body] of Object.entries(files)) {
      assert.equal(c.streamed[rel].sha256, sha(body), `${rel} read early`);
      assert.equal(c.arrived[rel].sha256, sha(body), `${rel} once arrived`);
      assert.deepEqual(c.final[rel], { type: 'file', size: body.length });
    }
    assert.equal(c.writable, false, 'the channel directory is read-only');
  });
});

describe('Pipe mode (processing)', () => {
  it('streams a gzip input into <LocalPath>_0, _1', async () => {
    const name = jobName('proc-pipe');
    const parts = ['one\n'.repeat(5000), 'two\n'.repeat(10)];
    for (const [i, t] of parts.entries()) await put(s, `${name}/in/p${i}.gz`, gzipSync(Buffer.from(t)));
    await s.sagemaker.send(new CreateProcessingJobCommand({
      ProcessingJobName: name,
      RoleArn: ROLE,
      AppSpecification: { ImageUri: IMAGE },
      Environment: { PIPE_READER_EPOCHS: '2' },
      ProcessingResources: { ClusterConfig: { InstanceCount: 1, InstanceType: 'ml.m5.large', VolumeSizeInGB: 1 } },
      ProcessingInputs: [{ InputName: 'data', S3Input: { S3Uri: `s3://${BUCKET}/${name}/in/`, LocalPath: '/opt/ml/processing/input/data', S3DataType: 'S3Prefix', S3InputMode: 'Pipe', S3CompressionType: 'Gzip' } }],
      ProcessingOutputConfig: { Outputs: [{ OutputName: 'report', S3Output: { S3Uri: `s3://${BUCKET}/${name}/out`, LocalPath: '/opt/ml/processing/output', S3UploadMode: 'EndOfJob' } }] },
      StoppingCondition: { MaxRuntimeInSeconds: 300 },
    }));
    const d = await eventually('the processing job to end', async () => {
      const r = await s.sagemaker.send(new DescribeProcessingJobCommand({ ProcessingJobName: name }));
      return ['Completed', 'Failed', 'Stopped'].includes(r.ProcessingJobStatus!) ? r : undefined;
    }, 180_000, 300);
    assert.equal(d.ProcessingJobStatus, 'Completed', d.FailureReason);
    const all = Buffer.from(parts.join(''));
    const r = report(s, name, '/aws/sagemaker/ProcessingJobs');
    assert.deepEqual(r.channels.data.map((e: any) => [e.epoch, e.size, e.sha256]), [[0, all.length, sha(all)], [1, all.length, sha(all)]]);
  });
});

describe('Pipe mode from an S3 endpoint (s3rver)', () => {
  let s3: RunningS3rver;
  let remote: TestServer;
  before(async () => {
    s3 = await startS3rver();
    remote = await startServer({
      stopGraceSeconds: { jobs: 3, endpoints: 3 },
      objectStore: { type: 's3', endpoint: s3.endpoint, region: s3.region, accessKeyId: s3.credentials.accessKeyId, secretAccessKey: s3.credentials.secretAccessKey, forcePathStyle: true },
    });
    await remote.app.ctx.objectStore.ensureBucket(BUCKET);
  });
  after(async () => {
    await remote?.stop();
    await s3?.stop();
  });

  it('streams RecordIO records of objects held by s3rver, two epochs', async () => {
    const name = jobName('pipe-s3rver');
    const records = [Buffer.alloc(100_001, 1), Buffer.from('abc'), Buffer.alloc(4096, 2)];
    for (const [i, r] of records.entries()) await put(remote, `${name}/rec/r${i}`, r);
    await createJob(remote, readerJob(name, [{ ChannelName: 'rec', InputMode: 'Pipe', RecordWrapperType: 'RecordIO', DataSource: prefix(`s3://${BUCKET}/${name}/rec/`) }], { PIPE_READER_EPOCHS: '2' }, 'File'));
    const d = await settle(remote, name, 180_000);
    assert.equal(d.TrainingJobStatus, 'Completed', d.FailureReason);
    const expected = records.map((r) => [r.length, sha(r)]);
    assert.deepEqual(report(remote, name).channels.rec.map((e: any) => e.records), [expected, expected]);
  });
});
