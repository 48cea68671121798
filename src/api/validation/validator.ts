/**
 * Validates a request against the AWS model's constraints (see
 * constraints.json, extracted by scripts/gen-constraints.ts) and words the
 * failures as AWS does:
 *   1 validation error detected: Value 'x' at 'trainingJobName' failed to
 *   satisfy constraint: Member must satisfy regular expression pattern: ...
 * Member paths are lower-camel; list items are 1-based `.N.member`.
 * Also normalises timestamps to epoch seconds.
 */
import constraints from './constraints.json';
import type { ShapeFacts } from './types';
import { SerializationException, ValidationException } from '../errors';
import { parseUri } from '../../storage/uri';

type Service = 'sagemaker' | 'runtime' | 'logs';
type Shapes = Record<string, ShapeFacts>;
const all = constraints as unknown as { allOperations: Record<Service, string[]>; operations: Record<Service, Record<string, string>>; shapes: Record<Service, Shapes> };

const regexCache = new Map<string, RegExp | null>();
function compile(pattern: string): RegExp | null {
  let re = regexCache.get(pattern);
  if (re !== undefined) return re;
  try {
    re = new RegExp(`^(?:${pattern})$`, 'u');
  } catch {
    try {
      re = new RegExp(`^(?:${pattern})$`);
    } catch {
      re = null; // a Java-only construct: not checked (documented in docs/compatibility.md)
    }
  }
  regexCache.set(pattern, re);
  return re;
}

/** sagebox's local mode: an S3Uri member may name a host path as file:///abs/path (docs/storage.md). */
const isLocalFileUri = (v: string): boolean => v.startsWith('file:///');

const lowerFirst = (s: string): string => (s ? s[0]!.toLowerCase() + s.slice(1) : s);
const join = (path: string, member: string): string => (path ? `${path}.${member}` : member);

function show(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return v.length > 256 ? `${v.slice(0, 256)}...` : v;
  const s = JSON.stringify(v);
  return s.length > 256 ? `${s.slice(0, 256)}...` : s;
}

/** One violation, worded as AWS words them: Value 'x' at 'member.path' failed to satisfy constraint: rule. */
export function violation(value: unknown, path: string, rule: string): string {
  return `Value ${value === null || value === undefined ? 'null' : `'${show(value)}'`} at '${path}' failed to satisfy constraint: ${rule}`;
}

/** `N validation error(s) detected: a; b` */
export function validationMessage(violations: string[]): string {
  const n = violations.length;
  return `${n} validation error${n > 1 ? 's' : ''} detected: ${violations.join('; ')}`;
}

/**
 * Collects violations and reports them all at once, in the validator's words.
 * Operation-specific checks (CreateProcessingJob's LocalPaths, ...) use it too.
 */
export class ValidationProblems {
  readonly errors: string[] = [];
  add(value: unknown, path: string, rule: string): void {
    this.errors.push(violation(value, path, rule));
  }
  throwIfAny(): void {
    if (this.errors.length) throw new ValidationException(validationMessage(this.errors));
  }
  /** A member that must be an s3:// (or file://, https S3) URI sagebox can read. */
  uri(value: string | undefined, path: string): void {
    if (value === undefined) return;
    try {
      parseUri(value);
    } catch (err) {
      this.add(value, path, `Member must be an S3 URI (s3://bucket/prefix): ${(err as Error).message}`);
    }
  }
}

/**
 * String rules the model cannot express, which SageMaker reports in words of its own instead of as
 * a constraint violation: the first value that breaks one is the request's error (after the
 * model's violations, which come first).
 */
const STRING_RULES: Readonly<Record<string, (value: string) => string | undefined>> = {
  // SageMaker keeps the 'aws:' prefix (any case) for its own tags: Create*'s Tags, AddTags and
  // DeleteTags refuse such a key, in the wording users of DeleteTags report.
  TagKey: (v) => (/^aws:/i.test(v) ? `System prefix 'aws:' reserved for AWS usage in tag key: ${v}` : undefined),
};

/** The walk's findings: constraint violations, and the first STRING_RULES refusal. */
class WalkProblems extends ValidationProblems {
  refusal?: string;
}

function checkLength(f: ShapeFacts, len: number, value: unknown, path: string, c: ValidationProblems): void {
  if (f.min !== undefined && len < f.min) c.add(value, path, `Member must have length greater than or equal to ${f.min}`);
  if (f.max !== undefined && len > f.max) c.add(value, path, `Member must have length less than or equal to ${f.max}`);
}

/** Returns the (possibly normalised) value. */
function walk(shapes: Shapes, shapeName: string, value: unknown, path: string, c: WalkProblems, memberCase: (s: string) => string): unknown {
  const f = shapes[shapeName];
  if (!f || value === null || value === undefined) return value;
  switch (f.t) {
    case 'structure': {
      if (typeof value !== 'object' || Array.isArray(value)) {
        throw new SerializationException(`Expected an object at '${path || 'body'}'`);
      }
      const obj = value as Record<string, unknown>;
      for (const r of f.req ?? []) {
        if (obj[r] === undefined || obj[r] === null) c.add(null, join(path, memberCase(r)), 'Member must not be null');
      }
      for (const [name, v] of Object.entries(obj)) {
        const ms = f.m?.[name];
        if (ms === undefined) continue; // unknown members are ignored, as the AWS JSON services do
        const nv = walk(shapes, ms, v, join(path, memberCase(name)), c, memberCase);
        if (nv !== v) obj[name] = nv;
      }
      return obj;
    }
    case 'list': {
      if (!Array.isArray(value)) throw new SerializationException(`Expected a list at '${path}'`);
      checkLength(f, value.length, value, path, c);
      value.forEach((item, i) => {
        const nv = walk(shapes, f.member!, item, `${path}.${i + 1}.member`, c, memberCase);
        if (nv !== item) value[i] = nv;
      });
      return value;
    }
    case 'map': {
      if (typeof value !== 'object' || Array.isArray(value)) throw new SerializationException(`Expected a map at '${path}'`);
      const obj = value as Record<string, unknown>;
      checkLength(f, Object.keys(obj).length, value, path, c);
      for (const [k, v] of Object.entries(obj)) {
        walk(shapes, f.k!, k, `${path}.key`, c, memberCase);
        walk(shapes, f.v!, v, `${path}.${k}`, c, memberCase);
      }
      return obj;
    }
    case 'string': {
      if (typeof value !== 'string') throw new SerializationException(`Expected a string at '${path}'`);
      checkLength(f, [...value].length, value, path, c);
      c.refusal ??= STRING_RULES[shapeName]?.(value);
      if (f.enum && !f.enum.includes(value)) c.add(value, path, `Member must satisfy enum value set: [${f.enum.join(', ')}]`);
      if (f.pattern !== undefined && !(shapeName === 'S3Uri' && isLocalFileUri(value))) {
        const re = compile(f.pattern);
        if (re && !re.test(value)) c.add(value, path, `Member must satisfy regular expression pattern: ${f.pattern}`);
      }
      return value;
    }
    case 'integer':
    case 'long':
    case 'float':
    case 'double': {
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new SerializationException(`Expected a number at '${path}'`);
      if ((f.t === 'integer' || f.t === 'long') && !Number.isInteger(value)) throw new SerializationException(`Expected an integer at '${path}'`);
      if (f.min !== undefined && value < f.min) c.add(value, path, `Member must have value greater than or equal to ${f.min}`);
      if (f.max !== undefined && value > f.max) c.add(value, path, `Member must have value less than or equal to ${f.max}`);
      return value;
    }
    case 'boolean':
      if (typeof value !== 'boolean') throw new SerializationException(`Expected a boolean at '${path}'`);
      return value;
    case 'timestamp': {
      if (typeof value === 'number') return value;
      if (typeof value === 'string') {
        const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Date.parse(value) / 1000;
        if (Number.isFinite(n)) return n;
      }
      throw new SerializationException(`Expected a timestamp at '${path}'`);
    }
    default:
      return value;
  }
}

/** Reports one violation in the model validator's words: (value, member path, rule). */
export type ConstraintCheck = (input: Record<string, unknown>, fail: (value: unknown, path: string, rule: string) => void) => void;
const extraChecks = new Map<string, Map<string, ConstraintCheck>>();

/**
 * A constraint the model leaves open but sagebox enforces (e.g. an instance
 * count of at least 1), reported together with the model's violations in one
 * ValidationException. Registering the same id again replaces the check.
 */
export function addConstraintCheck(service: Service, operation: string, id: string, check: ConstraintCheck): void {
  const key = `${service}.${operation}`;
  let checks = extraChecks.get(key);
  if (!checks) extraChecks.set(key, (checks = new Map()));
  checks.set(id, check);
}

/**
 * Validates `input` for `operation` in place (timestamps become epoch seconds,
 * or epoch ms for CloudWatch Logs which models them as longs already).
 * Throws ValidationException listing every violation.
 */
export function validateInput(service: Service, operation: string, input: unknown): Record<string, unknown> {
  const shapeName = all.operations[service]?.[operation];
  if (shapeName === undefined) throw new Error(`no constraints extracted for ${service}.${operation}`);
  const body = (input ?? {}) as Record<string, unknown>;
  if (!shapeName) return body;
  const c = new WalkProblems();
  // CloudWatch Logs members are already camelCase; SageMaker's are PascalCase and reported lower-camel.
  walk(all.shapes[service], shapeName, body, '', c, service === 'logs' ? (s) => s : lowerFirst);
  for (const check of extraChecks.get(`${service}.${operation}`)?.values() ?? []) check(body, (v, p, rule) => c.add(v, p, rule));
  c.throwIfAny();
  if (c.refusal !== undefined) throw new ValidationException(c.refusal);
  return body;
}

export function hasConstraints(service: Service, operation: string): boolean {
  return all.operations[service]?.[operation] !== undefined;
}

/** The enum values of a shape (for handlers that need them). */
export function enumOf(service: Service, shape: string): readonly string[] {
  return all.shapes[service][shape]?.enum ?? [];
}

/** Every operation name in the service's AWS model. */
export function modelOperations(service: Service): ReadonlySet<string> {
  return new Set(all.allOperations[service] ?? []);
}
