/** Docker's container inspect document -> ContainerState. */
import type Dockerode from 'dockerode';
import type { ContainerState, ContainerStatus } from '../container-runtime';

const STATUSES: readonly ContainerStatus[] = ['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead'];

export function toContainerState(info: Dockerode.ContainerInspectInfo): ContainerState {
  const status = (STATUSES as readonly string[]).includes(info.State.Status) ? (info.State.Status as ContainerStatus) : 'dead';
  const state: ContainerState = {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    status,
    running: info.State.Running,
    labels: info.Config.Labels ?? {},
  };
  if (status === 'exited' || status === 'dead') state.exitCode = info.State.ExitCode;
  if (info.State.OOMKilled) state.oomKilled = true;
  const startedAt = engineTime(info.State.StartedAt);
  const finishedAt = engineTime(info.State.FinishedAt);
  if (startedAt !== undefined) state.startedAt = startedAt;
  if (finishedAt !== undefined) state.finishedAt = finishedAt;
  const ip = Object.values(info.NetworkSettings.Networks ?? {}).find((n) => n.IPAddress)?.IPAddress;
  if (ip) state.ip = ip;
  const hostPort = publishedPort(info.NetworkSettings.Ports);
  if (hostPort !== undefined) state.hostPort = hostPort;
  return state;
}

/** Docker writes "0001-01-01T00:00:00Z" for times that have not happened. */
function engineTime(value: string | undefined): number | undefined {
  if (!value || value.startsWith('0001-')) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The host port of the first published port (sagebox publishes at most one). */
function publishedPort(ports: Dockerode.ContainerInspectInfo['NetworkSettings']['Ports'] | undefined): number | undefined {
  for (const bindings of Object.values(ports ?? {})) {
    const port = Number(bindings?.[0]?.HostPort);
    if (Number.isInteger(port) && port > 0) return port;
  }
  return undefined;
}
