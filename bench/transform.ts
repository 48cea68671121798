/**
 * Batch transform of a 1 GiB line-split CSV (one object) through sagebox,
 * against a plain client doing the same work directly, in the same run.
 * Goal: sagebox's throughput at least 0.9x the direct client's.
 *
 * sagebox: CreateTransformJob on the fastserve container (C echo server),
 * BatchStrategy MultiRecord, MaxPayloadInMB 6, MaxConcurrentTransforms 4,
 * SplitType Line, AssembleWith Line, ContentType/Accept text/csv, timed from
 * the Create call until DescribeTransformJob (polled every 100 ms) says
 * Completed: container start and /ping, reading and splitting the object,
 * the requests, writing the output and uploading it are all inside.
 * direct: `docker run -d` of the same image with the limits sagebox gives
 * the instance type (ml.m5.large, capped to the machine), /ping polled until
 * 200, then an undici Pool (4 connections) POSTs the same batches to the
 * container's /invocations with 4 in flight, writing the responses in input
 * order to an output file (a newline added after a response that lacks one,
 * as AssembleWith Line does), then `docker stop`; timed from `docker run` to
 * the container stopped. Batches: the input is read 6 MiB (6 x 2^20 bytes)
 * at a time and cut after the last whole line, which is exactly sagebox's
 * greedy MultiRecord packing of whole lines within MaxPayloadInMB.
 * Both outputs are compared with the input (the container echoes, so each
 * must equal it byte for byte; untimed). Rounds are interleaved, the order
 * alternates; throughput = input bytes / median time.
 *
 * Knobs: BENCH_GB (1), BENCH_ROUNDS (3).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Pool } from 'undici';
import { CreateModelCommand, CreateTransformJobCommand, DescribeTransformJobCommand } from '@aws-sdk/client-sagemaker';
import { limitsFor } from '../src/contract/instance-types';
import { exec, fmt, header, median, requireImage, role, sleep, startSagebox, type Sagebox } from './lib';
import { createBucket, envNumber, fmtBytes, GiB, MiB, onCleanup, pollUntil, printReducedNote, syncFs } from './lib-data';

const IMAGE = 'sagebox-test/fastserve:latest';
const GB = envNumber('BENCH_GB', 1);
const ROUNDS = Math.round(envNumber('BENCH_ROUNDS', 3));
const INSTANCE = 'ml.m5.large';
const MAX_PAYLOAD_MB = 6;
const CONCURRENCY = 4;
const BUCKET = 'bench-transform';
const MODEL = 'bench-fastserve';
const NEWLINE = 10;

/** Writes `bytes` (rounded down to whole lines) of CSV lines of varied length; returns the size written. */
async function writeCsv(file: string, bytes: number): Promise<number> {
  // One 16 MiB block of rows (5 to 40 numeric cells), repeated: line lengths vary from ~30 to ~400 bytes.
  let x = 12345;
  const rnd = (): number => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) / (1 << 24);
  const lines: string[] = [];
  let blockSize = 0;
  while (blockSize < 16 * MiB) {
    const cells = 5 + Math.floor(rnd() * 36);
    const row: string[] = [];
    for (let c = 0; c < cells; c++) row.push((rnd() * 2000 - 1000).toFixed(1 + Math.floor(rnd() * 5)));
    const line = row.join(',') + '\n';
    lines.push(line);
    blockSize += line.length;
  }
  const block = Buffer.from(lines.join(''));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fh = await fs.promises.open(file, 'w');
  let written = 0;
  try {
    while (written < bytes) {
      let n = Math.min(bytes - written, block.length);
      if (n < block.length) n = block.lastIndexOf(NEWLINE, n - 1) + 1;
      if (n <= 0) break;
      await fh.write(block, 0, n);
      written += n;
    }
  } finally {
    await fh.close();
  }
  return written;
}

let seq = 0;

async function viaSagebox(sb: Sagebox, bucketDir: string, inputBytes: number): Promise<{ ms: number; out: string; phases: string }> {
  const name = `transform-${Date.now()}-${seq++}`;
  await syncFs(sb.dataDir);
  const t = performance.now();
  await sb.sagemaker.send(new CreateTransformJobCommand({
    TransformJobName: name,
    ModelName: MODEL,
    BatchStrategy: 'MultiRecord',
    MaxPayloadInMB: MAX_PAYLOAD_MB,
    MaxConcurrentTransforms: CONCURRENCY,
    TransformInput: { DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/input/` } }, ContentType: 'text/csv', SplitType: 'Line', CompressionType: 'None' },
    TransformOutput: { S3OutputPath: `s3://${BUCKET}/output/${name}`, Accept: 'text/csv', AssembleWith: 'Line' },
    TransformResources: { InstanceType: INSTANCE, InstanceCount: 1 },
  }));
  const d = await pollUntil(
    () => sb.sagemaker.send(new DescribeTransformJobCommand({ TransformJobName: name })),
    (r) => r.TransformJobStatus,
    { everyMs: 100, ok: 'Completed', what: name, reason: (r) => r.FailureReason, timeoutMs: Math.max(600_000, (inputBytes / MiB) * 2000) },
  );
  const ms = performance.now() - t;
  // The server's own timestamps, for where the time went (TransformStartTime: containers created).
  const c = d.CreationTime?.getTime() ?? 0;
  const st = d.TransformStartTime?.getTime() ?? c;
  const en = d.TransformEndTime?.getTime() ?? st;
  const phases = `Creation -> TransformStartTime ${fmt(st - c, 0)} ms, -> TransformEndTime ${fmt(en - st, 0)} ms`;
  return { ms, out: path.join(bucketDir, 'output', name, 'data.csv.out'), phases };
}

/** The direct client: the same batches, 4 in flight, responses written in order. */
async function sendAll(origin: string, input: string, output: string): Promise<void> {
  const limit = MAX_PAYLOAD_MB * MiB;
  const size = fs.statSync(input).size;
  const src = await fs.promises.open(input, 'r');
  const dst = await fs.promises.open(output, 'w');
  const pool = new Pool(origin, { connections: CONCURRENCY, pipelining: 1 });
  let pos = 0;
  let nextIndex = 0;
  // Reads are serialised: each batch is the next 6 MiB cut after its last whole line.
  let reading: Promise<unknown> = Promise.resolve();
  const nextBatch = (): Promise<{ index: number; body: Buffer } | undefined> => {
    const p = reading.then(async () => {
      if (pos >= size) return undefined;
      const buf = Buffer.allocUnsafe(Math.min(limit, size - pos));
      const { bytesRead } = await src.read(buf, 0, buf.length, pos);
      let n = bytesRead;
      if (pos + bytesRead < size) {
        n = buf.lastIndexOf(NEWLINE, bytesRead - 1) + 1;
        if (n <= 0) throw new Error(`a line at offset ${pos} is longer than ${limit} bytes`);
      }
      pos += n;
      return { index: nextIndex++, body: buf.subarray(0, n) };
    });
    reading = p.catch(() => undefined);
    return p;
  };
  const done = new Map<number, Buffer>();
  let toWrite = 0;
  let writing: Promise<void> = Promise.resolve();
  const flush = (): void => {
    while (done.has(toWrite)) {
      const b = done.get(toWrite)!;
      done.delete(toWrite);
      toWrite++;
      const parts = b.length > 0 && b[b.length - 1] === NEWLINE ? [b] : [b, Buffer.from('\n')];
      writing = writing.then(async () => {
        for (const part of parts) await dst.write(part);
      });
    }
  };
  const worker = async (): Promise<void> => {
    for (;;) {
      const batch = await nextBatch();
      if (!batch) return;
      const r = await pool.request({ method: 'POST', path: '/invocations', headers: { 'content-type': 'text/csv', accept: 'text/csv' }, body: batch.body });
      const chunks: Buffer[] = [];
      for await (const c of r.body) chunks.push(c as Buffer);
      if (r.statusCode !== 200) throw new Error(`batch ${batch.index}: HTTP ${r.statusCode}`);
      done.set(batch.index, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      flush();
    }
  };
  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await writing;
  } finally {
    await pool.close();
    await src.close();
    await dst.close();
  }
}

async function direct(input: string, scratch: string): Promise<{ ms: number; out: string }> {
  const out = path.join(scratch, `direct-${seq++}.out`);
  const name = `bench-transform-direct-${process.pid}-${seq++}`;
  const limits = limitsFor(INSTANCE, true);
  const args = ['run', '-d', '--rm', '--name', name];
  if (limits.cpus) args.push('--cpus', String(limits.cpus));
  if (limits.memoryBytes) args.push('--memory', `${limits.memoryBytes}b`);
  args.push(IMAGE, 'serve');
  const removeContainer = onCleanup(async () => void (await exec('docker', ['rm', '-f', name]).catch(() => undefined)));
  await syncFs(scratch);
  const t = performance.now();
  try {
    await exec('docker', args);
    const ip = (await exec('docker', ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', name])).stdout.trim();
    const origin = `http://${ip}:8080`;
    for (let i = 0; ; i++) {
      const ok = await fetch(`${origin}/ping`).then((r) => r.status === 200, () => false);
      if (ok) break;
      if (i > 600) throw new Error('the direct container never answered /ping');
      await sleep(50);
    }
    await sendAll(origin, input, out);
    await exec('docker', ['stop', '-t', '5', name]);
    return { ms: performance.now() - t, out };
  } finally {
    await removeContainer();
  }
}

async function main(): Promise<void> {
  await requireImage(IMAGE);
  const sb = await startSagebox({ stopGraceSeconds: { jobs: 5, endpoints: 5 } });
  const stopServer = onCleanup(() => sb.stop());
  const viaSb: number[] = [];
  const viaDirect: number[] = [];
  const phases: string[] = [];
  let bytes = 0;
  try {
    const bucketDir = await createBucket(sb.url, sb.dataDir, BUCKET);
    const input = path.join(bucketDir, 'input', 'data.csv');
    bytes = await writeCsv(input, Math.round(GB * GiB));
    const scratch = path.join(sb.dataDir, 'direct-scratch');
    fs.mkdirSync(scratch);
    await sb.sagemaker.send(new CreateModelCommand({ ModelName: MODEL, ExecutionRoleArn: role, PrimaryContainer: { Image: IMAGE } }));
    for (let r = 0; r < ROUNDS; r++) {
      const results: Array<[string, { ms: number; out: string; phases?: string }]> = [];
      for (const side of r % 2 === 0 ? ['sagebox', 'direct'] : ['direct', 'sagebox']) {
        results.push([side, side === 'sagebox' ? await viaSagebox(sb, bucketDir, bytes) : await direct(input, scratch)]);
      }
      for (const [side, res] of results) {
        try {
          await exec('cmp', ['-s', input, res.out]);
        } catch {
          throw new Error(`${side}: the output ${res.out} differs from the input (the echo container returns its input)`);
        }
        fs.rmSync(side === 'sagebox' ? path.dirname(res.out) : res.out, { recursive: true, force: true });
        (side === 'sagebox' ? viaSb : viaDirect).push(res.ms);
        if (res.phases) phases.push(res.phases);
      }
      process.stderr.write(`round ${r + 1}/${ROUNDS}: sagebox ${fmt(viaSb[r]!, 0)} ms, direct ${fmt(viaDirect[r]!, 0)} ms\n`);
    }
  } finally {
    await stopServer();
  }
  header(`batch transform of ${fmtBytes(bytes)} CSV (MultiRecord 6 MB, 4 in flight, Line/Line, fastserve) vs a direct client`);
  printReducedNote({ BENCH_GB: [GB, 1], BENCH_ROUNDS: [ROUNDS, 3] });
  const s = median(viaSb);
  const d = median(viaDirect);
  const rate = (ms: number): number => bytes / MiB / (ms / 1000);
  console.log(`rounds: ${ROUNDS}; medians; outputs equal to the input on both sides`);
  console.log(`direct (docker run -> batches -> docker stop): ${fmt(d, 0)} ms, ${fmt(rate(d), 0)} MiB/s (per round ${viaDirect.map((x) => fmt(x, 0)).join(', ')})`);
  console.log(`sagebox CreateTransformJob -> Completed: ${fmt(s, 0)} ms, ${fmt(rate(s), 0)} MiB/s (per round ${viaSb.map((x) => fmt(x, 0)).join(', ')})`);
  console.log(`sagebox server timestamps per round: ${phases.join('; ')}`);
  console.log(`throughput ratio (sagebox / direct): ${fmt(rate(s) / rate(d))} (goal >= 0.9)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
