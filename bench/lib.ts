/**
 * Shared pieces of the benchmarks: a sagebox server in a child process (so the
 * load generator does not share its event loop), clients, statistics.
 * Every benchmark prints ratios against a baseline measured in the same run.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { spawnSagebox } from '../src/cli/spawn-server';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';

export const exec = promisify(execFile);
export const root = path.resolve(__dirname, '..');
export const region = 'us-east-1';
export const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
export const role = 'arn:aws:iam::000000000000:role/bench';
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Sagebox {
  url: string;
  dataDir: string;
  sagemaker: SageMakerClient;
  runtime: SageMakerRuntimeClient;
  proc: ChildProcess;
  stop(): Promise<void>;
}

export async function startSagebox(extraConfig: Record<string, unknown> = {}): Promise<Sagebox> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sagebox-bench-'));
  if (Object.keys(extraConfig).length) fs.writeFileSync(path.join(dataDir, 'config.json'), JSON.stringify(extraConfig));
  // BENCH_SERVER_NODE_FLAGS (e.g. --cpu-prof) go to the server process, for profiling.
  const nodeFlags = (process.env.BENCH_SERVER_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const { child: proc, url } = await spawnSagebox({ dataDir, nodeFlags, env: { ...process.env, SAGEBOX_LOG_LEVEL: process.env.BENCH_SERVER_LOG_LEVEL ?? 'warn' }, inheritStderr: true });
  // BENCH_SERVER_LOG=<file> keeps the server's log lines (with BENCH_SERVER_LOG_LEVEL=info: per-phase timings).
  const logFile = process.env.BENCH_SERVER_LOG;
  if (logFile) proc.stdout?.on('data', (b: Buffer) => fs.appendFileSync(logFile, b));
  const sagemaker = new SageMakerClient({ endpoint: url, region, credentials });
  const runtime = new SageMakerRuntimeClient({ endpoint: url, region, credentials, maxAttempts: 1 });
  return {
    url,
    dataDir,
    sagemaker,
    runtime,
    proc,
    async stop() {
      sagemaker.destroy();
      runtime.destroy();
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

export const fmt = (n: number, digits = 2): string => n.toFixed(digits);

/** Fails clearly when Docker or an image the benchmark needs is missing. */
export async function requireImage(image: string): Promise<void> {
  try {
    await exec('docker', ['image', 'inspect', image]);
  } catch {
    throw new Error(`image ${image} is missing: run bash scripts/build-test-images.sh first (npm run bench does)`);
  }
}

export function header(title: string): void {
  console.log(`\n### ${title}`);
}
