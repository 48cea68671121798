/**
 * The in-memory routing state InvokeEndpoint reads on every request: no
 * database, no allocation beyond what the pick needs. A fleet (one
 * deployment) has one route per variant; a variant is picked by weight (or
 * named by TargetVariant), an instance by least outstanding requests.
 */
import type { InstanceClient } from '../../serving';
import type { InstanceRecord, VariantPlan } from './types';

export type InstanceState = 'starting' | 'ready' | 'retiring' | 'dead';

/** One running container as the router and the health monitor see it. */
export class LiveInstance {
  /** Requests sent and not yet answered. */
  outstanding = 0;
  state: InstanceState = 'starting';
  /** Consecutive failed health pings. */
  pingFailures = 0;
  /** Set once the instance is being retired (all callers wait for the same stop). */
  retirement?: Promise<void>;
  /** Detaches the log capture (shutdown). */
  detachLogs: () => void = () => undefined;

  constructor(readonly record: InstanceRecord, readonly containerId: string, readonly client: InstanceClient) {}

  get id(): string {
    return this.record.id;
  }
}

export class VariantRoute {
  /** Instances in rotation. Replaced, never mutated in place, so a pick in progress sees a consistent list. */
  ready: readonly LiveInstance[] = [];
  private cursor = 0;

  constructor(readonly name: string, public weight: number) {}

  /** The ready instance with the fewest outstanding requests (ties rotate); `exclude` is skipped. */
  pick(exclude?: LiveInstance): LiveInstance | undefined {
    const list = this.ready;
    const n = list.length;
    if (n === 0) return undefined;
    if (n === 1) return list[0] === exclude ? undefined : list[0];
    const start = this.cursor++ % n;
    let best: LiveInstance | undefined;
    for (let i = 0; i < n; i++) {
      const candidate = list[(start + i) % n]!;
      if (candidate === exclude) continue;
      if (!best || candidate.outstanding < best.outstanding) best = candidate;
    }
    return best;
  }

  add(instance: LiveInstance): void {
    if (!this.ready.includes(instance)) this.ready = [...this.ready, instance];
  }

  remove(instance: LiveInstance): void {
    if (this.ready.includes(instance)) this.ready = this.ready.filter((i) => i !== instance);
  }
}

export class RoutingTable {
  readonly variants: VariantRoute[];
  private readonly byName = new Map<string, VariantRoute>();

  constructor(plans: readonly VariantPlan[]) {
    this.variants = plans.map((p) => new VariantRoute(p.variantName, p.weight));
    for (const v of this.variants) this.byName.set(v.name.toLowerCase(), v);
  }

  variant(name: string): VariantRoute | undefined {
    return this.byName.get(name.toLowerCase());
  }

  /**
   * A variant with probability weight / sum of weights. When the drawn variant
   * has no ready instance, another one that has is drawn the same way, so a
   * variant being replaced does not fail requests another could serve.
   */
  pickVariant(random = Math.random()): VariantRoute | undefined {
    const drawn = draw(this.variants, random, false);
    if (drawn && drawn.ready.length > 0) return drawn;
    return draw(this.variants, random, true) ?? drawn;
  }

  readyCount(): number {
    let n = 0;
    for (const v of this.variants) n += v.ready.length;
    return n;
  }
}

function draw(variants: readonly VariantRoute[], random: number, onlyReady: boolean): VariantRoute | undefined {
  let total = 0;
  for (const v of variants) if (!onlyReady || v.ready.length > 0) total += v.weight;
  if (total <= 0) {
    // All weights 0: spread evenly.
    const pool = onlyReady ? variants.filter((v) => v.ready.length > 0) : variants;
    return pool[Math.floor(random * pool.length)];
  }
  let x = random * total;
  let last: VariantRoute | undefined;
  for (const v of variants) {
    if (onlyReady && v.ready.length === 0) continue;
    if (v.weight <= 0) continue;
    last = v;
    x -= v.weight;
    if (x < 0) return v;
  }
  return last;
}
