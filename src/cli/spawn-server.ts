/**
 * Starts the sagebox CLI (`sagebox up`) as a child process and resolves once
 * it prints its ready line. The demo, the benchmarks and the crash-recovery
 * tests (which kill -9 the server) all start servers this way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

export interface SpawnedServer {
  child: ChildProcess;
  url: string;
  /** What the server printed so far (stdout and stderr, the last 8 KB). */
  output(): string;
}

export interface SpawnOptions {
  dataDir: string;
  env?: NodeJS.ProcessEnv;
  /** Flags for the server's node (e.g. --cpu-prof). */
  nodeFlags?: string[];
  /** Forward the server's stderr to ours (the demo does). */
  inheritStderr?: boolean;
  timeoutMs?: number;
}

const BIN = path.join(__dirname, '..', '..', 'bin', 'sagebox.js');

export function spawnSagebox(opts: SpawnOptions): Promise<SpawnedServer> {
  const child = spawn(process.execPath, [...(opts.nodeFlags ?? []), BIN, 'up', '--port', '0', '--data-dir', opts.dataDir], {
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', opts.inheritStderr ? 'inherit' : 'pipe'],
  });
  let out = '';
  const keep = (b: Buffer): void => void (out = (out + b.toString()).slice(-8192));
  child.stderr?.on('data', keep);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sagebox did not get ready in time: ${out}`)), opts.timeoutMs ?? 60_000);
    child.stdout!.on('data', (b: Buffer) => {
      keep(b);
      const m = /sagebox ready on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, output: () => out });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sagebox exited with ${code} before it was ready: ${out}`));
    });
  });
}
