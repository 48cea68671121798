/**
 * File-mode staging of a training channel: 1 GiB as one object, and
 * separately as 2,000 objects (~512 KiB each, 1 GiB in total), from
 * CreateTrainingJob until the container has started, against `cp -r` of the
 * same files from the store directory to a fresh directory, in the same run.
 * Goal: staging close to a plain recursive copy (ratio near 1; no threshold
 * was set for this one, the ratio is reported).
 *
 * Method. What sagebox adds for the data is isolated by difference, from
 * the server's own timestamps (millisecond precision, so the client's 100 ms
 * polling does not blur them): for each job, "to start" = the StartTime of
 * its 'Training' SecondaryStatusTransition (written right after the
 * container's start call returns) minus its CreationTime. A no-op job (same
 * image, no channels) measured in the same round gives the fixed part
 * (request, work directory, config files, container create and start), so
 *     staging = to start(data job) - to start(no-op job)
 * and the ratio printed is staging / cp -r, medians over the rounds. The
 * Create -> Completed times seen by the polling client are printed too.
 * The container of a data job checks the file count and the total size it
 * was given, so a job that staged the wrong data fails the benchmark.
 *
 * Page cache: not dropped (a shared machine), for both sides alike: the
 * source files were just written, so every copy reads warm files. Each copy
 * lands on the same file system as the store (the job's work directory is
 * under the data directory, and so is cp's destination); dirty pages are
 * flushed (`sync -f`, untimed) before every timed step, and the order of
 * sagebox and cp alternates between rounds.
 *
 * The difference carries the noise of two container starts (hundreds of ms
 * on a loaded machine): the per-round range is printed, and at reduced sizes
 * (BENCH_GB=0.1) the noise can exceed the staging time itself.
 *
 * Knobs: BENCH_GB (1), BENCH_SMALL_FILES (2000), BENCH_ROUNDS (5).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { CreateTrainingJobCommand, DescribeTrainingJobCommand, type DescribeTrainingJobCommandOutput } from '@aws-sdk/client-sagemaker';
import { fmt, header, median, requireImage, role, startSagebox, type Sagebox } from './lib';
import { createBucket, envNumber, fmtBytes, GiB, MiB, onCleanup, pollUntil, printReducedNote, syncFs, timed, waitGone, writeDataFile } from './lib-data';

const IMAGE = 'sagebox/base:bookworm';
const GB = envNumber('BENCH_GB', 1);
const SMALL_FILES = Math.round(envNumber('BENCH_SMALL_FILES', 2000));
const ROUNDS = Math.round(envNumber('BENCH_ROUNDS', 5));
const BUCKET = 'bench-staging';

interface DataSet {
  label: string;
  prefix: string;
  files: number;
  bytes: number;
}

interface JobTimes {
  /** CreationTime -> 'Training' transition start (server clock). */
  toStart: number;
  /** Create call -> Completed seen by the client. */
  toCompleted: number;
}

let seq = 0;

async function runJob(sb: Sagebox, data: DataSet | undefined): Promise<JobTimes> {
  const name = `staging-${data ? data.prefix : 'noop'}-${Date.now()}-${seq++}`;
  const dir = '/opt/ml/input/data/train';
  // Fails the job unless exactly the expected files and bytes arrived.
  const check = data
    ? `n=$(find ${dir} -type f | wc -l); b=$(find ${dir} -type f -printf '%s\\n' | awk '{s+=$1} END {printf "%d", s}'); ` +
      `[ "$n" = ${data.files} ] && [ "$b" = ${data.bytes} ] || { echo "got $n files, $b bytes" >&2; exit 1; }`
    : 'true';
  await syncFs(sb.dataDir);
  const t = performance.now();
  await sb.sagemaker.send(new CreateTrainingJobCommand({
    TrainingJobName: name,
    RoleArn: role,
    AlgorithmSpecification: { TrainingImage: IMAGE, TrainingInputMode: 'File', ContainerEntrypoint: ['sh', '-c', check] },
    InputDataConfig: data
      ? [{ ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/${data.prefix}/`, S3DataDistributionType: 'FullyReplicated' } } }]
      : undefined,
    OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/output` },
    ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: Math.max(1, Math.ceil(GB * 2)) },
    StoppingCondition: { MaxRuntimeInSeconds: 3600 },
  }));
  const d: DescribeTrainingJobCommandOutput = await pollUntil(
    () => sb.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: name })),
    (r) => r.TrainingJobStatus,
    { everyMs: 100, ok: 'Completed', what: name, reason: (r) => r.FailureReason },
  );
  const toCompleted = performance.now() - t;
  const training = d.SecondaryStatusTransitions?.find((s) => s.Status === 'Training');
  if (!training?.StartTime || !d.CreationTime) throw new Error(`${name}: no Training transition in ${JSON.stringify(d.SecondaryStatusTransitions)}`);
  // The job's work directory (a staged copy) is removed after Completed: wait, so it does not overlap the next step.
  await waitGone(path.join(sb.dataDir, 'jobs', 'training', name));
  return { toStart: training.StartTime.getTime() - d.CreationTime.getTime(), toCompleted };
}

async function cpR(src: string, scratch: string): Promise<number> {
  const dest = path.join(scratch, `cp-${seq++}`);
  await syncFs(scratch);
  const ms = await timed('cp', ['-r', src, dest]);
  fs.rmSync(dest, { recursive: true, force: true });
  return ms;
}

async function main(): Promise<void> {
  await requireImage(IMAGE);
  const total = Math.round(GB * GiB);
  const sets: DataSet[] = [
    { label: `1 object of ${fmtBytes(total)}`, prefix: 'big', files: 1, bytes: total },
    { label: `${SMALL_FILES} objects, ${fmtBytes(total)} in total`, prefix: 'small', files: SMALL_FILES, bytes: 0 },
  ];
  const sb = await startSagebox({ stopGraceSeconds: { jobs: 5, endpoints: 5 } });
  const stopServer = onCleanup(() => sb.stop());
  const noop: JobTimes[] = [];
  const jobs = new Map<string, JobTimes[]>(sets.map((s) => [s.prefix, []]));
  const cps = new Map<string, number[]>(sets.map((s) => [s.prefix, []]));
  try {
    // Inputs written straight into the embedded store's directory (it lists plain files); the bucket through the API.
    const bucketDir = await createBucket(sb.url, sb.dataDir, BUCKET);
    const block = randomBytes(4 * MiB);
    await writeDataFile(path.join(bucketDir, 'big', 'data.bin'), total, block);
    const each = Math.floor(total / SMALL_FILES);
    let small = 0;
    for (let i = 0; i < SMALL_FILES; i++) {
      const size = i === SMALL_FILES - 1 ? total - each * (SMALL_FILES - 1) : each;
      const dir = path.join(bucketDir, 'small');
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `part-${String(i).padStart(5, '0')}.bin`), block.subarray(0, Math.min(size, block.length)));
      if (size > block.length) throw new Error('BENCH_SMALL_FILES too small for 4 MiB files');
      small += size;
    }
    sets[1]!.bytes = small;
    const scratch = path.join(sb.dataDir, 'cp-scratch');
    fs.mkdirSync(scratch);

    // Warm-up: image, first container, first staging.
    await runJob(sb, undefined);
    await runJob(sb, sets[1]);
    for (let r = 0; r < ROUNDS; r++) {
      noop.push(await runJob(sb, undefined));
      for (const s of sets) {
        const src = path.join(bucketDir, s.prefix);
        if (r % 2 === 0) {
          jobs.get(s.prefix)!.push(await runJob(sb, s));
          cps.get(s.prefix)!.push(await cpR(src, scratch));
        } else {
          cps.get(s.prefix)!.push(await cpR(src, scratch));
          jobs.get(s.prefix)!.push(await runJob(sb, s));
        }
      }
      process.stderr.write(`round ${r + 1}/${ROUNDS} done\n`);
    }
  } finally {
    await stopServer();
  }

  header('File-mode staging of a training channel vs cp -r');
  printReducedNote({ BENCH_GB: [GB, 1], BENCH_SMALL_FILES: [SMALL_FILES, 2000], BENCH_ROUNDS: [ROUNDS, 5] });
  console.log(`rounds: ${ROUNDS}; page cache warm (not dropped) for both; medians`);
  const noopStart = median(noop.map((j) => j.toStart));
  console.log(`no-op job: Create -> container started ${fmt(noopStart, 0)} ms, Create -> Completed ${fmt(median(noop.map((j) => j.toCompleted)), 0)} ms`);
  console.log('| data | job: Create -> started ms | job: Create -> Completed ms | staging (minus no-op) ms | cp -r ms | ratio staging / cp -r |');
  console.log('|---|---|---|---|---|---|');
  const lines: string[] = [];
  for (const s of sets) {
    const js = jobs.get(s.prefix)!;
    // Paired per round: each data job against the no-op job of its own round.
    const perRound = js.map((j, i) => j.toStart - noop[i]!.toStart);
    const staging = median(perRound);
    const cp = median(cps.get(s.prefix)!);
    console.log(`| ${s.label} | ${fmt(median(js.map((j) => j.toStart)), 0)} | ${fmt(median(js.map((j) => j.toCompleted)), 0)} | ${fmt(staging, 0)} | ${fmt(cp, 0)} | ${fmt(staging / cp)}x |`);
    lines.push(`${s.label}: staging ${fmt(staging, 0)} ms (${fmt(s.bytes / MiB / (staging / 1000), 0)} MiB/s) vs cp -r ${fmt(cp, 0)} ms (${fmt(s.bytes / MiB / (cp / 1000), 0)} MiB/s): ratio ${fmt(staging / cp)}x; staging per round ${perRound.map((x) => fmt(x, 0)).join(', ')} ms, cp -r per round ${cps.get(s.prefix)!.map((x) => fmt(x, 0)).join(', ')} ms`);
  }
  for (const l of lines) console.log(l);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
