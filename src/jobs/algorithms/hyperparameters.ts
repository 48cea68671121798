/**
 * An algorithm's SupportedHyperParameters as rules (spec 6.2): a value is
 * checked against its declared Type (Integer parses as an integer, Continuous
 * as a number, Categorical is one of Range.Values, FreeText is anything) and
 * Range. Pure; the callers word the violations.
 */
import type { HyperParameterSpecification } from '@aws-sdk/client-sagemaker';
import type { Wire } from '../../api/sagemaker/wire-types';
import { parseFloatLike } from '../training/metrics';

export type HyperParameterSpec = Wire<HyperParameterSpecification>;

const INTEGER_RE = /^\s*[+-]?\d+\s*$/;

/**
 * The Python SDK sends some values JSON-encoded ("\"10\""); the text inside
 * such a literal is what the algorithm's type applies to.
 */
export function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    try {
      const v = JSON.parse(value) as unknown;
      if (typeof v === 'string') return v;
    } catch {
      // not a JSON string literal: the value is taken as it is
    }
  }
  return value;
}

export function parseInteger(text: string): number | undefined {
  return INTEGER_RE.test(text) ? Number(text.trim()) : undefined;
}

/** Why `value` does not fit the specification, or undefined when it does. */
export function hyperParameterProblem(spec: HyperParameterSpec, raw: string): string | undefined {
  const value = unquote(raw);
  const range = spec.Range;
  switch (spec.Type) {
    case 'Integer': {
      const n = parseInteger(value);
      if (n === undefined) return `must be an Integer, got '${raw}'`;
      const r = range?.IntegerParameterRangeSpecification;
      if (r) {
        const min = parseInteger(r.MinValue ?? '');
        const max = parseInteger(r.MaxValue ?? '');
        if ((min !== undefined && n < min) || (max !== undefined && n > max)) return `must be an Integer in [${r.MinValue}, ${r.MaxValue}], got '${raw}'`;
      }
      return undefined;
    }
    case 'Continuous': {
      const n = parseFloatLike(value);
      if (n === undefined) return `must be a Continuous (floating-point) value, got '${raw}'`;
      const r = range?.ContinuousParameterRangeSpecification;
      if (r) {
        const min = parseFloatLike(r.MinValue ?? '');
        const max = parseFloatLike(r.MaxValue ?? '');
        if ((min !== undefined && n < min) || (max !== undefined && n > max)) return `must be a Continuous value in [${r.MinValue}, ${r.MaxValue}], got '${raw}'`;
      }
      return undefined;
    }
    case 'Categorical': {
      const values = range?.CategoricalParameterRangeSpecification?.Values ?? [];
      if (values.length && !values.includes(value)) return `must be one of the Categorical values [${values.join(', ')}], got '${raw}'`;
      return undefined;
    }
    default:
      return undefined;
  }
}

/**
 * What is wrong with a hyperparameter specification itself (CreateAlgorithm):
 * a Range of another type, bounds that do not parse or are reversed, a
 * default that breaks its own rules, a default on a required parameter.
 */
export function specificationProblems(spec: HyperParameterSpec): string[] {
  const out: string[] = [];
  const r = spec.Range;
  const given = r ? (['IntegerParameterRangeSpecification', 'ContinuousParameterRangeSpecification', 'CategoricalParameterRangeSpecification'] as const).filter((k) => r[k] !== undefined) : [];
  const expected = { Integer: 'IntegerParameterRangeSpecification', Continuous: 'ContinuousParameterRangeSpecification', Categorical: 'CategoricalParameterRangeSpecification', FreeText: undefined }[spec.Type ?? 'FreeText'];
  if (given.length > 1) out.push(`Range must have exactly one of ${given.join(', ')}`);
  else if (given.length === 1 && given[0] !== expected) out.push(`Range ${given[0]} does not fit Type ${spec.Type}${expected ? ` (use ${expected})` : ' (FreeText takes no Range)'}`);
  const bounds = (min: string | undefined, max: string | undefined, parse: (s: string) => number | undefined, what: string): void => {
    const lo = parse(min ?? '');
    const hi = parse(max ?? '');
    if (lo === undefined) out.push(`Range MinValue '${min}' is not ${what}`);
    if (hi === undefined) out.push(`Range MaxValue '${max}' is not ${what}`);
    if (lo !== undefined && hi !== undefined && lo > hi) out.push(`Range MinValue ${min} is greater than MaxValue ${max}`);
  };
  if (spec.Type === 'Integer' && r?.IntegerParameterRangeSpecification) {
    bounds(r.IntegerParameterRangeSpecification.MinValue, r.IntegerParameterRangeSpecification.MaxValue, parseInteger, 'an integer');
  }
  if (spec.Type === 'Continuous' && r?.ContinuousParameterRangeSpecification) {
    bounds(r.ContinuousParameterRangeSpecification.MinValue, r.ContinuousParameterRangeSpecification.MaxValue, parseFloatLike, 'a number');
  }
  if (spec.DefaultValue !== undefined) {
    if (spec.IsRequired) out.push('a required hyperparameter cannot have a DefaultValue');
    const p = hyperParameterProblem(spec, spec.DefaultValue);
    if (p) out.push(`DefaultValue ${p}`);
  }
  return out;
}
