/** sagebox as a child process (`sagebox up` on a data directory), for crash tests that kill it with SIGKILL. */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { spawnSagebox } from '../../src/cli/spawn-server';
import { LocalObjectStore } from '../../src/storage/local-store';
import { REGION, TEST_CREDENTIALS } from './server';

export interface ChildServer {
  child: ChildProcess;
  url: string;
  sm: SageMakerClient;
}

/** Starts `sagebox up` on `dataDir`; resolves once it is ready, with a JS SDK client that does not retry. */
export async function upChild(dataDir: string): Promise<ChildServer> {
  const { child, url } = await spawnSagebox({ dataDir });
  const sm = new SageMakerClient({ endpoint: url, region: REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  return { child, url, sm };
}

/** SIGKILL, as a crash: nothing of sagebox's shutdown runs. */
export function kill9(s: ChildServer): Promise<void> {
  return stopChild(s, 'SIGKILL');
}

/** Sends `signal` (SIGTERM: an orderly shutdown) and waits for the process to exit. */
export async function stopChild(s: ChildServer, signal: NodeJS.Signals): Promise<void> {
  s.sm.destroy();
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill(signal);
  await exited;
}

/**
 * A data directory for crash tests' `sagebox up`: warn-level logs and a short
 * stop grace (config.json), and `bucket` made in its local store.
 */
export async function crashDataDir(prefix: string, bucket: string, graceSeconds = 3): Promise<{ dataDir: string; store: LocalObjectStore }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.writeFileSync(path.join(dataDir, 'config.json'), JSON.stringify({ stopGraceSeconds: { jobs: graceSeconds, endpoints: graceSeconds }, logLevel: 'warn' }));
  const store = new LocalObjectStore({ root: path.join(dataDir, 's3') });
  await store.ensureBucket(bucket);
  return { dataDir, store };
}
