/**
 * Pipe mode across a sagebox crash (SIGKILL of `sagebox up`, started again on
 * the same data directory), as docs/pipe-mode.md promises:
 * - a feeder still waiting for its reader when sagebox died goes on waiting on
 *   the same FIFO after the restart, and the job completes with every byte;
 * - a feeder that was writing an epoch when sagebox died cannot repair it (the
 *   reader saw the write end close): the job fails with the "cut short"
 *   reason and its container is stopped.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateTrainingJobCommand, DescribeTrainingJobCommand, type DescribeTrainingJobCommandOutput } from '@aws-sdk/client-sagemaker';
import { crashDataDir, kill9, upChild as up, type ChildServer as Server } from './helpers/child-server';
import { extractTarGz } from '../src/storage/tar-gz';
import { removeLabelled, requireDocker } from './helpers/docker';
import { ROLE } from './helpers/training';
import { eventually, sleep, untilTerminal } from './helpers/wait';

const BUCKET = 'pipe-restart';
const IMAGE = 'sagebox/base:bookworm';
const FIFO = '/opt/ml/input/data/train_0';

const pipeJob = (name: string, script: string) =>
  new CreateTrainingJobCommand({
    TrainingJobName: name,
    RoleArn: ROLE,
    AlgorithmSpecification: { TrainingImage: IMAGE, TrainingInputMode: 'Pipe', ContainerEntrypoint: ['sh', '-c', script] },
    InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/data/`, S3DataDistributionType: 'FullyReplicated' } } }],
    OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/out` },
    ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 1 },
    StoppingCondition: { MaxRuntimeInSeconds: 300 },
  });

describe('Pipe mode across a sagebox restart', () => {
  const names = { waiting: `pipe-wait-${process.pid}`, writing: `pipe-cut-${process.pid}` };
  const objectBytes = 4 * 1024 * 1024;
  let dataDir: string;
  let server: Server | undefined;

  before(async () => {
    await requireDocker();
    const made = await crashDataDir('sagebox-pipe-restart-', BUCKET, 2);
    dataDir = made.dataDir;
    const store = made.store;
    // Two objects of 4 MiB: several times the FIFO's 1 MiB buffer, so a writer blocks on a slow reader.
    await store.put(BUCKET, 'data/a.bin', Buffer.alloc(objectBytes, 'a'));
    await store.put(BUCKET, 'data/b.bin', Buffer.alloc(objectBytes, 'b'));
    store.close();
  });

  after(async () => {
    if (server) await kill9(server);
    const docker = await requireDocker();
    for (const n of Object.values(names)) await removeLabelled(docker, { 'sagebox.resource': n }).catch(() => undefined);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const describeJob = (name: string): Promise<DescribeTrainingJobCommandOutput> => server!.sm.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));

  it('a feeder waiting for its reader waits on after the restart; one cut off mid-epoch fails the job', async () => {
    server = await up(dataDir);
    // Opens its FIFO only after 8 s (sagebox is down and back by then), then counts every byte.
    await server.sm.send(pipeJob(names.waiting, `sleep 8; wc -c < ${FIFO} > /opt/ml/model/bytes`));
    // Reads 10 bytes, then holds the FIFO open without reading: the feeder stays blocked mid-epoch.
    await server.sm.send(pipeJob(names.writing, `{ head -c 10 > /dev/null; sleep 120; } < ${FIFO}`));
    for (const n of Object.values(names)) {
      await eventually(`${n} training`, async () => ((await describeJob(n)).SecondaryStatus === 'Training' ? true : undefined));
    }
    await sleep(1500); // the second feeder has filled the FIFO and waits for room

    await kill9(server);
    server = await up(dataDir);

    const settled = (name: string): Promise<DescribeTrainingJobCommandOutput> => untilTerminal(name, () => describeJob(name), (d) => d.TrainingJobStatus, 120_000);

    const waited = await settled(names.waiting);
    assert.equal(waited.TrainingJobStatus, 'Completed', waited.FailureReason);
    const model = waited.ModelArtifacts!.S3ModelArtifacts!.replace(`s3://${BUCKET}/`, '');
    const unpacked = fs.mkdtempSync(path.join(os.tmpdir(), 'pipe-restart-model-'));
    try {
      await extractTarGz(path.join(dataDir, 's3', BUCKET, model), unpacked);
      assert.equal(fs.readFileSync(path.join(unpacked, 'bytes'), 'utf8').trim(), String(2 * objectBytes), 'the whole epoch, written after the restart');
    } finally {
      fs.rmSync(unpacked, { recursive: true, force: true });
    }

    const cut = await settled(names.writing);
    assert.equal(cut.TrainingJobStatus, 'Failed');
    assert.match(cut.FailureReason ?? '', /^ClientError: Data download failed for channel 'train': Epoch 0 of channel 'train' was cut short: sagebox stopped while streaming it/);
    const docker = await requireDocker();
    await eventually('the failed job\'s container stopped', async () => {
      const running = await docker.listContainers({ filters: { label: [`sagebox.resource=${names.writing}`] } });
      return running.length === 0 ? true : undefined;
    }, 30_000);
  });
});
