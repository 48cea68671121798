/**
 * The CloudWatch Logs subset, read by real clients: the JS SDK, AWS CLI v2
 * (/usr/bin/aws: describe-log-streams, get-log-events, filter-log-events,
 * tail) and boto3 running the SageMaker Python SDK's tail loop. The server's
 * LogStore is seeded directly, as the job features write it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CloudWatchLogsClient, DeleteLogGroupCommand, DescribeLogGroupsCommand, DescribeLogStreamsCommand, FilterLogEventsCommand,
  GetLogEventsCommand, PutRetentionPolicyCommand, type FilterLogEventsCommandInput, type GetLogEventsCommandInput,
} from '@aws-sdk/client-cloudwatch-logs';
import { startServer, REGION, TEST_CREDENTIALS, type TestServer } from './helpers/server';
import { awsCli, boto3 } from './helpers/clients';
import { LogSink } from '../src/logs/log-store';
import { sweepRetention } from '../src/logs/retention';

const GROUP = '/aws/sagemaker/TrainingJobs';
const S1 = 'job1/algo-1-1700000000';
const S2 = 'job1/algo-2-1700000000';
const BASE = 1_700_000_000_000;
const BIG = `big line ${'x'.repeat(100 * 1024)} end`;

interface Seeded {
  stream: string;
  timestamp: number;
  message: string;
  seq: number;
}

function messageFor(host: string, i: number): string {
  if (host === 'algo-1' && i === 1500) return BIG;
  let m = `${host} line ${i}`;
  if (i % 50 === 0) m = `ERROR ${m}${i % 300 === 0 ? ' disk full on /opt/ml' : ''}`;
  else if (i % 75 === 1) m = `WARN ${m}`;
  if (i % 7 === 0) m += ' ünïcødé ✓ 日本語 🚀';
  return m;
}

/** Writes the two job1 streams (plus decoys) and returns what was written, in write order. */
function seed(s: TestServer): Seeded[] {
  const store = s.app.ctx.logs;
  const out: Seeded[] = [];
  let seq = 0;
  const write = (stream: string, host: string, n: number, ts: (i: number) => number): void => {
    const id = store.ensureStream(GROUP, stream, BASE);
    const batch = [];
    for (let i = 0; i < n; i++) {
      const e = { timestamp: ts(i), message: messageFor(host, i) };
      batch.push(e);
      out.push({ stream, ...e, seq: seq++ });
    }
    // Several appends, as a LogSink would make them.
    for (let i = 0; i < batch.length; i += 700) store.append(id, batch.slice(i, i + 700));
  };
  // Three events share every algo-1 timestamp; algo-2 shares many timestamps with algo-1.
  write(S1, 'algo-1', 3000, (i) => BASE + Math.floor(i / 3) * 10);
  write(S2, 'algo-2', 2000, (i) => BASE + i * 5);
  write('job10/algo-1-1700000000', 'decoy', 5, (i) => BASE + i);
  write('job2/algo-1-1700000100', 'other', 5, (i) => BASE + 100_000 + i);
  return out;
}

const byTime = (a: Seeded, b: Seeded): number => a.timestamp - b.timestamp || a.seq - b.seq;

describe('CloudWatch Logs API', () => {
  let s: TestServer;
  let logs: CloudWatchLogsClient;
  let all: Seeded[];
  let job1: Seeded[];
  const inStream = (name: string): Seeded[] => all.filter((e) => e.stream === name);

  before(async () => {
    s = await startServer();
    logs = new CloudWatchLogsClient({ endpoint: s.url, region: REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    all = seed(s);
    job1 = all.filter((e) => e.stream.startsWith('job1/')).sort(byTime);
  });
  after(async () => {
    logs.destroy();
    await s.stop();
  });

  async function readForward(input: GetLogEventsCommandInput): Promise<{ messages: string[]; pages: number }> {
    const messages: string[] = [];
    let token: string | undefined;
    for (let pages = 1; ; pages++) {
      const r = await logs.send(new GetLogEventsCommand({ ...input, startFromHead: true, nextToken: token }));
      assert.ok(r.nextForwardToken?.startsWith('f/') && r.nextBackwardToken?.startsWith('b/'));
      if (!r.events!.length) {
        if (token) assert.equal(r.nextForwardToken, token, 'at the end the same forward token comes back');
        return { messages, pages };
      }
      messages.push(...r.events!.map((e) => e.message!));
      token = r.nextForwardToken;
    }
  }

  describe('DescribeLogGroups / DescribeLogStreams', () => {
    it('describes the group', async () => {
      const r = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws/sagemaker/' }));
      assert.deepEqual(r.logGroups!.map((g) => g.logGroupName), [GROUP]);
      const g = r.logGroups![0]!;
      assert.equal(g.arn, `arn:aws:logs:${REGION}:000000000000:log-group:${GROUP}:*`);
      assert.ok(g.storedBytes! > 100 * 1024);
      assert.equal(g.retentionInDays, undefined);
      const none = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/nothing' }));
      assert.deepEqual(none.logGroups, []);
    });

    it('lists a job\'s streams by prefix, ascending and descending', async () => {
      const r = await logs.send(new DescribeLogStreamsCommand({ logGroupName: GROUP, logStreamNamePrefix: 'job1/', orderBy: 'LogStreamName' }));
      assert.deepEqual(r.logStreams!.map((x) => x.logStreamName), [S1, S2]);
      assert.equal(r.nextToken, undefined);
      const st = r.logStreams![0]!;
      assert.equal(st.firstEventTimestamp, BASE);
      assert.equal(st.lastEventTimestamp, BASE + 999 * 10);
      assert.equal(st.creationTime, BASE);
      assert.equal(st.arn, `arn:aws:logs:${REGION}:000000000000:log-group:${GROUP}:log-stream:${S1}`);
      const d = await logs.send(new DescribeLogStreamsCommand({ logGroupIdentifier: `arn:aws:logs:${REGION}:000000000000:log-group:${GROUP}`, logStreamNamePrefix: 'job1/', descending: true }));
      assert.deepEqual(d.logStreams!.map((x) => x.logStreamName), [S2, S1]);
    });

    it('pages with limit and nextToken, in both orders', async () => {
      for (const orderBy of ['LogStreamName', 'LastEventTime'] as const) {
        for (const descending of [false, true]) {
          const names: string[] = [];
          let token: string | undefined;
          do {
            const r = await logs.send(new DescribeLogStreamsCommand({ logGroupName: GROUP, orderBy, descending, limit: 1, nextToken: token }));
            assert.ok(r.logStreams!.length <= 1);
            names.push(...r.logStreams!.map((x) => x.logStreamName!));
            token = r.nextToken;
          } while (token);
          const expected =
            orderBy === 'LogStreamName'
              ? ['job1/algo-1-1700000000', 'job1/algo-2-1700000000', 'job10/algo-1-1700000000', 'job2/algo-1-1700000100']
              : ['job10/algo-1-1700000000', 'job1/algo-1-1700000000', 'job1/algo-2-1700000000', 'job2/algo-1-1700000100'];
          assert.deepEqual(names, descending ? [...expected].reverse() : expected, `${orderBy} descending=${descending}`);
        }
      }
    });

    it('refuses a prefix with orderBy LastEventTime, and limits outside 1-50', async () => {
      await assert.rejects(logs.send(new DescribeLogStreamsCommand({ logGroupName: GROUP, logStreamNamePrefix: 'job1/', orderBy: 'LastEventTime' })), {
        name: 'InvalidParameterException',
        message: 'Cannot order by LastEventTime with a logStreamNamePrefix.',
      });
      await assert.rejects(logs.send(new DescribeLogStreamsCommand({ logGroupName: GROUP, limit: 51 })), (e: Error) => /limit/.test(e.message));
    });
  });

  describe('GetLogEvents', () => {
    it('pages forward from the head until an empty page: every line, in order', async () => {
      const { messages, pages } = await readForward({ logGroupName: GROUP, logStreamName: S1, limit: 700 });
      assert.deepEqual(messages, inStream(S1).map((e) => e.message));
      assert.equal(pages, Math.ceil(3000 / 700) + 1);
      assert.ok(messages.includes(BIG));
      assert.ok(messages.some((m) => m.includes('日本語 🚀')));
    });

    it('without a limit fills pages up to 1 MB', async () => {
      const r = await logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: S1, startFromHead: true }));
      assert.equal(r.events!.length, 3000);
      const { messages } = await readForward({ logGroupName: GROUP, logStreamName: S1 });
      assert.equal(messages.length, 3000);
    });

    it('reads the tail, then pages backward to the head', async () => {
      const expected = inStream(S2).map((e) => e.message);
      const first = await logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: S2, limit: 300 }));
      assert.deepEqual(first.events!.map((e) => e.message), expected.slice(-300));
      const pages: string[][] = [first.events!.map((e) => e.message!)];
      let token = first.nextBackwardToken!;
      for (;;) {
        const r = await logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: S2, limit: 300, nextToken: token }));
        if (!r.events!.length) {
          assert.equal(r.nextBackwardToken, token);
          break;
        }
        pages.unshift(r.events!.map((e) => e.message!));
        token = r.nextBackwardToken!;
      }
      assert.deepEqual(pages.flat(), expected);
      // The forward token of the tail page finds nothing new; after a new event it finds exactly that.
      const tailForward = await logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: S2, nextToken: first.nextForwardToken }));
      assert.deepEqual(tailForward.events, []);
    });

    it('startTime is inclusive and endTime exclusive, also for equal timestamps', async () => {
      const t = BASE + 500 * 10; // three algo-1 events carry it
      const r = await logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: S1, startTime: t, endTime: t + 20, startFromHead: true }));
      assert.deepEqual(r.events!.map((e) => e.message), inStream(S1).filter((e) => e.timestamp >= t && e.timestamp < t + 20).map((e) => e.message));
      assert.equal(r.events!.length, 6);
      assert.equal(r.events![0]!.timestamp, t);
      assert.ok(r.events![0]!.ingestionTime! > 0);
    });

    it('answers ResourceNotFoundException for a missing group or stream', async () => {
      await assert.rejects(logs.send(new GetLogEventsCommand({ logGroupName: '/aws/sagemaker/Nope', logStreamName: S1 })), (e: Error & { $metadata?: { httpStatusCode?: number } }) => {
        assert.equal(e.name, 'ResourceNotFoundException');
        assert.equal(e.message, 'The specified log group does not exist.');
        assert.equal(e.$metadata?.httpStatusCode, 400);
        return true;
      });
      await assert.rejects(logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: 'job1/algo-9-1' })), {
        name: 'ResourceNotFoundException',
        message: 'The specified log stream does not exist.',
      });
      await assert.rejects(logs.send(new DescribeLogStreamsCommand({ logGroupName: '/aws/sagemaker/Nope' })), { name: 'ResourceNotFoundException', message: 'The specified log group does not exist.' });
      await assert.rejects(logs.send(new FilterLogEventsCommand({ logGroupName: '/aws/sagemaker/Nope' })), { name: 'ResourceNotFoundException' });
      await assert.rejects(logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: S1, nextToken: 'garbage' })), { name: 'InvalidParameterException' });
    });
  });

  describe('FilterLogEvents', () => {
    async function filterAll(input: FilterLogEventsCommandInput): Promise<{ events: { stream: string; message: string; eventId: string }[]; pages: number }> {
      const events: { stream: string; message: string; eventId: string }[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const r = await logs.send(new FilterLogEventsCommand({ logGroupName: GROUP, ...input, nextToken: token }));
        pages++;
        events.push(...r.events!.map((e) => ({ stream: e.logStreamName!, message: e.message!, eventId: e.eventId! })));
        token = r.nextToken;
      } while (token);
      return { events, pages };
    }

    it('interleaves a job\'s streams by timestamp, paging with nextToken', async () => {
      const { events, pages } = await filterAll({ logStreamNamePrefix: 'job1/', limit: 400 });
      assert.deepEqual(events.map((e) => `${e.stream} ${e.message}`), job1.map((e) => `${e.stream} ${e.message}`));
      assert.equal(pages, Math.ceil(5000 / 400));
      assert.equal(new Set(events.map((e) => e.eventId)).size, 5000);
    });

    it('filters with terms, phrases, ?alternatives and -exclusions', async () => {
      const cases: [string, (m: string) => boolean][] = [
        ['ERROR', (m) => m.includes('ERROR')],
        ['ERROR algo-2', (m) => m.includes('ERROR') && m.includes('algo-2')],
        ['"disk full"', (m) => m.includes('disk full')],
        ['?ERROR ?WARN', (m) => m.includes('ERROR') || m.includes('WARN')],
        ['ERROR -disk', (m) => m.includes('ERROR') && !m.includes('disk')],
        ['日本語', (m) => m.includes('日本語')],
        ['%line 1[0-9]{3} %', (m) => /line 1[0-9]{3} /u.test(m)],
        ['', () => true],
      ];
      for (const [pattern, pred] of cases) {
        const { events } = await filterAll({ logStreamNamePrefix: 'job1/', filterPattern: pattern, limit: 97 });
        const expected = job1.filter((e) => pred(e.message));
        assert.ok(expected.length > 0, pattern);
        assert.deepEqual(events.map((e) => e.message), expected.map((e) => e.message), `pattern ${pattern}`);
      }
      await assert.rejects(logs.send(new FilterLogEventsCommand({ logGroupName: GROUP, filterPattern: '{ $.level = "x" }' })), { name: 'InvalidParameterException' });
    });

    it('takes stream names, time ranges, and newest-first order', async () => {
      const { events } = await filterAll({ logStreamNames: [S2], startTime: BASE + 100, endTime: BASE + 200 });
      assert.deepEqual(events.map((e) => e.message), inStream(S2).filter((e) => e.timestamp >= BASE + 100 && e.timestamp < BASE + 200).map((e) => e.message));
      const desc = await filterAll({ logStreamNamePrefix: 'job1/', startFromHead: false, limit: 333 });
      assert.deepEqual(desc.events.map((e) => e.message), [...job1].reverse().map((e) => e.message));
      await assert.rejects(logs.send(new FilterLogEventsCommand({ logGroupName: GROUP, logStreamNames: [S1], logStreamNamePrefix: 'job1/' })), { name: 'InvalidParameterException' });
    });
  });

  describe('AWS CLI v2', () => {
    // CLI v2.9 predates AWS_ENDPOINT_URL: name the endpoint.
    const cli = (args: string[]): ReturnType<typeof awsCli> => awsCli(s.clientEnv, ['--endpoint-url', s.url, ...args]);
    it('describe-log-streams, get-log-events, filter-log-events', async () => {
      const d = await cli(['logs', 'describe-log-streams', '--log-group-name', GROUP, '--log-stream-name-prefix', 'job1/']);
      assert.deepEqual(d.json.logStreams.map((x: { logStreamName: string }) => x.logStreamName), [S1, S2]);
      const g = await cli(['logs', 'get-log-events', '--log-group-name', GROUP, '--log-stream-name', S1, '--start-from-head']);
      assert.deepEqual(g.json.events.map((e: { message: string }) => e.message), inStream(S1).map((e) => e.message));
      const f = await cli(['logs', 'filter-log-events', '--log-group-name', GROUP, '--log-stream-name-prefix', 'job1/', '--page-size', '900']);
      assert.deepEqual(f.json.events.map((e: { message: string }) => e.message), job1.map((e) => e.message));
      const e = await cli(['logs', 'filter-log-events', '--log-group-name', GROUP, '--filter-pattern', '"disk full"']);
      const everywhere = [...all].sort(byTime).filter((x) => x.message.includes('disk full'));
      assert.deepEqual(e.json.events.map((x: { logStreamName: string; message: string }) => `${x.logStreamName} ${x.message}`), everywhere.map((x) => `${x.stream} ${x.message}`));
    });

    it('aws logs tail prints every line of the group, in order', async () => {
      const r = await cli(['logs', 'tail', GROUP, '--log-stream-name-prefix', 'job1/', '--since', '20000d']);
      const lines = r.stdout.split('\n').filter((l) => l !== '');
      assert.equal(lines.length, job1.length);
      lines.forEach((line, i) => {
        const [, , stream, message] = /^(\S+) (\S+) (.*)$/s.exec(line) ?? [];
        assert.equal(`${stream} ${message}`, `${job1[i]!.stream} ${job1[i]!.message}`, `line ${i}`);
      });
      const errs = await cli(['logs', 'tail', GROUP, '--since', '20000d', '--format', 'short', '--filter-pattern', 'ERROR algo-1']);
      assert.equal(errs.stdout.trim().split('\n').length, job1.filter((x) => x.message.includes('ERROR') && x.message.includes('algo-1')).length);
    });

    it('answers ResourceNotFoundException to the CLI', async () => {
      await assert.rejects(cli(['logs', 'get-log-events', '--log-group-name', GROUP, '--log-stream-name', 'job1/nope']), (e: Error) =>
        /ResourceNotFoundException.*The specified log stream does not exist\./s.test(e.message),
      );
    });
  });

  it('boto3 running the SageMaker Python SDK\'s tail loop prints every line exactly once', async () => {
    // The SDK's logs_for_job: list the job's streams, then per stream page GetLogEvents
    // (startTime = last timestamp seen, startFromHead) until an empty page, skipping what
    // was already printed at that timestamp, and merge the streams by timestamp. Polled twice,
    // as a job that is still running would be; the second pass must print nothing again.
    const r = await boto3(
      s.clientEnv,
      `
import boto3, json, os, sys
logs = boto3.client('logs', endpoint_url=os.environ['AWS_ENDPOINT_URL'])
group, job, instances = sys.argv[1], sys.argv[2], 2
streams = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=job + '/', orderBy='LogStreamName', limit=instances)['logStreams']
names = [s['logStreamName'] for s in streams]
positions = {n: (0, 0) for n in names}

def read_stream(name, start, skip):
    token = None
    while True:
        args = dict(logGroupName=group, logStreamName=name, startTime=start, startFromHead=True)
        if token is not None:
            args['nextToken'] = token
        page = logs.get_log_events(**args)
        token = page['nextForwardToken']
        events = page['events']
        if not events:
            return
        if len(events) > skip:
            events, skip = events[skip:], 0
        else:
            events, skip = [], skip - len(events)
        for ev in events:
            yield ev

out = []
for poll in range(2):
    iters = [read_stream(n, *positions[n]) for n in names]
    heads = [next(it, None) for it in iters]
    while any(h is not None for h in heads):
        i = min((k for k, h in enumerate(heads) if h is not None), key=lambda k: heads[k]['timestamp'])
        ev = heads[i]
        out.append([poll, names[i], ev['message']])
        ts, count = positions[names[i]]
        positions[names[i]] = (ts, count + 1) if ev['timestamp'] == ts else (ev['timestamp'], 1)
        heads[i] = next(iters[i], None)
print(json.dumps(out))
`,
      [GROUP, 'job1'],
    );
    const out = JSON.parse(r.stdout) as [number, string, string][];
    assert.equal(out.filter(([poll]) => poll === 1).length, 0, 'a second poll prints nothing again');
    assert.equal(out.length, job1.length);
    // Per stream: every line once, in order. Across streams: non-decreasing timestamps.
    for (const name of [S1, S2]) assert.deepEqual(out.filter(([, n]) => n === name).map(([, , m]) => m), inStream(name).map((e) => e.message));
    const ts = new Map(all.map((e) => [`${e.stream} ${e.message}`, e.timestamp]));
    const times = out.map(([, n, m]) => ts.get(`${n} ${m}`)!);
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! >= times[i - 1]!, `merged order at ${i}`);
  });

  it('retention: PutRetentionPolicy, the sweep, DeleteLogGroup', async () => {
    const store = s.app.ctx.logs;
    const g = '/aws/sagemaker/ProcessingJobs';
    const id = store.ensureStream(g, 'p1/algo-1-1700000000');
    const now = Date.now();
    store.append(id, [
      { timestamp: now - 10 * 86_400_000, message: 'old' },
      { timestamp: now - 2 * 86_400_000, message: 'recent' },
      { timestamp: now, message: 'new' },
    ]);
    await assert.rejects(logs.send(new PutRetentionPolicyCommand({ logGroupName: g, retentionInDays: 2 })), { name: 'InvalidParameterException' });
    await assert.rejects(logs.send(new PutRetentionPolicyCommand({ logGroupName: '/nope', retentionInDays: 3 })), { name: 'ResourceNotFoundException' });
    await logs.send(new PutRetentionPolicyCommand({ logGroupName: g, retentionInDays: 3 }));
    const described = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: g }));
    assert.equal(described.logGroups![0]!.retentionInDays, 3);

    const swept = await sweepRetention(s.app.ctx.db, { now, defaultDays: 0 });
    assert.deepEqual(swept, { groups: 1, events: 1 });
    const r = await logs.send(new GetLogEventsCommand({ logGroupName: g, logStreamName: 'p1/algo-1-1700000000', startFromHead: true }));
    assert.deepEqual(r.events!.map((e) => e.message), ['recent', 'new']);
    const st = store.stream(g, 'p1/algo-1-1700000000')!;
    assert.equal(st.firstEvent, now - 2 * 86_400_000);
    assert.equal(st.storedBytes, Buffer.byteLength('recentnew'));
    // A writer still holding the deleted stream re-creates it instead of failing.
    const sink = new LogSink(store, id);
    await logs.send(new DeleteLogGroupCommand({ logGroupName: g }));
    await assert.rejects(logs.send(new DescribeLogStreamsCommand({ logGroupName: g })), { name: 'ResourceNotFoundException' });
    await assert.rejects(logs.send(new DeleteLogGroupCommand({ logGroupName: g })), { name: 'ResourceNotFoundException' });
    sink.write({ timestamp: now, message: 'after delete' });
    sink.close();
    const again = await logs.send(new GetLogEventsCommand({ logGroupName: g, logStreamName: 'p1/algo-1-1700000000', startFromHead: true }));
    assert.deepEqual(again.events!.map((e) => e.message), ['after delete']);
    // Groups without a policy keep everything under the default (0 = forever).
    assert.deepEqual(await sweepRetention(s.app.ctx.db, { now: now + 10_000 * 86_400_000, defaultDays: 0 }), { groups: 0, events: 0 });
  });

  it('deleteJobLogs removes one job\'s streams only', async () => {
    const store = s.app.ctx.logs;
    const g = '/aws/sagemaker/TransformJobs';
    store.append(store.ensureStream(g, 't1/i-1-1700000000'), [{ timestamp: BASE, message: 'a' }]);
    store.append(store.ensureStream(g, 't1/i-1-1700000000/data-log'), [{ timestamp: BASE, message: 'b' }]);
    store.append(store.ensureStream(g, 't10/i-1-1700000000'), [{ timestamp: BASE, message: 'c' }]);
    store.deleteJobLogs(g, 't1');
    const r = await logs.send(new DescribeLogStreamsCommand({ logGroupName: g }));
    assert.deepEqual(r.logStreams!.map((x) => x.logStreamName), ['t10/i-1-1700000000']);
  });

  it('a 1,000,000-line stream written through LogSink reads back completely', async () => {
    const store = s.app.ctx.logs;
    const name = 'big/algo-1-1700000000';
    const N = 1_000_000;
    const t0 = performance.now();
    const sink = new LogSink(store, store.ensureStream(GROUP, name));
    for (let i = 0; i < N; i++) sink.write({ timestamp: BASE + Math.floor(i / 10), message: `line ${i}` });
    sink.close();
    const wrote = performance.now() - t0;

    const t1 = performance.now();
    let next = 0;
    let token: string | undefined;
    let pages = 0;
    for (;;) {
      const r = await logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: name, startFromHead: true, nextToken: token }));
      pages++;
      if (!r.events!.length) break;
      for (const e of r.events!) {
        if (e.message !== `line ${next}`) assert.fail(`expected line ${next}, got ${e.message}`);
        next++;
      }
      token = r.nextForwardToken;
    }
    const read = performance.now() - t1;
    assert.equal(next, N);

    const t2 = performance.now();
    const f = await logs.send(new FilterLogEventsCommand({ logGroupName: GROUP, logStreamNamePrefix: 'big/', filterPattern: '"line 999999"' }));
    const filtered = performance.now() - t2;
    assert.ok(f.events!.length === 0 ? f.nextToken !== undefined : f.events![0]!.message === 'line 999999');
    console.log(`# 1,000,000 lines: LogSink write ${(wrote / 1000).toFixed(1)} s; GetLogEvents ${pages} pages ${(read / 1000).toFixed(1)} s; one FilterLogEvents page ${(filtered / 1000).toFixed(2)} s`);
  });
});

describe('CloudWatch Logs constraint violations', () => {
  it('answer InvalidParameterException, as the Logs model says, with the AWS wording', async () => {
    const s = await startServer();
    const logs = new CloudWatchLogsClient({ endpoint: s.url, region: REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    try {
      await assert.rejects(logs.send(new DescribeLogStreamsCommand({ logGroupName: '/aws/sagemaker/TrainingJobs', limit: 51 })), (e: any) => {
        assert.equal(e.name, 'InvalidParameterException');
        assert.match(e.message, /Value '51' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50/);
        return true;
      });
    } finally {
      logs.destroy();
      await s.stop();
    }
  });
});
