/**
 * The log group a request names, by logGroupName or logGroupIdentifier (a
 * name or an ARN, with or without the trailing ':*'); exactly one is allowed.
 */
import { InvalidParameterException, logGroupNotFound, logStreamNotFound } from '../errors';
import type { LogStore, StreamInfo } from '../../logs/log-store';

export function groupNameOf(input: { logGroupName?: string; logGroupIdentifier?: string }): string {
  const { logGroupName: name, logGroupIdentifier: id } = input;
  if (name !== undefined && id !== undefined) throw new InvalidParameterException('LogGroup name and LogGroup ARN are mutually exclusive parameters.');
  if (name !== undefined) return name;
  if (id === undefined) throw new InvalidParameterException('Should provide either name or ARN of the LogGroup.');
  if (!id.startsWith('arn:')) return id;
  const m = /:log-group:(.+?)(?::\*)?$/.exec(id);
  if (!m) throw new InvalidParameterException(`Invalid log group ARN: ${id}`);
  return m[1]!;
}

/** The named group, which must exist. */
export function requireGroup(store: LogStore, input: { logGroupName?: string; logGroupIdentifier?: string }): string {
  const group = groupNameOf(input);
  if (!store.groupExists(group)) throw logGroupNotFound();
  return group;
}

/** The named stream of an existing group; ResourceNotFoundException naming what is missing. */
export function requireStream(store: LogStore, group: string, stream: string): StreamInfo {
  const s = store.stream(group, stream);
  if (!s) throw store.groupExists(group) ? logStreamNotFound() : logGroupNotFound();
  return s;
}
