/**
 * Pagination tokens of the CloudWatch Logs subset. GetLogEvents hands out
 * AWS-shaped positional tokens ('f/<digits>' forward, 'b/<digits>' backward)
 * naming a place between two events; the list operations hand out opaque
 * base64url tokens naming the last item of the previous page.
 */
import { InvalidParameterException } from '../errors';
import type { EventKey } from '../../logs/log-store';

const DIGITS = 20;
const pad = (n: number): string => String(Math.max(0, Math.trunc(n))).padStart(DIGITS, '0');

export type Direction = 'f' | 'b';

export function positionToken(dir: Direction, key: EventKey): string {
  return `${dir}/${pad(key.timestamp)}${pad(key.id)}`;
}

export function parsePositionToken(token: string): { dir: Direction; key: EventKey } {
  const m = /^([fb])\/(\d{20})(\d{20})$/.exec(token);
  if (!m) throw invalidToken();
  return { dir: m[1] as Direction, key: { timestamp: Number(m[2]), id: Number(m[3]) } };
}

export function pageToken(kind: string, value: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify({ k: kind, ...value })).toString('base64url');
}

/** Decodes a token made by pageToken for the same kind; InvalidParameterException otherwise. */
export function parsePageToken<T extends Record<string, string | number>>(kind: string, token: string, shape: { [K in keyof T]: 'string' | 'number' }): T {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalidToken();
  }
  if (typeof v !== 'object' || v === null || v.k !== kind) throw invalidToken();
  for (const [name, type] of Object.entries(shape)) if (typeof v[name] !== type) throw invalidToken();
  return v as T;
}

export const invalidToken = (): InvalidParameterException => new InvalidParameterException('The specified nextToken is invalid.');
