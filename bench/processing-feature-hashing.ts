/**
 * Seed 004's feature-hashing job (examples/seed004-feature-hashing) on
 * 1,000,000 synthetic avazu rows (generate.py), end to end through sagebox,
 * against running the same script in the same image with `docker run` and
 * bind mounts, in the same run. Goal: sagebox at most 1.2x docker run.
 *
 * sagebox: CreateProcessingJob in the ScriptProcessor pattern (preprocess.py
 * is an input at /opt/ml/processing/input/code, ContainerEntrypoint
 * [python3, /opt/ml/processing/input/code/preprocess.py], the CSV an input at
 * /opt/ml/processing/input/data, train and validation outputs uploaded at
 * the end of the job), timed from the Create call until DescribeProcessingJob
 * (polled every 100 ms) says Completed: input staging, container, output
 * upload and the polling are all inside.
 * docker run: `docker run --rm` with the same entrypoint, the input CSV and
 * the code bind-mounted read-only from host directories and the two output
 * directories bind-mounted from the host, with the CPU and memory limits
 * sagebox gives the job's instance type (ml.m5.xlarge, capped to the
 * machine), timed around the command.
 * Both outputs are compared byte for byte (the script is deterministic), so
 * a job that did not do the work fails the benchmark. Rounds are interleaved
 * and alternate which side goes first; medians are compared.
 *
 * Knobs: BENCH_ROWS (1000000), BENCH_ROUNDS (3).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateProcessingJobCommand, DescribeProcessingJobCommand } from '@aws-sdk/client-sagemaker';
import { limitsFor } from '../src/contract/instance-types';
import { exec, fmt, header, median, requireImage, role, root, startSagebox, type Sagebox } from './lib';
import { createBucket, envNumber, fmtBytes, onCleanup, pollUntil, printReducedNote, syncFs, tempDir, timed } from './lib-data';

const IMAGE = 'sagebox-examples/seed004-feature-hashing:latest';
const EXAMPLE = path.join(root, 'examples', 'seed004-feature-hashing');
const ROWS = Math.round(envNumber('BENCH_ROWS', 1_000_000));
const ROUNDS = Math.round(envNumber('BENCH_ROUNDS', 3));
const INSTANCE = 'ml.m5.xlarge';
const BUCKET = 'bench-seed004';
const CODE = '/opt/ml/processing/input/code';

let seq = 0;

async function viaSagebox(sb: Sagebox, bucketDir: string): Promise<{ ms: number; train: string; validation: string }> {
  const name = `seed004-${Date.now()}-${seq++}`;
  await syncFs(sb.dataDir);
  const t = performance.now();
  await sb.sagemaker.send(new CreateProcessingJobCommand({
    ProcessingJobName: name,
    RoleArn: role,
    AppSpecification: { ImageUri: IMAGE, ContainerEntrypoint: ['python3', `${CODE}/preprocess.py`] },
    ProcessingResources: { ClusterConfig: { InstanceCount: 1, InstanceType: INSTANCE, VolumeSizeInGB: 30 } },
    StoppingCondition: { MaxRuntimeInSeconds: 3600 },
    ProcessingInputs: [
      { InputName: 'data', S3Input: { S3Uri: `s3://${BUCKET}/input/`, LocalPath: '/opt/ml/processing/input/data', S3DataType: 'S3Prefix', S3InputMode: 'File', S3DataDistributionType: 'FullyReplicated' } },
      { InputName: 'code', S3Input: { S3Uri: `s3://${BUCKET}/code/preprocess.py`, LocalPath: CODE, S3DataType: 'S3Prefix', S3InputMode: 'File', S3DataDistributionType: 'FullyReplicated' } },
    ],
    ProcessingOutputConfig: {
      Outputs: [
        { OutputName: 'train', S3Output: { S3Uri: `s3://${BUCKET}/output/${name}/train`, LocalPath: '/opt/ml/processing/output/train', S3UploadMode: 'EndOfJob' } },
        { OutputName: 'validation', S3Output: { S3Uri: `s3://${BUCKET}/output/${name}/validation`, LocalPath: '/opt/ml/processing/output/validation', S3UploadMode: 'EndOfJob' } },
      ],
    },
  }));
  await pollUntil(
    () => sb.sagemaker.send(new DescribeProcessingJobCommand({ ProcessingJobName: name })),
    (r) => r.ProcessingJobStatus,
    { everyMs: 100, ok: 'Completed', what: name, reason: (r) => r.FailureReason },
  );
  const ms = performance.now() - t;
  const out = path.join(bucketDir, 'output', name);
  return { ms, train: path.join(out, 'train', 'train_data'), validation: path.join(out, 'validation', 'validation_data') };
}

async function viaDocker(inputDir: string, codeDir: string, scratch: string): Promise<{ ms: number; train: string; validation: string }> {
  const out = path.join(scratch, `docker-out-${seq++}`);
  for (const d of ['train', 'validation']) fs.mkdirSync(path.join(out, d), { recursive: true, mode: 0o777 });
  const limits = limitsFor(INSTANCE, true);
  const args = ['run', '--rm'];
  if (limits.cpus) args.push('--cpus', String(limits.cpus));
  if (limits.memoryBytes) args.push('--memory', `${limits.memoryBytes}b`);
  args.push(
    '-v', `${inputDir}:/opt/ml/processing/input/data:ro`,
    '-v', `${codeDir}:${CODE}:ro`,
    '-v', `${out}/train:/opt/ml/processing/output/train`,
    '-v', `${out}/validation:/opt/ml/processing/output/validation`,
    '--entrypoint', 'python3', IMAGE, `${CODE}/preprocess.py`,
  );
  await syncFs(scratch);
  const ms = await timed('docker', args);
  return { ms, train: path.join(out, 'train', 'train_data'), validation: path.join(out, 'validation', 'validation_data') };
}

async function main(): Promise<void> {
  await requireImage(IMAGE);
  const host = tempDir('bench-seed004-');
  const inputDir = path.join(host.dir, 'input');
  const codeDir = path.join(host.dir, 'code');
  fs.mkdirSync(inputDir);
  fs.mkdirSync(codeDir);
  const csv = path.join(inputDir, 'train.csv');
  let t = performance.now();
  await exec('python3', [path.join(EXAMPLE, 'generate.py'), '--rows', String(ROWS), '--seed', '1', '-o', csv, '--quiet']);
  const csvBytes = fs.statSync(csv).size;
  process.stderr.write(`generated ${ROWS} rows (${fmtBytes(csvBytes)}) in ${fmt((performance.now() - t) / 1000, 1)} s\n`);
  fs.copyFileSync(path.join(EXAMPLE, 'code', 'preprocess.py'), path.join(codeDir, 'preprocess.py'));

  const sb = await startSagebox({ stopGraceSeconds: { jobs: 5, endpoints: 5 } });
  const stopServer = onCleanup(() => sb.stop());
  const sagebox: number[] = [];
  const docker: number[] = [];
  let outBytes = 0;
  try {
    // The inputs go straight into the embedded store's directory (plain files); the bucket through the API.
    const bucketDir = await createBucket(sb.url, sb.dataDir, BUCKET);
    fs.mkdirSync(path.join(bucketDir, 'input'));
    fs.mkdirSync(path.join(bucketDir, 'code'));
    fs.copyFileSync(csv, path.join(bucketDir, 'input', 'train.csv'));
    fs.copyFileSync(path.join(codeDir, 'preprocess.py'), path.join(bucketDir, 'code', 'preprocess.py'));
    const scratch = path.join(host.dir, 'scratch');
    fs.mkdirSync(scratch);
    for (let r = 0; r < ROUNDS; r++) {
      t = performance.now();
      let s: Awaited<ReturnType<typeof viaSagebox>>;
      let d: Awaited<ReturnType<typeof viaDocker>>;
      if (r % 2 === 0) {
        s = await viaSagebox(sb, bucketDir);
        d = await viaDocker(inputDir, codeDir, scratch);
      } else {
        d = await viaDocker(inputDir, codeDir, scratch);
        s = await viaSagebox(sb, bucketDir);
      }
      for (const k of ['train', 'validation'] as const) {
        try {
          await exec('cmp', ['-s', s[k], d[k]]);
        } catch {
          throw new Error(`the ${k} output of the sagebox job (${s[k]}) differs from docker run's (${d[k]})`);
        }
      }
      outBytes = fs.statSync(s.train).size + fs.statSync(s.validation).size;
      fs.rmSync(path.dirname(path.dirname(s.train)), { recursive: true, force: true });
      fs.rmSync(path.dirname(path.dirname(d.train)), { recursive: true, force: true });
      sagebox.push(s.ms);
      docker.push(d.ms);
      process.stderr.write(`round ${r + 1}/${ROUNDS}: sagebox ${fmt(s.ms, 0)} ms, docker run ${fmt(d.ms, 0)} ms\n`);
    }
  } finally {
    await stopServer();
    await host.remove();
  }
  header('seed 004 feature hashing: CreateProcessingJob end to end vs docker run with bind mounts');
  printReducedNote({ BENCH_ROWS: [ROWS, 1_000_000], BENCH_ROUNDS: [ROUNDS, 3] });
  console.log(`rows: ${ROWS} (${fmtBytes(csvBytes)} CSV in, ${fmtBytes(outBytes)} out); rounds: ${ROUNDS}; outputs identical on both sides; machine: ${os.cpus().length} cores`);
  console.log(`docker run median: ${fmt(median(docker), 0)} ms (per round ${docker.map((x) => fmt(x, 0)).join(', ')})`);
  console.log(`sagebox Create -> Completed median: ${fmt(median(sagebox), 0)} ms (per round ${sagebox.map((x) => fmt(x, 0)).join(', ')})`);
  console.log(`ratio (sagebox / docker run): ${fmt(median(sagebox) / median(docker))}x (goal <= 1.2x)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
