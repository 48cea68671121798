/**
 * `sagebox logs` against an in-process server: merged, host-prefixed output,
 * --since, --follow until a job's terminal status (DescribeTrainingJob is a
 * stand-in here: the job features own the real one), endpoints until
 * interrupted, and the real binary as a child process.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as path from 'node:path';
import { startServer, type TestServer } from './helpers/server';
import { runLogs, type LogsOptions } from '../src/cli/logs-command';
import { hostLabel, parseSince } from '../src/cli/log-printer';
import { notFound } from '../src/api/errors';

const run = promisify(execFile);
const TRAINING = '/aws/sagemaker/TrainingJobs';
const BASE = 1_700_000_000_000;

function capture(isTTY = false): { out: { write(s: string): boolean; isTTY: boolean }; err: { write(s: string): boolean }; text(): string; errText(): string } {
  let o = '';
  let e = '';
  return {
    out: { write: (s: string) => ((o += s), true), isTTY },
    err: { write: (s: string) => ((e += s), true) },
    text: () => o,
    errText: () => e,
  };
}

describe('sagebox logs', () => {
  let s: TestServer;
  let status = 'InProgress';
  let describes = 0;
  const env = (): NodeJS.ProcessEnv => ({ AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' });
  const logs = (name: string, opts: LogsOptions, io = capture(), signal?: AbortSignal) =>
    runLogs(name, { endpointUrl: s.url, interval: 30, ...opts }, { out: io.out, err: io.err, env: env(), signal }).then((code) => ({ code, io }));
  const write = (group: string, stream: string, lines: [number, string][]): void => {
    const store = s.app.ctx.logs;
    store.append(store.ensureStream(group, stream), lines.map(([timestamp, message]) => ({ timestamp, message })));
  };

  before(async () => {
    s = await startServer();
    // Stand-ins for the job and endpoint features: only the statuses matter to `sagebox logs`.
    s.app.registry.sagemaker({
      DescribeTrainingJob: (input) => {
        if (input.TrainingJobName !== 'job1') throw notFound();
        describes++;
        return { TrainingJobName: 'job1', TrainingJobStatus: status, ...(status === 'Failed' ? { FailureReason: 'AlgorithmError: boom' } : {}) };
      },
      DescribeEndpoint: (input) => {
        if (input.EndpointName !== 'ep1') throw notFound();
        return { EndpointName: 'ep1', EndpointStatus: 'InService' };
      },
    });
    write(TRAINING, 'job1/algo-1-1700000000', [[BASE, 'a1 first'], [BASE + 20, 'a1 second'], [BASE + 20, 'a1 same time']]);
    write(TRAINING, 'job1/algo-2-1700000000', [[BASE + 10, 'a2 first'], [BASE + 30, 'a2 second']]);
    write(TRAINING, 'job10/algo-1-1700000000', [[BASE, 'not job1']]);
  });
  after(async () => s.stop());

  it('names hosts and parses --since', () => {
    assert.equal(hostLabel('job1/algo-1-1700000000', 'job1/'), 'algo-1');
    assert.equal(hostLabel('t1/i-0abc-1700000000/data-log', 't1/'), 'i-0abc/data-log');
    assert.equal(hostLabel('AllTraffic/i-0abc', ''), 'AllTraffic/i-0abc');
    assert.equal(parseSince('10m', 1_000_000), 400_000);
    assert.equal(parseSince('2024-01-01T00:00:00Z', 0), Date.UTC(2024, 0, 1));
    assert.throws(() => parseSince('yesterday', 0));
  });

  it('prints a job\'s streams merged by time, with host prefixes', async () => {
    const { code, io } = await logs('job1', {});
    assert.equal(code, 0);
    assert.equal(io.text(), ['algo-1 | a1 first', 'algo-2 | a2 first', 'algo-1 | a1 second', 'algo-1 | a1 same time', 'algo-2 | a2 second', ''].join('\n'));
    const since = await logs('job1', { since: new Date(BASE + 20).toISOString() });
    assert.equal(since.io.text(), ['algo-1 | a1 second', 'algo-1 | a1 same time', 'algo-2 | a2 second', ''].join('\n'));
    const tty = await logs('job1', {}, capture(true));
    assert.match(tty.io.text(), /^\x1b\[31malgo-1\x1b\[0m \| a1 first\n\x1b\[32malgo-2\x1b\[0m \| a2 first\n/);
  });

  it('--follow prints new lines (and new hosts) once, until the job ends', async () => {
    status = 'InProgress';
    describes = 0;
    const pending = logs('job1', { follow: true });
    const waitFor = async (n: number): Promise<void> => {
      while (describes < n) await new Promise((r) => setTimeout(r, 10));
    };
    await waitFor(3);
    write(TRAINING, 'job1/algo-2-1700000000', [[BASE + 40, 'a2 third']]);
    write(TRAINING, 'job1/algo-3-1700000000', [[BASE + 35, 'a3 first']]);
    await waitFor(6);
    write(TRAINING, 'job1/algo-1-1700000000', [[BASE + 50, 'a1 last words']]);
    status = 'Failed';
    const { code, io } = await pending;
    assert.equal(code, 1);
    const lines = io.text().split('\n');
    assert.deepEqual(lines.slice(0, 5), ['algo-1 | a1 first', 'algo-2 | a2 first', 'algo-1 | a1 second', 'algo-1 | a1 same time', 'algo-2 | a2 second']);
    // Written together while a pass may be half done: each printed once, in this pass or the next.
    assert.deepEqual(lines.slice(5, 7).sort(), ['algo-2 | a2 third', 'algo-3 | a3 first']);
    assert.deepEqual(lines.slice(7), ['algo-1 | a1 last words', '']);
    assert.equal(io.errText(), 'training job job1: Failed (AlgorithmError: boom)\n');
  });

  it('follows an endpoint\'s streams until interrupted', async () => {
    write('/aws/sagemaker/Endpoints/ep1', 'AllTraffic/i-0a', [[BASE, 'starting server'], [BASE + 2, 'ping ok']]);
    write('/aws/sagemaker/Endpoints/ep1', 'AllTraffic/i-0b', [[BASE + 1, 'starting server']]);
    const abort = new AbortController();
    const pending = logs('ep1', { follow: true }, capture(), abort.signal);
    await new Promise((r) => setTimeout(r, 150));
    write('/aws/sagemaker/Endpoints/ep1', 'AllTraffic/i-0b', [[BASE + 3, 'invoked']]);
    await new Promise((r) => setTimeout(r, 150));
    abort.abort();
    const { code, io } = await pending;
    assert.equal(code, 0);
    assert.equal(io.text(), ['AllTraffic/i-0a | starting server', 'AllTraffic/i-0b | starting server', 'AllTraffic/i-0a | ping ok', 'AllTraffic/i-0b | invoked', ''].join('\n'));
  });

  it('finds a job by its logs alone, and says so when nothing matches', async () => {
    write('/aws/sagemaker/ProcessingJobs', 'proc9/algo-1-1700000000', [[BASE, 'processing line']]);
    const found = await logs('proc9', {});
    assert.equal(found.io.text(), 'algo-1 | processing line\n');
    const missing = await logs('nothing-here', {});
    assert.equal(missing.code, 1);
    assert.match(missing.io.errText(), /no training, processing or transform job or endpoint named 'nothing-here'/);
    const refused = await runLogs('job1', { endpointUrl: 'http://127.0.0.1:1' }, { ...capture(), env: env() });
    assert.equal(refused, 1);
  });

  it('runs as the sagebox binary', async () => {
    const bin = path.join(__dirname, '..', 'bin', 'sagebox.js');
    const r = await run(process.execPath, [bin, 'logs', 'job1', '--endpoint-url', s.url, '--since', new Date(BASE + 30).toISOString()], { env: { ...process.env, ...env() } });
    assert.equal(r.stdout, ['algo-2 | a2 second', 'algo-3 | a3 first', 'algo-2 | a2 third', 'algo-1 | a1 last words', ''].join('\n'));
  });
});
