/**
 * The composition root: builds the context, the features and the server.
 * `sagebox up` and the in-process tests both go through App.
 */
import pino, { type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/config';
import { buildServer } from '../api/server';
import { Registry } from '../api/registry';
import { LogStore } from '../logs/log-store';
import { openDb } from '../store/db';
import { Arns } from '../util/arn';
import { systemClock, type Clock } from '../util/clock';
import { DockerRuntime } from '../runtime/docker/docker-runtime';
import type { ContainerRuntime } from '../runtime/container-runtime';
import type { AppContext, Feature } from './context';
import { createObjectStore } from '../storage/create-store';
import { DataTransfer } from '../storage/transfer';
import { FEATURES } from './features';
import { acceptedCredentials, ContainerAccess } from './container-env';
import { LocalObjectStore } from '../storage/local-store';
import { ownedByLiveResource } from './reaper';
import { Metrics } from '../metrics/metrics';
import { metricsRoute } from '../metrics/route';

export interface AppOptions {
  logger?: Logger;
  clock?: Clock;
  runtime?: ContainerRuntime;
}

export class App {
  readonly ctx: AppContext;
  readonly registry = new Registry();
  readonly features: Feature[];
  readonly server: FastifyInstance;
  private listening?: { host: string; port: number };
  private readonly containerAccess: ContainerAccess;

  constructor(readonly config: Config, opts: AppOptions = {}) {
    const logger = opts.logger ?? pino({ level: config.logLevel, base: { instance: config.instanceId } });
    const clock = opts.clock ?? systemClock;
    const db = openDb(config.dataDir);
    const objectStore = createObjectStore(config);
    const metrics = new Metrics();
    const runtime = opts.runtime ?? new DockerRuntime({ socketPath: config.docker.socketPath, logger: logger.child({ component: 'docker' }) });
    const containerAccess = new ContainerAccess(config, runtime, logger.child({ component: 'container-access' }));
    this.containerAccess = containerAccess;
    this.ctx = {
      config,
      db,
      logger,
      clock,
      arns: new Arns(config.region, config.accountId),
      logs: new LogStore(db, () => clock.now()),
      runtime,
      objectStore,
      transfer: new DataTransfer(objectStore, {
        logger: logger.child({ component: 'transfer' }),
        onTransfer: (t) => {
          metrics.stagingBytesTotal.inc(t.bytes);
          metrics.stagingSecondsTotal.inc(t.seconds);
        },
      }),
      containerEnv: () => containerAccess.env(),
      metrics,
      serverAddressForContainers: () => (this.listening ? `${this.listening.host}:${this.listening.port}` : undefined),
    };
    this.features = FEATURES.map((make) => make(this.ctx));
    for (const f of this.features) f.register(this.registry);
    this.server = buildServer({
      registry: this.registry,
      credentials: acceptedCredentials(config),
      maxRequestBytes: config.maxRequestBytes,
      logger,
      now: () => clock.now(),
      publicRoutes: new Map([
        ['/_sagebox/health', async (_req, reply) => void reply.send({ status: 'ok' })],
        ...(config.metricsPublic ? [['/metrics', metricsRoute(metrics)] as const] : []),
      ]),
      // Signed scrapes are served either way; unsigned ones only when config.metricsPublic.
      privateRoutes: new Map([['/metrics', metricsRoute(metrics)]]),
    });
  }

  /** Recovers state, then listens. Resolves with the bound address. */
  async start(): Promise<{ host: string; port: number; url: string }> {
    await this.ctx.runtime.ping();
    // Before the features: jobs they recover may start containers that need the endpoint.
    await this.containerAccess.start(this.registry);
    for (const f of this.features) await f.start?.();
    const reaped = await this.ctx.runtime.reapOrphans(this.config.instanceId, ownedByLiveResource(this.ctx.db));
    if (reaped.containers.length || reaped.networks.length) this.ctx.logger.info(reaped, 'removed orphaned containers and networks');
    await this.server.listen({ host: this.config.host, port: this.config.port });
    const addr = this.server.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : this.config.port;
    this.listening = { host: this.config.host, port };
    this.containerAccess.mainListening(port);
    return { host: this.config.host, port, url: `http://${this.config.host}:${port}` };
  }

  async stop(): Promise<void> {
    await this.server.close();
    await this.containerAccess.stop();
    for (const f of [...this.features].reverse()) await f.stop?.();
    if (this.ctx.objectStore instanceof LocalObjectStore) this.ctx.objectStore.close();
    this.ctx.runtime.close?.();
    this.ctx.db.close();
  }
}
