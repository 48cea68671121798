/**
 * How the containers sagebox starts reach the object store.
 *
 * - Embedded store: a second listener on the Docker bridge gateway
 *   (docker0's address, found by inspecting the 'bridge' network) serves S3
 *   and STS only. Containers get AWS_ENDPOINT_URL(_S3), S3_ENDPOINT_URL and a
 *   container-only key, generated once per data directory and kept in
 *   `<dataDir>/container-credential.json`, that the server accepts for s3 and
 *   sts and refuses (AccessDenied) everywhere else.
 * - External S3 (objectStore.type 's3'): containers get that endpoint and its
 *   credentials, as configured.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Credential } from '../api/auth/sigv4';
import type { Registry } from '../api/registry';
import { buildStoreServer } from '../api/store-server';
import type { Config } from '../config/config';
import type { ContainerRuntime } from '../runtime/container-runtime';

export const CONTAINER_CREDENTIAL_FILE = 'container-credential.json';
/** The services the container-only key may call. */
export const CONTAINER_SERVICES = ['s3', 'sts'] as const;

const loaded = new Map<string, Credential>();

/** The container-only key of a data directory: created on first use, then read back. */
export function containerCredential(dataDir: string): Credential {
  const file = path.join(dataDir, CONTAINER_CREDENTIAL_FILE);
  const cached = loaded.get(file);
  if (cached) return cached;
  let stored: { accessKeyId?: unknown; secretAccessKey?: unknown } | undefined;
  try {
    stored = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${file} is unreadable: ${(err as Error).message}`);
  }
  let cred: Credential;
  if (typeof stored?.accessKeyId === 'string' && typeof stored.secretAccessKey === 'string') {
    cred = { accessKeyId: stored.accessKeyId, secretAccessKey: stored.secretAccessKey, services: CONTAINER_SERVICES };
  } else {
    cred = {
      accessKeyId: `SBXC${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64url'),
      services: CONTAINER_SERVICES,
    };
    fs.mkdirSync(dataDir, { recursive: true });
    // Written beside, then renamed: a reader never sees half a key.
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ accessKeyId: cred.accessKeyId, secretAccessKey: cred.secretAccessKey }, null, 2), { mode: 0o600 });
    fs.renameSync(tmp, file);
  }
  loaded.set(file, cred);
  return cred;
}

/** Every key the server accepts: the configured ones, then the container-only one. */
export function acceptedCredentials(config: Config): Credential[] {
  return [...config.credentials, containerCredential(config.dataDir)];
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);

/**
 * Runs the container listener and answers AppContext.containerEnv(). Started
 * before the features (so recovered jobs already get the endpoint) and
 * stopped after the main server.
 */
export class ContainerAccess {
  private listener?: FastifyInstance;
  private address?: { host: string; port: number };
  private gateway?: string;

  constructor(
    private readonly config: Config,
    private readonly runtime: ContainerRuntime,
    private readonly logger: Logger,
  ) {}

  /** The base URL containers use for S3/STS, once known. */
  get endpoint(): string | undefined {
    return this.address && `http://${this.address.host}:${this.address.port}`;
  }

  async start(registry: Registry): Promise<void> {
    const c = this.config;
    if (c.objectStore.type !== 'local' || c.containerAccess.host === 'off') return;
    const host = c.containerAccess.host === 'auto' ? await this.findGateway() : c.containerAccess.host;
    if (!host) return;
    this.gateway = host;
    // The main server already listens on every address: containers reach it there.
    if (WILDCARD_HOSTS.has(c.host) && c.containerAccess.port === undefined) return;
    const server = buildStoreServer({ s3: registry.raw.get('s3'), sts: registry.raw.get('sts'), logger: this.logger });
    try {
      await server.listen({ host, port: c.containerAccess.port ?? c.port });
    } catch (err) {
      this.logger.warn({ err, host }, 'could not listen for containers on the Docker bridge: containers get no S3 endpoint');
      await server.close();
      return;
    }
    const addr = server.server.address();
    this.listener = server;
    this.address = { host, port: typeof addr === 'object' && addr ? addr.port : c.port };
    this.logger.info({ endpoint: this.endpoint }, 'serving S3 and STS to containers');
  }

  /** Called once the main server listens (used when it listens on every address). */
  mainListening(port: number): void {
    if (!this.listener && this.gateway && WILDCARD_HOSTS.has(this.config.host)) this.address = { host: this.gateway, port };
  }

  async stop(): Promise<void> {
    await this.listener?.close();
    this.listener = undefined;
  }

  /** The environment every container gets (AppContext.containerEnv). */
  env(): Record<string, string> {
    const c = this.config;
    const env: Record<string, string> = { AWS_REGION: c.region, AWS_DEFAULT_REGION: c.region };
    if (c.objectStore.type === 's3') {
      const s = c.objectStore;
      if (s.endpoint) Object.assign(env, { AWS_ENDPOINT_URL_S3: s.endpoint, S3_ENDPOINT_URL: s.endpoint });
      if (s.accessKeyId && s.secretAccessKey) Object.assign(env, { AWS_ACCESS_KEY_ID: s.accessKeyId, AWS_SECRET_ACCESS_KEY: s.secretAccessKey });
      return env;
    }
    const endpoint = this.endpoint;
    if (!endpoint) return env;
    const key = containerCredential(c.dataDir);
    return {
      ...env,
      AWS_ENDPOINT_URL: endpoint,
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_ENDPOINT_URL_STS: endpoint,
      S3_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: key.accessKeyId,
      AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
    };
  }

  private async findGateway(): Promise<string | undefined> {
    if (!this.runtime.networkGateway) {
      this.logger.warn('the container runtime cannot report its bridge gateway: containers get no S3 endpoint');
      return undefined;
    }
    try {
      const gw = await this.runtime.networkGateway('bridge');
      if (!gw) this.logger.warn("Docker's 'bridge' network has no IPv4 gateway: containers get no S3 endpoint");
      return gw;
    } catch (err) {
      this.logger.warn({ err }, "could not inspect Docker's 'bridge' network: containers get no S3 endpoint");
      return undefined;
    }
  }
}
