/**
 * EnableNetworkIsolation: serving containers of such models join one
 * sagebox-created bridge network created with --internal. The host still
 * reaches them by IP (so the router works unchanged), but they have no route
 * out. They can reach the host on the network's gateway address, where
 * nothing of sagebox listens unless it is bound to a non-loopback address.
 */
import type { ContainerRuntime } from '../runtime/container-runtime';
import { LABELS } from '../runtime/labels';

/** Never a valid endpoint or job name, so no resource of that name can own it. */
const NETWORK_OWNER = '-isolated-';

export function isolatedNetworkName(instanceId: string): string {
  return `sagebox-${instanceId}-isolated`;
}

/** Calls in flight, so concurrent starts do not race to create two networks of one name. */
const inFlight = new Map<string, Promise<string>>();

/**
 * Creates the internal network of this sagebox instance, or reuses it (the
 * runtime reuses a network of the same name and labels); returns its name.
 * Asked every time a container is created, so a network removed by hand comes back.
 */
export function ensureIsolatedNetwork(runtime: ContainerRuntime, instanceId: string): Promise<string> {
  const name = isolatedNetworkName(instanceId);
  let p = inFlight.get(name);
  if (!p) {
    const labels = { [LABELS.instance]: instanceId, [LABELS.kind]: 'endpoint', [LABELS.resource]: NETWORK_OWNER };
    p = runtime.createNetwork(name, labels, { internal: true }).then(() => name).finally(() => inFlight.delete(name));
    inFlight.set(name, p);
  }
  return p;
}

/** Whether labels mark the shared isolated network (reapers must keep it while containers use it). */
export function isIsolatedNetworkLabels(labels: Record<string, string>): boolean {
  return labels[LABELS.resource] === NETWORK_OWNER;
}
