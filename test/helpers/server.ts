/**
 * Starts sagebox in-process on a free port with a temporary data directory,
 * and hands out real AWS SDK clients pointed at it.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { App } from '../../src/app/app';
import { loadConfig, type Config } from '../../src/config/config';

export const TEST_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
export const REGION = 'us-east-1';

export interface TestServer {
  app: App;
  url: string;
  port: number;
  dataDir: string;
  sagemaker: SageMakerClient;
  /** Environment for child processes (aws CLI, boto3) pointed at this server. */
  clientEnv: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export async function startServer(overrides: Partial<Config> & Record<string, unknown> = {}): Promise<TestServer> {
  const dataDir = (overrides.dataDir as string | undefined) ?? fs.mkdtempSync(path.join(os.tmpdir(), 'sagebox-test-'));
  // 'sbt-' marks test servers (scripts/test.sh removes what a killed run left behind); derived from the
  // data directory, so a server restarted on the same directory recognises its containers.
  const instanceId = `sbt-${createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 12)}`;
  const config = loadConfig({ port: 0, dataDir, instanceId, ...overrides }, {});
  const logger = pino({ level: process.env.SAGEBOX_TEST_LOG ?? 'warn' });
  const app = new App(config, { logger });
  const { url, port } = await app.start();
  const sagemaker = new SageMakerClient({ endpoint: url, region: REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  const clientEnv: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_DEFAULT_REGION: REGION,
    AWS_REGION: REGION,
    AWS_ENDPOINT_URL: url,
    AWS_PAGER: '',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
  return {
    app,
    url,
    port,
    dataDir,
    sagemaker,
    clientEnv,
    async stop() {
      sagemaker.destroy();
      await app.stop();
    },
  };
}

/** Fails with a clear message when a client binary the test needs is missing (tests never skip). */
export function requireBinary(bin: string, hint: string): void {
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: ${hint}`);
}
