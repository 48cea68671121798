/**
 * What the Docker-backed suites need: a reachable engine, the base image, and
 * a clean-up that removes everything a suite labelled as its own.
 */
import { randomBytes } from 'node:crypto';
import Dockerode from 'dockerode';

export const dockerSocket = '/var/run/docker.sock';
export const baseImage = 'sagebox/base:bookworm';

/** Fails (never skips) when the engine does not answer. */
export async function requireDocker(): Promise<Dockerode> {
  const docker = new Dockerode({ socketPath: dockerSocket });
  try {
    await docker.ping();
  } catch (err) {
    throw new Error(`Docker engine is not reachable at ${dockerSocket}: start dockerd (see .ci/run)`, { cause: err });
  }
  return docker;
}

/** Fails with what to do when the base image has not been built. */
export async function requireBaseImage(docker: Dockerode): Promise<void> {
  try {
    await docker.getImage(baseImage).inspect();
  } catch (err) {
    throw new Error(`Image ${baseImage} is missing: run scripts/build-base-image.sh`, { cause: err });
  }
}

/** A sagebox instance id of its own for one suite (or one test), so clean-up touches nothing else. */
export function testInstanceId(prefix = 'test'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Removes every container and network carrying these labels. */
export async function removeLabelled(docker: Dockerode, labels: Record<string, string>): Promise<void> {
  const label = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  const containers = await docker.listContainers({ all: true, filters: { label } });
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)));
  const networks = await docker.listNetworks({ filters: { label } });
  await Promise.all(networks.map((n) => docker.getNetwork(n.Id).remove().catch(() => undefined)));
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
