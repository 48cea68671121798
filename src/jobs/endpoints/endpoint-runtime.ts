/**
 * One endpoint in memory: its status, its fleets (one per deployment
 * generation) and which fleet takes traffic. InvokeEndpoint reads `routes`
 * and `serving` only.
 */
import { RoutingTable, type LiveInstance } from './routing';
import { SERVES_TRAFFIC, type EndpointStatus } from './endpoint-status';
import type { Deployment } from './types';

export class Fleet {
  readonly routes: RoutingTable;
  /** Every live instance of this generation, in rotation or not. */
  readonly instances = new Set<LiveInstance>();

  constructor(public deployment: Deployment) {
    this.routes = new RoutingTable(deployment.variants);
  }

  get generation(): number {
    return this.deployment.generation;
  }

  /** Instances of a variant that are starting or ready (what counts towards its desired count). */
  wanted(variant: string): LiveInstance[] {
    const key = variant.toLowerCase();
    return [...this.instances].filter((i) => i.record.variant.toLowerCase() === key && (i.state === 'starting' || i.state === 'ready'));
  }
}

/** Why an endpoint's running operation was interrupted. */
export type AbortCause = 'shutdown' | 'delete';

export interface Operation {
  kind: 'create' | 'update' | 'scale' | 'delete' | 'recover';
  controller: AbortController;
  done: Promise<void>;
}

export class EndpointRuntime {
  status: EndpointStatus;
  /** The traffic-taking fleet's routes; undefined until the endpoint first serves. */
  routes?: RoutingTable;
  serving = false;
  readonly fleets = new Map<number, Fleet>();
  activeGeneration?: number;
  op?: Operation;
  /** Replacement launches in flight. */
  readonly replacing = new Set<Promise<void>>();
  /** Aborted ('delete') when the endpoint is being deleted: replacements stop starting. */
  readonly lifetime = new AbortController();

  constructor(readonly name: string, readonly arn: string, status: EndpointStatus) {
    this.status = status;
    this.serving = SERVES_TRAFFIC.has(status);
  }

  setStatus(status: EndpointStatus): void {
    this.status = status;
    this.serving = SERVES_TRAFFIC.has(status) && this.routes !== undefined;
  }

  fleet(deployment: Deployment): Fleet {
    let f = this.fleets.get(deployment.generation);
    if (!f) {
      f = new Fleet(deployment);
      this.fleets.set(deployment.generation, f);
    }
    return f;
  }

  /** Switches traffic to a generation's fleet. */
  activate(generation: number): void {
    const f = this.fleets.get(generation);
    if (!f) throw new Error(`endpoint ${this.name} has no fleet of generation ${generation}`);
    this.activeGeneration = generation;
    this.routes = f.routes;
    this.serving = SERVES_TRAFFIC.has(this.status);
  }

  activeFleet(): Fleet | undefined {
    return this.activeGeneration === undefined ? undefined : this.fleets.get(this.activeGeneration);
  }

  allInstances(): LiveInstance[] {
    return [...this.fleets.values()].flatMap((f) => [...f.instances]);
  }

  outstanding(): number {
    let n = 0;
    for (const i of this.allInstances()) n += i.outstanding;
    return n;
  }
}
