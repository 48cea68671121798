/**
 * followLogs against a scripted engine: follow streams that end early (as the
 * real engine's do at exit), re-attaching, and the catch-up reads that fill
 * the gaps without repeating a line.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type Dockerode from 'dockerode';
import type { ContainerState } from '../src/runtime/container-runtime';
import { followLogs } from '../src/runtime/docker/log-follow';
import { noopLogger } from '../src/runtime/logger';
import { collect } from './helpers/docker';

interface Message {
  ts: string;
  text: string;
}

/** A fixed-width engine timestamp, n nanoseconds after a base second. */
const ts = (n: number): string => `2024-05-01T10:00:00.${String(n).padStart(9, '0')}Z`;
const nanos = (raw: string): bigint => BigInt(Date.parse(raw.replace(/\.\d+Z$/, 'Z')) / 1000) * 1_000_000_000n + BigInt(raw.slice(20, 29));

function frames(messages: Message[]): Buffer {
  return Buffer.concat(
    messages.map((m) => {
      const payload = Buffer.from(`${m.ts} ${m.text}`);
      const header = Buffer.alloc(8);
      header[0] = 1;
      header.writeUInt32BE(payload.length, 4);
      return Buffer.concat([header, payload]);
    }),
  );
}

/** Serves `messages` like the engine: since (inclusive) and tail; follow streams cut as planned. */
class ScriptedEngine {
  readonly requests: Array<Record<string, unknown>> = [];
  private running = true;

  constructor(
    private readonly messages: Message[],
    /** Per follow request: how many of the matching messages it sends, and whether the container still runs after. */
    private readonly followPlan: Array<{ send: number; runningAfter: boolean }>,
  ) {}

  readonly docker = {
    modem: {
      dial: (options: { options: Record<string, unknown> }, cb: (err: unknown, res: unknown) => void) => {
        const query = { ...options.options };
        this.requests.push(query);
        let selected = this.messages;
        if (typeof query.tail === 'number') selected = selected.slice(-query.tail);
        if (typeof query.since === 'string') {
          const [sec, frac = '0'] = query.since.split('.');
          const since = BigInt(sec!) * 1_000_000_000n + BigInt(frac.padEnd(9, '0'));
          selected = selected.filter((m) => nanos(m.ts) >= since);
        }
        if (query.follow) {
          const plan = this.followPlan.shift() ?? { send: Infinity, runningAfter: false };
          selected = selected.slice(0, plan.send);
          this.running = plan.runningAfter;
        }
        cb(null, Readable.from([frames(selected)]));
      },
    },
  } as unknown as Dockerode;

  inspect = async (): Promise<ContainerState> =>
    ({ id: 'c1', name: 'c1', status: this.running ? 'running' : 'exited', running: this.running, labels: {} }) as ContainerState;
}

function read(engine: ScriptedEngine): Promise<string[]> {
  const source = { docker: engine.docker, log: noopLogger, inspect: engine.inspect, maxLineBytes: undefined };
  return collect(followLogs(source, 'c1', { follow: true })).then((lines) => lines.map((l) => l.message));
}

const numbered = (count: number): Message[] => Array.from({ length: count }, (_, i) => ({ ts: ts(i + 1), text: `line ${i + 1}\n` }));
const expected = (count: number): string[] => Array.from({ length: count }, (_, i) => `line ${i + 1}`);

describe('followLogs', () => {
  it('catches up on lines a follow stream did not send before the container stopped', async () => {
    const engine = new ScriptedEngine(numbered(5), [{ send: 3, runningAfter: false }]);
    assert.deepEqual(await read(engine), expected(5));
    assert.deepEqual(
      engine.requests.map((r) => [r.follow, r.tail, r.since]),
      [
        [true, undefined, undefined],
        [false, 1000, '1714557600.000000003'],
      ],
    );
  });

  it('reads everything since the last line when the catch-up tail does not reach back to it', async () => {
    const engine = new ScriptedEngine(numbered(1500), [{ send: 2, runningAfter: false }]);
    assert.deepEqual(await read(engine), expected(1500));
    assert.deepEqual(
      engine.requests.map((r) => [r.follow, r.tail]),
      [
        [true, undefined],
        [false, 1000],
        [false, undefined],
      ],
    );
  });

  it('re-attaches when the stream of a running container ends', async () => {
    const engine = new ScriptedEngine(numbered(6), [
      { send: 2, runningAfter: true },
      { send: Infinity, runningAfter: false },
    ]);
    assert.deepEqual(await read(engine), expected(6));
    assert.deepEqual(
      engine.requests.map((r) => r.follow),
      [true, true, false],
    );
  });

  it('skips exactly the lines already delivered when several share a timestamp', async () => {
    const messages = [
      { ts: ts(1), text: 'a\n' },
      { ts: ts(2), text: 'b\n' },
      { ts: ts(2), text: 'c\n' },
      { ts: ts(2), text: 'd\n' },
      { ts: ts(3), text: 'e\n' },
    ];
    const engine = new ScriptedEngine(messages, [{ send: 3, runningAfter: false }]);
    assert.deepEqual(await read(engine), ['a', 'b', 'c', 'd', 'e']);
  });

  it('never delivers a line cut by the end of a follow stream', async () => {
    const messages = [
      { ts: ts(1), text: 'first\n' },
      { ts: ts(2), text: 'long-' },
      { ts: ts(2), text: 'line\n' },
      { ts: ts(3), text: 'last' },
    ];
    const engine = new ScriptedEngine(messages, [{ send: 2, runningAfter: false }]);
    assert.deepEqual(await read(engine), ['first', 'long-line', 'last']);
  });
});
