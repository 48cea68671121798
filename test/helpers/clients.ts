import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as fs from 'node:fs';

const run = promisify(execFile);
export const AWS_CLI = '/usr/bin/aws';
export const PYTHON = '/usr/bin/python3';

/** Runs AWS CLI v2 (Debian's awscli) with JSON output; rejects with its stderr on failure. */
export async function awsCli(env: NodeJS.ProcessEnv, args: string[]): Promise<{ stdout: string; stderr: string; json?: any }> {
  if (!fs.existsSync(AWS_CLI)) throw new Error(`${AWS_CLI} is missing: install Debian's awscli (apt-get install -y awscli; .ci/run does it)`);
  // CLI v2.9 (Debian's) predates AWS_ENDPOINT_URL (2.13): pass it as a flag.
  const endpoint = env.AWS_ENDPOINT_URL && !args.includes('--endpoint-url') ? ['--endpoint-url', env.AWS_ENDPOINT_URL] : [];
  const r = await run(AWS_CLI, ['--output', 'json', ...endpoint, ...args], { env, maxBuffer: 64 * 1024 * 1024 });
  let json: unknown;
  try {
    json = r.stdout.trim() ? JSON.parse(r.stdout) : undefined;
  } catch {
    json = undefined;
  }
  return { stdout: r.stdout, stderr: r.stderr, json };
}

/** Runs a Python script with Debian's python3 and its boto3. */
export async function boto3(env: NodeJS.ProcessEnv, script: string, args: string[] = []): Promise<{ stdout: string; stderr: string }> {
  if (!fs.existsSync(PYTHON)) throw new Error(`${PYTHON} is missing`);
  try {
    await run(PYTHON, ['-c', 'import boto3'], { env });
  } catch {
    throw new Error(`boto3 is missing for ${PYTHON}: install Debian's python3-boto3 (apt-get install -y python3-boto3; .ci/run does it)`);
  }
  return run(PYTHON, ['-c', script, ...args], { env, maxBuffer: 64 * 1024 * 1024 });
}
