/**
 * How `sagebox logs` shows lines: `<host> | <message>`, hosts padded to one
 * width and, on a terminal, one colour per host (the SageMaker Python SDK's
 * palette). Also the --since parser.
 */
const COLOURS = [31, 32, 33, 34, 35, 36];
const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export class UsageError extends Error {}

/**
 * The host part of a stream name: the resource's prefix and the
 * `-<epoch seconds>` suffix removed (`job/algo-1-1700000000` -> `algo-1`,
 * `job/i-0abc-1700000000/data-log` -> `i-0abc/data-log`); endpoint streams
 * (`AllTraffic/i-0abc`) stay whole.
 */
export function hostLabel(stream: string, prefix: string): string {
  const rest = prefix && stream.startsWith(prefix) ? stream.slice(prefix.length) : stream;
  return rest.replace(/-\d{9,11}(?=\/|$)/, '');
}

/** `30s`, `10m`, `2h`, `1d`, `1w` back from now, or an ISO 8601 time; epoch ms. */
export function parseSince(value: string, now: number): number {
  const m = /^(\d+)([smhdw])$/.exec(value.trim());
  if (m) return now - Number(m[1]) * UNITS[m[2]!]!;
  const t = Date.parse(value);
  if (Number.isFinite(t)) return t;
  throw new UsageError(`--since '${value}' is neither a duration (30s, 10m, 2h, 1d, 1w) nor an ISO 8601 time`);
}

export class LinePrinter {
  private readonly colours = new Map<string, number>();
  private width = 0;
  constructor(private readonly out: { write(s: string): unknown }, private readonly colour: boolean) {}

  line(host: string, message: string): void {
    let c = this.colours.get(host);
    if (c === undefined) {
      c = COLOURS[this.colours.size % COLOURS.length]!;
      this.colours.set(host, c);
    }
    this.width = Math.max(this.width, host.length);
    const label = host.padEnd(this.width);
    const text = message.endsWith('\n') ? message.slice(0, -1) : message;
    this.out.write(this.colour ? `\x1b[${c}m${label}\x1b[0m | ${text}\n` : `${label} | ${text}\n`);
  }
}
