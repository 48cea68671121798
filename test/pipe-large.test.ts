/**
 * A large Pipe-mode channel (5 GiB by default, SAGEBOX_PIPE_LARGE_GB to
 * change) streamed from the embedded store through one FIFO into the
 * pipe-reader container, which checks every byte (SHA-256). While it runs,
 * the sagebox process (in-process here, so this test process) must stay
 * within MEMORY_BOUND_MIB of resident memory above its level before the job,
 * and the job's work directory must never hold a copy of the data.
 *
 * The objects are sparse files written straight into the local store's
 * directory (the store keeps objects as plain files): mostly zeros with a
 * random 4 KiB block every 64 MiB, so a misplaced or repeated chunk changes
 * the hash, without writing gigabytes to disk first.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TestServer } from './helpers/server';
import { BUCKET, ROLE, createJob, jobLogs, jobName, settle, startTrainingServer } from './helpers/training';

const IMAGE = 'sagebox-test/pipe-reader:latest';
/** Resident memory the server may add while streaming (docs/pipe-mode.md). */
const MEMORY_BOUND_MIB = 200;
const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
const MARK_EVERY = 64 * MIB;
const OBJECT_BYTES = GIB;

let s: TestServer;
before(async () => {
  s = await startTrainingServer();
});
after(async () => s.stop());

/** Writes a sparse object file and returns what its bytes hash into (fed to `hash` in order). */
function sparseObject(file: string, size: number, hash: ReturnType<typeof createHash>): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'w');
  const zeros = Buffer.alloc(MARK_EVERY);
  try {
    fs.ftruncateSync(fd, size);
    for (let off = 0; off < size; off += MARK_EVERY) {
      const len = Math.min(MARK_EVERY, size - off);
      const mark = randomBytes(Math.min(4096, len));
      fs.writeSync(fd, mark, 0, mark.length, off);
      hash.update(mark);
      if (len > mark.length) hash.update(zeros.subarray(0, len - mark.length));
    }
  } finally {
    fs.closeSync(fd);
  }
}

function dirBytes(dir: string): number {
  let total = 0;
  const walk = (d: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) total += fs.statSync(p, { throwIfNoEntry: false })?.blocks ?? 0;
    }
  };
  walk(dir);
  return total * 512;
}

describe('Pipe mode, large channel', () => {
  it(`streams ${process.env.SAGEBOX_PIPE_LARGE_GB ?? 5} GiB with bounded memory and no copy on disk`, async (t) => {
    const total = Math.round(Number(process.env.SAGEBOX_PIPE_LARGE_GB ?? 5) * GIB);
    const name = jobName('pipe-large');
    const hash = createHash('sha256');
    const objects = Math.ceil(total / OBJECT_BYTES);
    const storeDir = path.join(s.dataDir, 's3', BUCKET, name, 'big');
    for (let i = 0; i < objects; i++) sparseObject(path.join(storeDir, `part-${i}.bin`), Math.min(OBJECT_BYTES, total - i * OBJECT_BYTES), hash);
    const expected = hash.digest('hex');
    try {
      global.gc?.();
      const baseline = process.memoryUsage().rss;
      let peak = baseline;
      let diskPeak = 0;
      const work = path.join(s.dataDir, 'jobs', 'training-job', name);
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
        diskPeak = Math.max(diskPeak, dirBytes(work));
      }, 100);
      const started = Date.now();
      try {
        await createJob(s, {
          TrainingJobName: name,
          RoleArn: ROLE,
          AlgorithmSpecification: { TrainingImage: IMAGE, TrainingInputMode: 'Pipe' },
          InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/${name}/big/` } } }],
          OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/out` },
          ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 1 },
          StoppingCondition: { MaxRuntimeInSeconds: 1800 },
          Environment: { PIPE_READER_EPOCHS: '1' },
        });
        const d = await settle(s, name, 1_500_000);
        assert.equal(d.TrainingJobStatus, 'Completed', d.FailureReason);
      } finally {
        clearInterval(sampler);
      }
      const line = [...jobLogs(s, name).values()].flat().find((l) => l.startsWith('PIPE-REPORT '));
      assert.ok(line, 'the reader reported');
      const e = JSON.parse(line.slice('PIPE-REPORT '.length)).channels.train[0];
      const grewMiB = Math.round((peak - baseline) / MIB);
      t.diagnostic(`${(total / GIB).toFixed(2)} GiB in ${e.seconds} s read time (${(total / 1e6 / e.seconds).toFixed(0)} MB/s), job ${((Date.now() - started) / 1000).toFixed(1)} s; RSS +${grewMiB} MiB over ${Math.round(baseline / MIB)} MiB; work directory peak ${(diskPeak / MIB).toFixed(1)} MiB`);
      assert.equal(e.size, total);
      assert.equal(e.sha256, expected, 'every byte, in order');
      assert.ok(grewMiB < MEMORY_BOUND_MIB, `resident memory grew by ${grewMiB} MiB (bound ${MEMORY_BOUND_MIB} MiB)`);
      assert.ok(diskPeak < 16 * MIB, `the job's work directory held ${diskPeak} bytes: no copy of the data`);
    } finally {
      fs.rmSync(storeDir, { recursive: true, force: true });
    }
  });
});
