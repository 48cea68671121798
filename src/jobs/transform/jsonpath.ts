/**
 * The JSONPath subset of batch transform's DataProcessing filters (spec 4.3):
 * `$`, `.name`, `.*` / `[*]`, `['a','b']`, `[i,j]` (negative indexes count
 * from the end), `[start:end]`. Pure.
 *
 * Results follow the common Java implementation's rules: a path made of
 * names and single indexes only ("definite") yields one value; a path with a
 * wildcard, a union of indexes or a slice yields an array of every match; a
 * union of names as the last step on a definite path yields an object with
 * those keys.
 */

export type Segment =
  | { kind: 'names'; names: string[] }
  | { kind: 'wildcard' }
  | { kind: 'indexes'; indexes: number[] }
  | { kind: 'slice'; start?: number; end?: number };

export interface JsonPath {
  readonly text: string;
  readonly segments: readonly Segment[];
}

/** A path sagebox cannot parse, or one that does not match the record. */
export class JsonPathError extends Error {
  override readonly name = 'JsonPathError';
}

const NAME_RE = /^[A-Za-z0-9_$@-][^.[\]\s]*/;

export function parseJsonPath(text: string): JsonPath {
  const fail = (why: string): never => {
    throw new JsonPathError(`'${text}' is not a supported JSONPath expression: ${why}`);
  };
  const s = text.trim();
  if (!s.startsWith('$')) fail("it must start with '$'");
  const segments: Segment[] = [];
  let i = 1;
  while (i < s.length) {
    if (s[i] === '.') {
      if (s[i + 1] === '.') fail("deep scan '..' is not supported");
      if (s[i + 1] === '*') {
        segments.push({ kind: 'wildcard' });
        i += 2;
        continue;
      }
      const m = NAME_RE.exec(s.slice(i + 1));
      if (!m) fail(`a name is expected after '.' at position ${i}`);
      segments.push({ kind: 'names', names: [m![0]] });
      i += 1 + m![0].length;
    } else if (s[i] === '[') {
      const close = findClose(s, i);
      if (close < 0) fail(`'[' at position ${i} is not closed`);
      segments.push(parseBracket(s.slice(i + 1, close).trim(), fail));
      i = close + 1;
    } else {
      fail(`unexpected '${s[i]}' at position ${i}`);
    }
  }
  return { text: s, segments };
}

/** The index of the ']' closing the '[' at `open`, skipping quoted names. */
function findClose(s: string, open: number): number {
  let quote: string | undefined;
  for (let i = open + 1; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === ']') return i;
  }
  return -1;
}

function parseBracket(body: string, fail: (why: string) => never): Segment {
  if (body === '*') return { kind: 'wildcard' };
  if (body.startsWith("'") || body.startsWith('"')) {
    const names: string[] = [];
    const re = /\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*(,|$)/y;
    let at = 0;
    while (at < body.length) {
      re.lastIndex = at;
      const m = re.exec(body);
      if (!m) fail(`cannot read the quoted names in [${body}]`);
      names.push((m![1] ?? m![2] ?? '').replace(/\\(.)/g, '$1'));
      at = re.lastIndex;
      if (m![3] === '') break;
    }
    return { kind: 'names', names };
  }
  const int = (v: string): number | undefined => {
    const t = v.trim();
    if (t === '') return undefined;
    if (!/^-?\d+$/.test(t)) fail(`'${t}' is not an integer in [${body}]`);
    return Number(t);
  };
  if (body.includes(':')) {
    const parts = body.split(':');
    if (parts.length !== 2) fail(`steps in slices are not supported: [${body}]`);
    return { kind: 'slice', start: int(parts[0]!), end: int(parts[1]!) };
  }
  const indexes = body.split(',').map((p) => int(p));
  if (indexes.some((x) => x === undefined)) fail(`empty index in [${body}]`);
  return { kind: 'indexes', indexes: indexes as number[] };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether the path selects the whole record ('$'): filters that do nothing are skipped. */
export function isIdentity(p: JsonPath): boolean {
  return p.segments.length === 0;
}

/** Applies the path to a value; throws JsonPathError when a definite step finds nothing. */
export function evaluate(p: JsonPath, root: unknown): unknown {
  const segs = p.segments;
  const definite = (s: Segment): boolean => (s.kind === 'names' && s.names.length === 1) || (s.kind === 'indexes' && s.indexes.length === 1);
  const lastIsNameUnion = segs.length > 0 && segs[segs.length - 1]!.kind === 'names' && (segs[segs.length - 1] as { names: string[] }).names.length > 1;
  const prefixDefinite = segs.slice(0, -1).every(definite);
  if (segs.every(definite)) {
    let cur = root;
    for (const s of segs) cur = step(cur, s, p, true)[0];
    return cur;
  }
  if (lastIsNameUnion && prefixDefinite) {
    let cur = root;
    for (const s of segs.slice(0, -1)) cur = step(cur, s, p, true)[0];
    if (!isObject(cur)) throw new JsonPathError(`${p.text}: the record is not a JSON object at that point`);
    const out: Record<string, unknown> = {};
    for (const n of (segs[segs.length - 1] as { names: string[] }).names) if (n in cur) out[n] = cur[n];
    return out;
  }
  let nodes: unknown[] = [root];
  for (const s of segs) nodes = nodes.flatMap((n) => step(n, s, p, false));
  return nodes;
}

function step(node: unknown, s: Segment, p: JsonPath, strict: boolean): unknown[] {
  const miss = (what: string): unknown[] => {
    if (strict) throw new JsonPathError(`${p.text}: ${what}`);
    return [];
  };
  switch (s.kind) {
    case 'names':
      if (!isObject(node)) return miss(`cannot select ${s.names.map((n) => `'${n}'`).join(',')} from a value that is not a JSON object`);
      return s.names.flatMap((n) => (n in node ? [node[n]] : miss(`the record has no member '${n}'`)));
    case 'wildcard':
      if (Array.isArray(node)) return node;
      if (isObject(node)) return Object.values(node);
      return miss('a wildcard needs an array or an object');
    case 'indexes':
      if (!Array.isArray(node)) return miss('cannot index a value that is not an array');
      return s.indexes.flatMap((i) => {
        const at = i < 0 ? node.length + i : i;
        // Out of range is an error even in a union (AWS: indexes outside the record's size fail).
        if (at < 0 || at >= node.length) throw new JsonPathError(`${p.text}: index ${i} is outside the record's ${node.length} element(s)`);
        return [node[at]];
      });
    case 'slice': {
      if (!Array.isArray(node)) return miss('cannot slice a value that is not an array');
      return node.slice(s.start ?? 0, s.end ?? node.length);
    }
  }
}
