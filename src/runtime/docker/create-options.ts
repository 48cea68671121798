/**
 * ContainerSpec -> the body of Docker's POST /containers/create. Pure, so the
 * mapping can be read (and tested) in one place.
 */
import type Dockerode from 'dockerode';
import type { ContainerSpec } from '../container-runtime';

export const NO_NETWORK = 'none';

export function toCreateOptions(spec: ContainerSpec): Dockerode.ContainerCreateOptions {
  const exposed = spec.exposePort !== undefined && spec.network !== NO_NETWORK ? `${spec.exposePort}/tcp` : undefined;
  const options: Dockerode.ContainerCreateOptions = {
    name: spec.name,
    Image: spec.image,
    // Left out = the image's; [] clears the image ENTRYPOINT (and, as with
    // `docker run --entrypoint`, setting one drops the image CMD).
    Entrypoint: spec.entrypoint,
    Cmd: spec.cmd,
    Env: Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
    Labels: { ...spec.labels },
    Hostname: spec.hostname,
    ExposedPorts: exposed ? { [exposed]: {} } : undefined,
    HostConfig: {
      Mounts: spec.mounts.map((m) => ({ Type: 'bind' as const, Source: m.source, Target: m.target, ReadOnly: m.readOnly ?? false })),
      NanoCpus: spec.cpus !== undefined ? Math.round(spec.cpus * 1e9) : undefined,
      Memory: spec.memoryBytes,
      NetworkMode: spec.network,
      ExtraHosts: spec.extraHosts ? Object.entries(spec.extraHosts).map(([host, ip]) => `${host}:${ip}`) : undefined,
      // Only sagebox's own loopback can reach a published port; "" = a free port.
      PortBindings: exposed ? { [exposed]: [{ HostIp: '127.0.0.1', HostPort: '' }] } : undefined,
    },
  };
  if (spec.network && spec.network !== NO_NETWORK && spec.networkAliases?.length) {
    options.NetworkingConfig = { EndpointsConfig: { [spec.network]: { Aliases: [...spec.networkAliases] } } };
  }
  return options;
}
