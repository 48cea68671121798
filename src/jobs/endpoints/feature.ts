/**
 * Real-time inference as a sagebox feature: the hosting operations, the
 * runtime's InvokeEndpoint, and the fleet manager behind them. start()
 * re-attaches what a previous run left; stop() leaves containers running.
 */
import type { AppContext, Feature } from '../../app/context';
import type { Registry } from '../../api/registry';
import { endpointConfigHandlers } from '../../api/sagemaker/endpoint-configs';
import { endpointHandlers } from '../../api/sagemaker/endpoints';
import { modelHandlers } from '../../api/sagemaker/models';
import { invokeEndpointService } from '../../api/runtime/invoke-endpoint';
import { FleetManager } from './fleet-manager';
import { hostingRepos, type HostingRepos } from './repos';
import { DEFAULT_ENDPOINT_SETTINGS, type EndpointSettings } from './settings';

export class EndpointsFeature implements Feature {
  readonly name = 'endpoints';
  readonly repos: HostingRepos;
  readonly fleet: FleetManager;
  /** Timings (tests shorten them before start). */
  readonly settings: EndpointSettings;

  constructor(private readonly ctx: AppContext) {
    this.repos = hostingRepos(ctx.db);
    this.settings = { ...DEFAULT_ENDPOINT_SETTINGS };
    this.fleet = new FleetManager(ctx, this.repos, this.settings);
  }

  register(registry: Registry): void {
    const deps = { ctx: this.ctx, repos: this.repos, fleet: this.fleet };
    registry.sagemaker({ ...modelHandlers(deps), ...endpointConfigHandlers(deps), ...endpointHandlers(deps) });
    registry.runtime.set('invocations', invokeEndpointService(this.ctx, this.fleet));
  }

  async start(): Promise<void> {
    await this.fleet.recover();
  }

  async stop(): Promise<void> {
    await this.fleet.close();
  }
}

export const endpointsFeature = (ctx: AppContext): Feature => new EndpointsFeature(ctx);
