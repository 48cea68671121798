/**
 * sagebox's settings, parsed and validated once at start-up from (lowest to
 * highest precedence) defaults, `<dataDir>/config.json` or --config, SAGEBOX_*
 * environment variables and command-line flags. Nothing reads process.env later.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';

export const DEFAULT_PORT = 4780;
export const DEFAULT_CREDENTIALS = [{ accessKeyId: 'test', secretAccessKey: 'test' }];

const credential = z.object({
  accessKeyId: z.string().min(1),
  secretAccessKey: z.string().min(1),
  /** Limit the key to these signing names (e.g. ["s3", "sts"]); default: every service. */
  services: z.array(z.string().min(1)).optional(),
});

const objectStore = z.discriminatedUnion('type', [
  z.object({ type: z.literal('local') }),
  z.object({
    type: z.literal('s3'),
    endpoint: z.string().url().optional(),
    region: z.string().default('us-east-1'),
    accessKeyId: z.string().optional(),
    secretAccessKey: z.string().optional(),
    forcePathStyle: z.boolean().default(true),
  }),
]);

export const configSchema = z.object({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(DEFAULT_PORT),
  dataDir: z.string().default('.sagebox'),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as us-east-1').default('us-east-1'),
  accountId: z.string().regex(/^\d{12}$/, 'a 12-digit account id').default('000000000000'),
  credentials: z.array(credential).min(1).default(DEFAULT_CREDENTIALS),
  objectStore: objectStore.default({ type: 'local' }),
  /** The S3 API over the embedded store (docs/s3.md). */
  s3: z
    .object({
      /** Virtual-host addressing: a Host of `<bucket>.<baseDomain>[:port]` names the bucket. '' turns it off. */
      baseDomain: z.string().default('s3.localhost'),
    })
    .default({ baseDomain: 's3.localhost' }),
  /**
   * A second listener serving only S3 and STS where containers can reach it:
   * host 'auto' = the Docker bridge gateway (docker0's address), an IPv4
   * address, or 'off'; port defaults to the main port.
   */
  containerAccess: z
    .object({
      host: z.string().default('auto'),
      port: z.number().int().min(0).max(65535).optional(),
    })
    .default({ host: 'auto' }),
  docker: z.object({ socketPath: z.string().default('/var/run/docker.sock') }).default({ socketPath: '/var/run/docker.sock' }),
  /** Map ml.* instance types to CPU/memory limits (docs/instance-types.md). */
  enforceInstanceLimits: z.boolean().default(true),
  /** Identifies this server's containers (labels) so several sageboxes can share one engine. */
  instanceId: z.string().regex(/^[a-z0-9-]{1,40}$/).optional(),
  /** Largest control-plane request body, in bytes. */
  maxRequestBytes: z.number().int().positive().default(8 * 1024 * 1024),
  logRetentionDays: z.number().int().min(0).default(0),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Serve /metrics without authentication (default: same SigV4 auth as the API). */
  metricsPublic: z.boolean().default(false),
  /** Grace periods before SIGKILL, in seconds (SageMaker: 120 for jobs, 30 for endpoints). */
  stopGraceSeconds: z.object({ jobs: z.number().min(0).default(120), endpoints: z.number().min(0).default(30) }).default({ jobs: 120, endpoints: 30 }),
});

export type Config = z.infer<typeof configSchema> & { instanceId: string; dataDir: string };

export class ConfigError extends Error {}

function fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (env.SAGEBOX_HOST) out.host = env.SAGEBOX_HOST;
  if (env.SAGEBOX_PORT) out.port = Number(env.SAGEBOX_PORT);
  if (env.SAGEBOX_DATA_DIR) out.dataDir = env.SAGEBOX_DATA_DIR;
  if (env.SAGEBOX_REGION) out.region = env.SAGEBOX_REGION;
  if (env.SAGEBOX_ACCOUNT_ID) out.accountId = env.SAGEBOX_ACCOUNT_ID;
  if (env.SAGEBOX_LOG_LEVEL) out.logLevel = env.SAGEBOX_LOG_LEVEL;
  if (env.SAGEBOX_DOCKER_SOCKET) out.docker = { socketPath: env.SAGEBOX_DOCKER_SOCKET };
  return out;
}

/**
 * Builds the configuration. `overrides` are the command-line flags (or a
 * test's settings); they win over everything else.
 */
export function loadConfig(overrides: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = process.env, configFile?: string): Config {
  const envPart = fromEnv(env);
  const dataDir = String(overrides.dataDir ?? envPart.dataDir ?? '.sagebox');
  const file = configFile ?? path.join(dataDir, 'config.json');
  let filePart: Record<string, unknown> = {};
  if (fs.existsSync(file)) {
    try {
      filePart = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new ConfigError(`${file} is not valid JSON: ${(e as Error).message}`);
    }
  } else if (configFile) {
    throw new ConfigError(`config file ${configFile} does not exist`);
  }
  const merged = { ...filePart, ...envPart, ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) };
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${issues}`);
  }
  const c = parsed.data;
  const absData = path.resolve(c.dataDir);
  const isLoopback = c.host === '127.0.0.1' || c.host === 'localhost' || c.host === '::1';
  const onlyDefaultKeys = c.credentials.every((k) => DEFAULT_CREDENTIALS.some((d) => d.accessKeyId === k.accessKeyId && d.secretAccessKey === k.secretAccessKey));
  if (!isLoopback && onlyDefaultKeys) {
    throw new ConfigError(
      `refusing to listen on ${c.host} with only the default test/test keys: anyone who can reach this address could run containers. ` +
        `Add your own keys under "credentials" in ${file}, or bind to 127.0.0.1.`,
    );
  }
  return { ...c, dataDir: absData, instanceId: c.instanceId ?? defaultInstanceId(absData) };
}

/** Stable per data directory, so a restarted server recognises its own containers. */
function defaultInstanceId(dataDir: string): string {
  let h = 0;
  for (const ch of dataDir) h = (Math.imul(h, 31) + ch.charCodeAt(0)) >>> 0;
  return `sb-${h.toString(16)}`;
}
