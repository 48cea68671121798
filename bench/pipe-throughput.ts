/**
 * Pipe-mode throughput: one 2 GiB channel (16 objects of 128 MiB) streamed
 * through `/opt/ml/input/data/train_0` by sagebox, from the embedded local
 * store and from s3rver, against `cat` of the same files into a FIFO, in the
 * same run. Goal: sagebox from the local store >= 0.8 of cat.
 *
 * Method. The reader is the same in every case: the sagebox-test/pipe-reader
 * container (PIPE_READER_HASH=none: a Python loop of 1 MiB reads, no
 * hashing), reading a FIFO in a bind-mounted directory. It reports the time
 * from opening the FIFO to EOF (`seconds` in its report.json), which is what
 * is compared; container start and job bookkeeping are outside it.
 * - cat: the benchmark creates the FIFO, runs the reader with `docker run`
 *   and `cat <the 16 files> > fifo` on the host.
 * - sagebox local: CreateTrainingJob in Pipe mode against a sagebox server
 *   (child process) whose local store holds the 16 files.
 * - sagebox s3rver: the same job against a server whose object store is
 *   s3rver (the files uploaded there first, untimed).
 * The sagebox server's peak resident memory (VmHWM) during its run is
 * printed next to its idle RSS.
 *
 * Page cache: the files were just written (warm) for every case alike;
 * s3rver reads its own copy, also warm.
 *
 * Knobs: BENCH_PIPE_GB (2), BENCH_ROUNDS (3; s3rver runs once),
 * BENCH_PIPE_S3RVER=0 to leave s3rver out.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { CreateTrainingJobCommand, DescribeTrainingJobCommand } from '@aws-sdk/client-sagemaker';
import { S3ObjectStore } from '../src/storage/s3-store';
import { startS3rver } from '../test/helpers/s3rver';
import { exec, fmt, header, median, requireImage, role, startSagebox, type Sagebox } from './lib';
import { createBucket, envNumber, fmtBytes, GiB, MiB, onCleanup, pollUntil, printReducedNote, tempDir, writeDataFile } from './lib-data';

const IMAGE = 'sagebox-test/pipe-reader:latest';
const OBJECTS = 16;
const BUCKET = 'bench-pipe';

interface Run {
  seconds: number;
  bytes: number;
  peakRssMiB?: number;
  idleRssMiB?: number;
}

const readerEnv = { PIPE_READER_EPOCHS: '1', PIPE_READER_HASH: 'none' };

async function main(): Promise<void> {
  const gb = envNumber('BENCH_PIPE_GB', 2);
  const rounds = envNumber('BENCH_ROUNDS', 3);
  const withS3rver = process.env.BENCH_PIPE_S3RVER !== '0';
  printReducedNote({ BENCH_PIPE_GB: [gb, 2], BENCH_ROUNDS: [rounds, 3] });
  await requireImage(IMAGE);
  const total = Math.floor((gb * GiB) / OBJECTS / MiB) * MiB * OBJECTS;
  header(`Pipe mode: ${fmtBytes(total)} in ${OBJECTS} objects through one FIFO`);

  const local = await startSagebox();
  const stopLocal = onCleanup(() => local.stop());
  try {
    await measure(local, rounds, withS3rver, total);
  } finally {
    await stopLocal();
  }
}

async function measure(local: Sagebox, rounds: number, withS3rver: boolean, total: number): Promise<void> {
  const bucketDir = await createBucket(local.url, local.dataDir, BUCKET);
  const files: string[] = [];
  for (let i = 0; i < OBJECTS; i++) {
    const f = path.join(bucketDir, 'data', `part-${String(i).padStart(2, '0')}.bin`);
    await writeDataFile(f, total / OBJECTS);
    files.push(f);
  }

  const cat: number[] = [];
  const sage: Run[] = [];
  for (let r = 0; r < rounds; r++) {
    // Alternate the order so neither side always runs right after the data was written.
    const order = r % 2 ? ['sagebox', 'cat'] : ['cat', 'sagebox'];
    for (const which of order) {
      if (which === 'cat') cat.push(await catRun(files, total));
      else sage.push(await sageboxRun(local, `local-${r}`, total, async (key) => fs.readFileSync(path.join(local.dataDir, 's3', BUCKET, key), 'utf8')));
    }
    console.log(`round ${r + 1}: cat ${fmt(mbps(total, cat[r]!))} MB/s, sagebox (local store) ${fmt(mbps(total, sage[r]!.seconds))} MB/s (ratio ${fmt(cat[r]! / sage[r]!.seconds)}), server RSS peak ${sage[r]!.peakRssMiB} MiB (idle ${sage[r]!.idleRssMiB} MiB)`);
  }

  let s3: Run | undefined;
  if (withS3rver) {
    const server = await startS3rver();
    const stopServer = onCleanup(() => server.stop());
    const store = new S3ObjectStore({ endpoint: server.endpoint, region: server.region, credentials: server.credentials, forcePathStyle: true });
    await store.ensureBucket(BUCKET);
    const t = performance.now();
    for (const f of files) await store.putFile(BUCKET, `data/${path.basename(f)}`, f);
    console.log(`(uploaded to s3rver in ${fmt((performance.now() - t) / 1000, 1)} s, untimed)`);
    const remote = await startSagebox({ objectStore: { type: 's3', endpoint: server.endpoint, region: server.region, accessKeyId: server.credentials.accessKeyId, secretAccessKey: server.credentials.secretAccessKey, forcePathStyle: true } });
    const stopRemote = onCleanup(() => remote.stop());
    try {
      s3 = await sageboxRun(remote, 's3rver', total, async (key) => (await buffer(await store.get(BUCKET, key))).toString('utf8'));
    } finally {
      await stopRemote();
      await stopServer();
    }
    console.log(`s3rver: sagebox ${fmt(mbps(total, s3.seconds))} MB/s, server RSS peak ${s3.peakRssMiB} MiB (idle ${s3.idleRssMiB} MiB)`);
  }

  const catMed = median(cat);
  const sageMed = median(sage.map((s) => s.seconds));
  header('Results (median over rounds; MB/s = 10^6 bytes/s)');
  console.log(`cat into a FIFO:           ${fmt(mbps(total, catMed))} MB/s`);
  const paired = median(sage.map((x, i) => cat[i]! / x.seconds));
  console.log(`sagebox, local store:      ${fmt(mbps(total, sageMed))} MB/s   ratio to cat ${fmt(catMed / sageMed)} (median of the rounds' own ratios ${fmt(paired)})  (goal >= 0.8)`);
  if (s3) console.log(`sagebox, s3rver:           ${fmt(mbps(total, s3.seconds))} MB/s   ratio to cat ${fmt(catMed / s3.seconds)}`);
  console.log(`server peak RSS (local):   ${Math.max(...sage.map((s) => s.peakRssMiB ?? 0))} MiB`);
}

const mbps = (bytes: number, seconds: number): number => bytes / 1e6 / seconds;

/** `cat` of the files into a FIFO read by the pipe-reader container; returns the reader's seconds. */
async function catRun(files: string[], total: number): Promise<number> {
  const { dir, remove } = tempDir('sagebox-bench-pipe-');
  try {
    for (const d of ['data', 'config', 'model']) fs.mkdirSync(path.join(dir, d));
    fs.writeFileSync(path.join(dir, 'config', 'inputdataconfig.json'), JSON.stringify({ train: { TrainingInputMode: 'Pipe', RecordWrapperType: 'None', S3DistributionType: 'FullyReplicated' } }));
    await exec('mkfifo', [path.join(dir, 'data', 'train_0')]);
    const writer = spawn('sh', ['-c', 'cat "$@" > "$0"', path.join(dir, 'data', 'train_0'), ...files], { stdio: 'inherit' });
    const wrote = new Promise<void>((resolve, reject) => writer.on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`cat exited ${c}`)))));
    await exec('docker', ['run', '--rm', ...Object.entries(readerEnv).flatMap(([k, v]) => ['-e', `${k}=${v}`]), '-v', `${dir}/data:/opt/ml/input/data`, '-v', `${dir}/config:/opt/ml/input/config:ro`, '-v', `${dir}/model:/opt/ml/model`, IMAGE, 'train']);
    await wrote;
    return readerSeconds(JSON.parse(fs.readFileSync(path.join(dir, 'model', 'report.json'), 'utf8')), total);
  } finally {
    await remove();
  }
}

async function sageboxRun(box: Sagebox, tag: string, total: number, read: (key: string) => Promise<string>): Promise<Run> {
  const name = `bench-pipe-${tag}-${Date.now()}`;
  const idle = rssMiB(box.proc.pid!, 'VmRSS');
  // VmHWM is the lifetime peak: reset it (Linux >= 4.0) so the peak is this run's.
  fs.writeFileSync(`/proc/${box.proc.pid}/clear_refs`, '5');
  await box.sagemaker.send(new CreateTrainingJobCommand({
    TrainingJobName: name,
    RoleArn: role,
    AlgorithmSpecification: { TrainingImage: IMAGE, TrainingInputMode: 'Pipe' },
    InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/data/` } } }],
    OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/out`, CompressionType: 'NONE' },
    ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 1 },
    StoppingCondition: { MaxRuntimeInSeconds: 3600 },
    Environment: readerEnv,
  }));
  await pollUntil(() => box.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: name })), (d) => d.TrainingJobStatus, { everyMs: 250, ok: 'Completed', what: name, reason: (d) => d.FailureReason });
  const peak = rssMiB(box.proc.pid!, 'VmHWM');
  const report = JSON.parse(await read(`out/${name}/output/model/report.json`));
  return { seconds: readerSeconds(report, total), bytes: total, peakRssMiB: peak, idleRssMiB: idle };
}

function readerSeconds(report: any, total: number): number {
  const e = report.channels.train[0];
  if (e.size !== total) throw new Error(`the reader got ${e.size} bytes, expected ${total}`);
  return e.seconds;
}

function rssMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
