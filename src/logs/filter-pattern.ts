/**
 * CloudWatch Logs filter patterns for unstructured lines, the part of the
 * syntax people type at `aws logs filter-log-events` / `aws logs tail`:
 *
 *   ERROR Exception        every term must appear (case-sensitive substrings)
 *   "Connection refused"   a quoted phrase is one term (\" escapes a quote)
 *   ?ERROR ?WARN           at least one of the ?terms must appear
 *   ERROR -Retrying        a -term must not appear
 *   %took [0-9]+ ms%       a regular expression (the whole pattern)
 *   (empty) or ""          every line
 *
 * JSON ({ $.level = ... }) and space-delimited ([ip, user, ...]) patterns are
 * not supported; they answer InvalidParameterException.
 */
export class FilterPatternError extends Error {}

export type LineMatcher = (message: string) => boolean;

interface Term {
  text: string;
  kind: 'all' | 'any' | 'none';
}

function tokenize(pattern: string): Term[] {
  const terms: Term[] = [];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    let kind: Term['kind'] = 'all';
    if (c === '?' || c === '-') {
      kind = c === '?' ? 'any' : 'none';
      i++;
      if (i >= pattern.length || /\s/.test(pattern[i]!)) throw new FilterPatternError(`'${c}' must be followed by a term`);
    }
    let text = '';
    if (pattern[i] === '"') {
      i++;
      let closed = false;
      while (i < pattern.length) {
        const ch = pattern[i]!;
        if (ch === '\\' && i + 1 < pattern.length) {
          text += pattern[i + 1];
          i += 2;
          continue;
        }
        if (ch === '"') {
          closed = true;
          i++;
          break;
        }
        text += ch;
        i++;
      }
      if (!closed) throw new FilterPatternError('unterminated quoted term');
    } else {
      while (i < pattern.length && !/\s/.test(pattern[i]!)) text += pattern[i++];
    }
    if (text !== '') terms.push({ text, kind });
  }
  return terms;
}

/** Compiles a filter pattern into a predicate over event messages. Throws FilterPatternError. */
export function compileFilterPattern(pattern: string | undefined): LineMatcher {
  const p = (pattern ?? '').trim();
  if (p === '' || p === '""') return () => true;
  if (p.startsWith('{')) throw new FilterPatternError('JSON filter patterns are not supported by sagebox; use terms, "phrases", ?alternatives or %regex%');
  if (p.startsWith('[')) throw new FilterPatternError('space-delimited filter patterns are not supported by sagebox; use terms, "phrases", ?alternatives or %regex%');
  if (p.length >= 2 && p.startsWith('%') && p.endsWith('%')) {
    let re: RegExp;
    try {
      re = new RegExp(p.slice(1, -1), 'u');
    } catch (e) {
      throw new FilterPatternError(`invalid regular expression: ${(e as Error).message}`);
    }
    return (m) => re.test(m);
  }
  const terms = tokenize(p);
  const all = terms.filter((t) => t.kind === 'all').map((t) => t.text);
  const any = terms.filter((t) => t.kind === 'any').map((t) => t.text);
  const none = terms.filter((t) => t.kind === 'none').map((t) => t.text);
  return (m) => all.every((t) => m.includes(t)) && (any.length === 0 || any.some((t) => m.includes(t))) && !none.some((t) => m.includes(t));
}
