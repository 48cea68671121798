/**
 * DataProcessing (spec 4.3): InputFilter on each input record, JoinSource
 * Input (the input record joined with its prediction), OutputFilter on each
 * output record. Records are CSV rows (arrays of cell strings; index paths
 * only) or JSON values (JSON and JSON Lines). Pure.
 */
import { evaluate, isIdentity, parseJsonPath, type JsonPath } from './jsonpath';

export type RecordFormat = 'csv' | 'json';

/** A record the filters or the join cannot handle. */
export class DataProcessingError extends Error {
  override readonly name = 'DataProcessingError';
}

/** The format a MIME type names; undefined when it names neither (then each record is sniffed). */
export function formatOf(mime: string | undefined): RecordFormat | undefined {
  const m = (mime ?? '').split(';')[0]!.trim().toLowerCase();
  if (m === 'text/csv' || m === 'application/csv' || m === 'text/x-csv') return 'csv';
  if (m.includes('json')) return 'json';
  return undefined;
}

function sniff(text: string): RecordFormat {
  const c = text.trimStart()[0];
  return c === '{' || c === '[' || c === '"' ? 'json' : 'csv';
}

/** One CSV row (RFC 4180 quoting; no line breaks inside: records are lines). */
export function parseCsvRow(text: string): string[] {
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let cell = '';
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) throw new DataProcessingError('unterminated quoted CSV field');
        cell += text.slice(i, q);
        if (text[q + 1] === '"') {
          cell += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      // Anything between the closing quote and the next comma is kept, as lenient readers do.
      const comma = text.indexOf(',', i);
      cell += comma < 0 ? text.slice(i) : text.slice(i, comma);
      cells.push(cell);
      if (comma < 0) return cells;
      i = comma + 1;
    } else {
      const comma = text.indexOf(',', i);
      cells.push(comma < 0 ? text.slice(i) : text.slice(i, comma));
      if (comma < 0) return cells;
      i = comma + 1;
    }
  }
}

const csvCell = (v: unknown): string => {
  const s = typeof v === 'string' ? v : v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function formatCsvRow(value: unknown): string {
  return Array.isArray(value) ? value.map(csvCell).join(',') : csvCell(value);
}

function parse(text: string, format: RecordFormat): unknown {
  if (format === 'csv') return parseCsvRow(text);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new DataProcessingError(`a record is not valid JSON: ${(err as Error).message}`);
  }
}

function serialise(value: unknown, format: RecordFormat): string {
  return format === 'csv' ? formatCsvRow(value) : JSON.stringify(value);
}

function select(path: JsonPath | undefined, value: unknown, what: string): unknown {
  if (!path) return value;
  try {
    return evaluate(path, value);
  } catch (err) {
    throw new DataProcessingError(`${what} ${(err as Error).message}`);
  }
}

export interface DataProcessingSpec {
  InputFilter?: string;
  OutputFilter?: string;
  JoinSource?: string;
}

/** What to do with each record; `active` false means bytes pass through untouched. */
export class RecordProcessor {
  private readonly input?: JsonPath;
  private readonly output?: JsonPath;
  readonly join: boolean;

  constructor(spec: DataProcessingSpec | undefined, private readonly inFormat: RecordFormat | undefined, private readonly outFormat: RecordFormat | undefined) {
    const path = (p: string | undefined): JsonPath | undefined => {
      if (p === undefined || p.trim() === '') return undefined;
      const parsed = parseJsonPath(p);
      return isIdentity(parsed) ? undefined : parsed;
    };
    this.input = path(spec?.InputFilter);
    this.output = path(spec?.OutputFilter);
    this.join = spec?.JoinSource === 'Input';
  }

  get filtersInput(): boolean {
    return this.input !== undefined;
  }

  /** Whether output records must be taken apart (join or OutputFilter). */
  get processesOutput(): boolean {
    return this.join || this.output !== undefined;
  }

  /** InputFilter applied to one record (its payload, without line terminator). */
  filterInput(record: Buffer): Buffer {
    if (!this.input) return record;
    const text = record.toString('utf8');
    const format = this.inFormat ?? sniff(text);
    return Buffer.from(serialise(select(this.input, parse(text, format), 'InputFilter'), format));
  }

  /** One output record: joined with its input when asked, then OutputFilter. */
  assemble(input: Buffer | undefined, prediction: Buffer): Buffer {
    const predText = prediction.toString('utf8');
    const outFormat = this.outFormat ?? sniff(predText);
    if (!this.join) {
      const value = parse(predText, outFormat);
      return Buffer.from(serialise(select(this.output, value, 'OutputFilter'), outFormat));
    }
    const inText = stripEol(input ?? Buffer.alloc(0)).toString('utf8');
    const inFormat = this.inFormat ?? sniff(inText);
    let joined: unknown;
    if (inFormat === 'csv') {
      const pred = outFormat === 'csv' ? parseCsvRow(predText) : toCells(parse(predText, 'json'));
      joined = [...parseCsvRow(inText), ...pred];
    } else {
      const source = parse(inText, 'json');
      const pred = outFormat === 'json' ? parse(predText, 'json') : predText;
      joined = typeof source === 'object' && source !== null && !Array.isArray(source)
        ? { ...(source as Record<string, unknown>), SageMakerOutput: pred }
        : { SageMakerInput: source, SageMakerOutput: pred };
    }
    return Buffer.from(serialise(select(this.output, joined, 'OutputFilter'), inFormat));
  }
}

function toCells(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [v];
}

export function stripEol(b: Buffer): Buffer {
  let end = b.length;
  if (end > 0 && b[end - 1] === 10) end--;
  if (end > 0 && b[end - 1] === 13) end--;
  return b.subarray(0, end);
}

/**
 * The output records of one response: one per line when the batch held
 * several records or lines are assembled (a JSON array with one element per
 * record is taken apart too), else the whole response.
 */
export function outputRecords(response: Buffer, expected: number, byLine: boolean): Buffer[] {
  if (!byLine && expected === 1) return [stripEol(response)];
  const parts: Buffer[] = [];
  let start = 0;
  for (;;) {
    const nl = response.indexOf(10, start);
    if (nl < 0) {
      if (start < response.length) parts.push(stripEol(response.subarray(start)));
      break;
    }
    parts.push(stripEol(response.subarray(start, nl + 1)));
    start = nl + 1;
  }
  if (parts.length === 1 && expected > 1) {
    try {
      const v = JSON.parse(parts[0]!.toString('utf8')) as unknown;
      if (Array.isArray(v) && v.length === expected) return v.map((x) => Buffer.from(JSON.stringify(x)));
    } catch {
      // not a JSON array: reported by the caller as a count mismatch
    }
  }
  return parts;
}
