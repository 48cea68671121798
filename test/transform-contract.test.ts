/**
 * Batch transform against real containers, through the JS SDK: the
 * recorder image answers every /invocations request with a description of
 * what it received (or upper-cases it), so each test checks exactly the
 * requests a job sent (record boundaries, sizes, headers, env, chunking,
 * concurrency) and the output objects it stored.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { CreateModelCommand, StopTransformJobCommand } from '@aws-sdk/client-sagemaker';
import { startServer, type TestServer } from './helpers/server';
import { removeLabelled, requireDocker } from './helpers/docker';
import {
  BUCKET, RECORDER, createJob, createModel, describe as describeJob, getObject, getText, jobLogs, listKeys, putObject, recorded, runJob, settle, TEST_CONFIG, uniqueName,
} from './helpers/transform';
import { frameRecordIO, frameTfRecord } from '../src/jobs/transform/records';
import type { TransformJobs } from '../src/jobs/transform/transform-jobs';

let s: TestServer;
const loc = (p: string): string => `s3://${BUCKET}/${p}`;

before(async () => {
  await requireDocker();
  s = await startServer(TEST_CONFIG);
  const f = s.app.features.find((x) => x.name === 'transform-jobs') as unknown as { jobs: TransformJobs };
  f.jobs.kind.settings.retryDelayMs = 50;
  f.jobs.kind.settings.healthCheckTimeoutSeconds = 20;
});

after(async () => {
  await s.stop();
  await removeLabelled(await requireDocker(), { 'sagebox.instance': s.app.config.instanceId });
});

/** A model on the recorder with `env`, and a job over `files` (relative key -> content) under a fresh prefix. */
async function setup(prefix: string, files: Record<string, string | Buffer>, env: Record<string, string> = {}): Promise<{ model: string; name: string; input: string; output: string; out: string }> {
  const model = uniqueName(`${prefix}-m`);
  await createModel(s, model, env);
  const name = uniqueName(prefix);
  for (const [k, v] of Object.entries(files)) await putObject(s, `${name}/in/${k}`, v);
  return { model, name, input: loc(`${name}/in/`), output: loc(`${name}/out`), out: `${name}/out/` };
}

describe('requests the container receives', { concurrency: 3 }, () => {
  it('SingleRecord + Line: one request per line without its newline, Content-Type/Accept, env layering, output in order', async () => {
    const j = await setup('single', { 'a.csv': '1,2\n3,4\r\n\n5,6' }, { MODEL_VAR: 'model', SHARED: 'model' });
    await runJob(s, {
      ...j,
      extra: {
        BatchStrategy: 'SingleRecord',
        Environment: { JOB_VAR: 'job', SHARED: 'job' },
        TransformInput: { ContentType: 'text/csv', SplitType: 'Line' } as never,
        TransformOutput: { Accept: 'application/json', AssembleWith: 'Line' } as never,
      },
    });
    const reqs = await recorded(s, `${j.out}a.csv.out`);
    assert.deepEqual(reqs.map((r) => r.body), ['1,2', '3,4', '5,6']);
    for (const r of reqs) {
      assert.equal(r.content_type, 'text/csv');
      assert.equal(r.accept, 'application/json');
      assert.equal(r.chunked, false);
      assert.equal(r.env.SAGEMAKER_BATCH, 'true');
      assert.equal(r.env.SAGEMAKER_BATCH_STRATEGY, 'SINGLE_RECORD');
      assert.equal(r.env.SAGEMAKER_MAX_PAYLOAD_IN_MB, undefined, 'not set by the request');
      assert.equal(r.env.SAGEMAKER_MAX_CONCURRENT_TRANSFORMS, undefined, 'not set by the request');
      assert.equal(r.env.MODEL_VAR, 'model');
      assert.equal(r.env.JOB_VAR, 'job');
      assert.equal(r.env.SHARED, undefined, 'only SAGEMAKER_/MODEL_/JOB_ variables are reported');
      for (const h of Object.keys(r.headers)) assert.ok(['host', 'connection', 'content-length', 'content-type', 'accept'].includes(h), `unexpected header ${h}`);
    }
    assert.deepEqual(await listKeys(s, j.out), [`${j.out}a.csv.out`]);
  });

  it('MultiRecord packs whole lines greedily up to MaxPayloadInMB; the env says what the request set', async () => {
    const line = `${'x'.repeat(99_999)}\n`; // 100,000 bytes with its newline
    const j = await setup('multi', { 'big.txt': line.repeat(25) });
    await runJob(s, { ...j, extra: { BatchStrategy: 'MultiRecord', MaxPayloadInMB: 1, MaxConcurrentTransforms: 2, TransformInput: { SplitType: 'Line' } as never, TransformOutput: { AssembleWith: 'Line' } as never } });
    const reqs = await recorded(s, `${j.out}big.txt.out`);
    assert.deepEqual(reqs.map((r) => r.body_len), [1_000_000, 1_000_000, 500_000]);
    assert.deepEqual(reqs.map((r) => r.lines), [10, 10, 5], 'whole lines, newlines kept');
    assert.equal(reqs[0]!.env.SAGEMAKER_MAX_PAYLOAD_IN_MB, '1');
    assert.equal(reqs[0]!.env.SAGEMAKER_BATCH_STRATEGY, 'MULTI_RECORD');
    assert.equal(reqs[0]!.env.SAGEMAKER_MAX_CONCURRENT_TRANSFORMS, '2');
    assert.equal(reqs[0]!.content_type, null, 'no ContentType in the request: no header');
    const stored = await getObject(s, `${j.out}big.txt.out`);
    assert.equal(
      (await s.app.ctx.objectStore.head(BUCKET, `${j.out}big.txt.out`))?.etag,
      `"${createHash('md5').update(stored!).digest('hex')}"`,
      'the ETag is the MD5 of the bytes stored (hashed as they were written, not read again)',
    );
  });

  it('a record over MaxPayloadInMB fails its object (named in FailureReason); the other object is still transformed', async () => {
    const j = await setup('toolarge', { 'bad.txt': `small\n${'y'.repeat(1_100_000)}\n`, 'good.txt': 'fine\n' });
    const d = await runJob(s, { ...j, extra: { MaxPayloadInMB: 1, TransformInput: { SplitType: 'Line' } as never } }, 'Failed');
    assert.match(d.FailureReason!, /1 of 2 input object\(s\) failed/);
    assert.match(d.FailureReason!, new RegExp(`${j.name}/in/bad\\.txt: record 2 is 1100001 bytes`));
    assert.deepEqual(await listKeys(s, j.out), [`${j.out}good.txt.out`]);
    const dataLog = [...jobLogs(s, j.name).entries()].find(([k]) => k.endsWith('/data-log'));
    assert.ok(dataLog && dataLog[1].some((l) => l.includes('bad.txt')), 'the failure is in the data log');
  });

  it('SplitType None sends each object whole; one larger than MaxPayloadInMB fails with a reason saying what to do', async () => {
    const j = await setup('whole', { 'small.bin': Buffer.alloc(70_000, 1), 'large.bin': Buffer.alloc(1_100_000, 2) });
    const d = await runJob(s, { ...j, extra: { MaxPayloadInMB: 1, TransformOutput: { AssembleWith: 'Line' } as never } }, 'Failed');
    assert.match(d.FailureReason!, /large\.bin: the object is larger than MaxPayloadInMB \(1\) allows for one request with SplitType None; set SplitType, or MaxPayloadInMB 0 to stream it/);
    const reqs = await recorded(s, `${j.out}small.bin.out`);
    assert.deepEqual(reqs.map((r) => [r.body_len, r.content_length, r.chunked]), [[70_000, '70000', false]]);
    assert.deepEqual(await listKeys(s, j.out), [`${j.out}small.bin.out`]);
  });

  it('MaxPayloadInMB 0 streams the whole object in one chunked request', async () => {
    const body = Buffer.from('r,1\n'.repeat(50_000)); // 200 KB
    const j = await setup('chunked', { 'all.csv': body });
    await runJob(s, { ...j, extra: { MaxPayloadInMB: 0, BatchStrategy: 'MultiRecord', TransformInput: { SplitType: 'Line' } as never } });
    const reqs = await recorded(s, `${j.out}all.csv.out`);
    assert.equal(reqs.length, 1);
    assert.equal(reqs[0]!.chunked, true);
    assert.equal(reqs[0]!.content_length, null);
    assert.equal(reqs[0]!.body_len, body.length);
    assert.equal(reqs[0]!.sha256, createHash('sha256').update(body).digest('hex'));
    assert.equal(reqs[0]!.env.SAGEMAKER_MAX_PAYLOAD_IN_MB, '0');
  });

  it('MaxConcurrentTransforms requests in flight per instance, never more; responses still in input order', async () => {
    const lines = Array.from({ length: 24 }, (_, i) => `row-${i}`);
    const j = await setup('concurrent', { 'rows.txt': `${lines.join('\n')}\n` }, { RECORDER_DELAY_MS: '300' });
    await runJob(s, { ...j, extra: { MaxConcurrentTransforms: 4, BatchStrategy: 'SingleRecord', TransformInput: { SplitType: 'Line' } as never, TransformOutput: { AssembleWith: 'Line' } as never } });
    const reqs = await recorded(s, `${j.out}rows.txt.out`);
    assert.deepEqual(reqs.map((r) => r.body), lines, 'output follows input order');
    const peak = Math.max(...reqs.map((r) => r.inflight));
    assert.equal(peak, 4, `peak concurrency ${peak}`);
    assert.ok(reqs.some((r, i) => i > 0 && r.seq < reqs[i - 1]!.seq) || peak === 4);
  });

  it('GET /execution-parameters fills in what the request leaves open (both spellings); the request wins otherwise', async () => {
    const params = JSON.stringify({ MaxConcurrentTransforms: 3, BatchStrategy: 'SINGLE_RECORD', MaxPayloadInMB: 1 });
    const j = await setup('execparams', { 'a.txt': 'a\nb\nc\n' }, { RECORDER_EXEC_PARAMS: params });
    const d = await runJob(s, { ...j, extra: { TransformInput: { SplitType: 'Line' } as never, TransformOutput: { AssembleWith: 'Line' } as never } });
    assert.deepEqual((await recorded(s, `${j.out}a.txt.out`)).map((r) => r.body), ['a', 'b', 'c'], 'SingleRecord from the container');
    assert.equal(d.BatchStrategy, 'SingleRecord');
    assert.equal(d.MaxConcurrentTransforms, 3);
    assert.equal(d.MaxPayloadInMB, 1);

    const k = await setup('execparams2', { 'a.txt': 'a\nb\nc\n' }, { RECORDER_EXEC_PARAMS: JSON.stringify({ BatchStrategy: 'SingleRecord' }) });
    await runJob(s, { ...k, extra: { BatchStrategy: 'MultiRecord', TransformInput: { SplitType: 'Line' } as never } });
    const reqs = await recorded(s, `${k.out}a.txt.out`);
    assert.deepEqual(reqs.map((r) => r.body), ['a\nb\nc\n'], 'MultiRecord from the request');
  });

  it('CompressionType Gzip is decompressed before splitting; ManifestFile inputs keep their manifest paths', async () => {
    const j = await setup('gzip', { 'data/part-1.csv.gz': gzipSync('g1\ng2\n') });
    await putObject(s, `${j.name}/other/x.txt`, 'm1\n');
    await putObject(s, `${j.name}/manifest.json`, JSON.stringify([{ prefix: loc(`${j.name}/`) }, 'in/data/part-1.csv.gz', 'other/x.txt']));
    // other/x.txt is not gzip: that object fails, the other one is transformed.
    const d = await runJob(s, {
      ...j,
      extra: {
        BatchStrategy: 'SingleRecord',
        TransformInput: { CompressionType: 'Gzip', SplitType: 'Line', DataSource: { S3DataSource: { S3DataType: 'ManifestFile', S3Uri: loc(`${j.name}/manifest.json`) } } } as never,
        TransformOutput: { AssembleWith: 'Line' } as never,
      },
    }, 'Failed');
    assert.match(d.FailureReason!, /other\/x\.txt: the object could not be decompressed/);
    assert.deepEqual((await recorded(s, `${j.out}in/data/part-1.csv.gz.out`)).map((r) => r.body), ['g1', 'g2']);
    assert.deepEqual(await listKeys(s, j.out), [`${j.out}in/data/part-1.csv.gz.out`]);
  });

  it('objects are spread over InstanceCount instances by key; one object never spans instances', async () => {
    const files = Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`f${i}.txt`, 'a\nb\nc\n']));
    const j = await setup('spread', files);
    await runJob(s, { ...j, extra: { BatchStrategy: 'SingleRecord', TransformInput: { SplitType: 'Line' } as never, TransformOutput: { AssembleWith: 'Line' } as never, TransformResources: { InstanceType: 'ml.m5.large', InstanceCount: 2 } } });
    const hostsPerObject = await Promise.all(Object.keys(files).map(async (k) => new Set((await recorded(s, `${j.out}${k}.out`)).map((r) => r.headers.host))));
    for (const h of hostsPerObject) assert.equal(h.size, 1, 'every request of one object went to one instance');
    const hosts = hostsPerObject.map((h) => [...h][0]);
    assert.equal(new Set(hosts).size, 2, 'two instances shared the work');
    assert.equal(hosts[0], hosts[2]);
    assert.equal(hosts[1], hosts[3]);
    const streams = [...jobLogs(s, j.name).keys()].filter((k) => !k.endsWith('/data-log')).sort();
    assert.equal(streams.length, 2);
    assert.match(streams[0]!, new RegExp(`^${j.name}/algo-1-\\d+$`));
  });

  it('RecordIO and TFRecord: SingleRecord sends payloads, MultiRecord sends the records framed as in the object', async () => {
    const payloads = ['alpha', 'be', 'gamma-ray'].map((p) => Buffer.from(p));
    const rio = Buffer.concat(payloads.map(frameRecordIO));
    const tfr = Buffer.concat(payloads.map(frameTfRecord));
    const j = await setup('binary', { 'r.rec': rio, 't.tfrecord': tfr });
    const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    const single = { ...j, name: uniqueName('binary-single'), output: loc(`${j.name}/single`) };
    await runJob(s, { ...single, input: loc(`${j.name}/in/r.rec`), extra: { BatchStrategy: 'SingleRecord', TransformInput: { SplitType: 'RecordIO' } as never, TransformOutput: { AssembleWith: 'Line' } as never } });
    assert.deepEqual((await recorded(s, `${j.name}/single/r.rec.out`)).map((r) => r.body), ['alpha', 'be', 'gamma-ray']);
    const multi = { ...j, name: uniqueName('binary-multi'), output: loc(`${j.name}/multi`) };
    await runJob(s, { ...multi, input: loc(`${j.name}/in/r.rec`), extra: { BatchStrategy: 'MultiRecord', TransformInput: { SplitType: 'RecordIO' } as never } });
    const m = await recorded(s, `${j.name}/multi/r.rec.out`);
    assert.deepEqual(m.map((r) => [r.body_len, r.sha256]), [[rio.length, sha(rio)]]);
    const tf = { ...j, name: uniqueName('binary-tf'), output: loc(`${j.name}/tf`) };
    await runJob(s, { ...tf, input: loc(`${j.name}/in/t.tfrecord`), extra: { BatchStrategy: 'SingleRecord', TransformInput: { SplitType: 'TFRecord' } as never, TransformOutput: { AssembleWith: 'Line' } as never } });
    assert.deepEqual((await recorded(s, `${j.name}/tf/t.tfrecord.out`)).map((r) => r.body), ['alpha', 'be', 'gamma-ray']);
    const tfm = { ...j, name: uniqueName('binary-tfm'), output: loc(`${j.name}/tfm`) };
    await runJob(s, { ...tfm, input: loc(`${j.name}/in/t.tfrecord`), extra: { MaxPayloadInMB: 1, TransformInput: { SplitType: 'TFRecord' } as never } });
    assert.deepEqual((await recorded(s, `${j.name}/tfm/t.tfrecord.out`)).map((r) => [r.body_len, r.sha256]), [[tfr.length, sha(tfr)]]);
  });

  it('InvocationsMaxRetries: failed attempts are retried; exhausted retries fail the object; InvocationsTimeoutInSeconds is honoured', async () => {
    const j = await setup('retry', { 'a.txt': 'one\n' }, { RECORDER_FAIL_FIRST: '2' });
    await runJob(s, { ...j, extra: { ModelClientConfig: { InvocationsMaxRetries: 3 }, TransformOutput: { AssembleWith: 'Line' } as never } });
    assert.deepEqual((await recorded(s, `${j.out}a.txt.out`)).map((r) => r.attempt), [3]);

    const k = await setup('retry-out', { 'a.txt': 'one\n' }, { RECORDER_FAIL_FIRST: '2' });
    const d = await runJob(s, { ...k, extra: { ModelClientConfig: { InvocationsMaxRetries: 1 } } }, 'Failed');
    assert.match(d.FailureReason!, /failed after 2 attempt\(s\) \(InvocationsMaxRetries 1\): the container answered HTTP 503/);
    assert.deepEqual(await listKeys(s, k.out), []);

    const t = await setup('timeout', { 'a.txt': 'slow\n' }, { RECORDER_DELAY_MS: '4000' });
    const started = Date.now();
    const dt = await runJob(s, { ...t, extra: { ModelClientConfig: { InvocationsTimeoutInSeconds: 1, InvocationsMaxRetries: 0 } } }, 'Failed');
    assert.match(dt.FailureReason!, /did not answer within 1000 ms/);
    assert.ok(Date.now() - started < 60_000);
  });

  it('AssembleWith None concatenates the responses as they are', async () => {
    const j = await setup('concat', { 'a.txt': 'x\ny\n' }, { RECORDER_MODE: 'upper' });
    await runJob(s, { ...j, extra: { BatchStrategy: 'SingleRecord', TransformInput: { SplitType: 'Line' } as never, TransformOutput: { AssembleWith: 'None' } as never } });
    assert.equal(await getText(s, `${j.out}a.txt.out`), 'XY');
    const k = await setup('lines', { 'a.txt': 'x\ny\n' }, { RECORDER_MODE: 'upper' });
    await runJob(s, { ...k, extra: { BatchStrategy: 'MultiRecord', TransformInput: { SplitType: 'Line' } as never, TransformOutput: { AssembleWith: 'Line' } as never } });
    assert.equal(await getText(s, `${k.out}a.txt.out`), 'X\nY\n', 'a response ending in a newline gets no second one');
  });

  it('an output over 8 MiB is stored whole with an opaque ETag (as a multipart upload gets on S3); a smaller one with its MD5', async () => {
    const line = `${'abcdefghij'.repeat(99)}\n`; // 991 bytes
    const big = line.repeat(9000); // ~8.5 MiB
    const j = await setup('opaque-etag', { 'big.txt': big, 'small.txt': line.repeat(3) }, { RECORDER_MODE: 'upper' });
    await runJob(s, { ...j, extra: { BatchStrategy: 'MultiRecord', MaxPayloadInMB: 1, TransformInput: { SplitType: 'Line' } as never, TransformOutput: { AssembleWith: 'Line' } as never } });
    const out = await getObject(s, `${j.out}big.txt.out`);
    assert.equal(out?.toString('utf8'), big.toUpperCase());
    const etag = (await s.app.ctx.objectStore.head(BUCKET, `${j.out}big.txt.out`))?.etag;
    assert.match(etag ?? '', /^"[0-9a-f]+-[0-9a-f]+"$/, 'opaque, with the dash that tells clients it is not an MD5');
    const small = await getObject(s, `${j.out}small.txt.out`);
    assert.equal((await s.app.ctx.objectStore.head(BUCKET, `${j.out}small.txt.out`))?.etag, `"${createHash('md5').update(small!).digest('hex')}"`);
  });

  it('DataProcessing: CSV InputFilter, join with the input, OutputFilter', async () => {
    const j = await setup('join-csv', { 'a.csv': 'id1,a,b\nid2,"c,d",e\n' }, { RECORDER_MODE: 'upper' });
    await runJob(s, {
      ...j,
      extra: {
        BatchStrategy: 'MultiRecord',
        DataProcessing: { InputFilter: '$[1:]', JoinSource: 'Input', OutputFilter: '$[0,-1]' },
        TransformInput: { ContentType: 'text/csv', SplitType: 'Line' } as never,
        TransformOutput: { Accept: 'text/csv', AssembleWith: 'Line' } as never,
      },
    });
    assert.equal(await getText(s, `${j.out}a.csv.out`), 'id1,B\nid2,E\n');
  });

  it('DataProcessing: JSON Lines join adds SageMakerOutput to objects and wraps other values', async () => {
    const j = await setup('join-json', { 'a.jsonl': '{"id":"x","v":"low"}\n[1,"two"]\n' }, { RECORDER_MODE: 'upper' });
    await runJob(s, {
      ...j,
      extra: {
        BatchStrategy: 'SingleRecord',
        DataProcessing: { JoinSource: 'Input' },
        TransformInput: { ContentType: 'application/jsonlines', SplitType: 'Line' } as never,
        TransformOutput: { Accept: 'application/jsonlines', AssembleWith: 'Line' } as never,
      },
    });
    const lines = (await getText(s, `${j.out}a.jsonl.out`)).split('\n');
    assert.deepEqual(JSON.parse(lines[0]!), { id: 'x', v: 'low', SageMakerOutput: { ID: 'X', V: 'LOW' } });
    assert.deepEqual(JSON.parse(lines[1]!), { SageMakerInput: [1, 'two'], SageMakerOutput: [1, 'TWO'] });
    assert.equal(lines[2], '');

    const k = await setup('filter-json', { 'a.jsonl': '{"id":"x","features":[1,2]}\n' });
    await runJob(s, {
      ...k,
      extra: { DataProcessing: { InputFilter: '$.features' }, TransformInput: { ContentType: 'application/json', SplitType: 'Line' } as never },
    });
    assert.deepEqual((await recorded(s, `${k.out}a.jsonl.out`)).map((r) => r.body), ['[1,2]\n']);
  });

  it('StopTransformJob: Stopping, then Stopped; containers gone; no output stored', async () => {
    const j = await setup('stop', { 'a.txt': 'a\nb\nc\nd\ne\nf\n', 'b.txt': 'x\n' }, { RECORDER_DELAY_MS: '1500' });
    await createJob(s, { ...j, extra: { BatchStrategy: 'SingleRecord', TransformInput: { SplitType: 'Line' } as never } });
    const deadline = Date.now() + 60_000;
    while (!(await describeJob(s, j.name)).TransformStartTime && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 2500)); // some requests done, b.txt complete
    await s.sagemaker.send(new StopTransformJobCommand({ TransformJobName: j.name }));
    assert.ok(['Stopping', 'Stopped'].includes((await describeJob(s, j.name)).TransformJobStatus!));
    const d = await settle(s, j.name, 60_000);
    assert.equal(d.TransformJobStatus, 'Stopped');
    assert.ok(d.TransformEndTime);
    assert.deepEqual(await listKeys(s, j.out), [], 'a stopped job stores no output');
    // The engine removes the containers right after it wrote the terminal status.
    const docker = await requireDocker();
    const until = Date.now() + 30_000;
    let left = await docker.listContainers({ all: true, filters: { label: [`sagebox.resource=${j.name}`] } });
    while (left.length && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 200));
      left = await docker.listContainers({ all: true, filters: { label: [`sagebox.resource=${j.name}`] } });
    }
    assert.equal(left.length, 0);
  });

});

describe('network isolation', () => {
  it('a model with EnableNetworkIsolation transforms on one instance (shared internal network) and on two (internal job network)', async () => {
    const model = uniqueName('isolated-m');
    await s.sagemaker.send(new CreateModelCommand({ ModelName: model, PrimaryContainer: { Image: RECORDER }, EnableNetworkIsolation: true }));
    for (const count of [1, 2]) {
      const name = uniqueName(`isolated${count}`);
      await putObject(s, `${name}/in/a.txt`, 'a\n');
      await putObject(s, `${name}/in/b.txt`, 'b\n');
      await runJob(s, { name, model, input: loc(`${name}/in/`), output: loc(`${name}/out`), extra: { TransformResources: { InstanceType: 'ml.m5.large', InstanceCount: count } } });
      assert.deepEqual(await listKeys(s, `${name}/out/`), [`${name}/out/a.txt.out`, `${name}/out/b.txt.out`]);
    }
  });
});

describe('instances that cannot serve', () => {
  it('a container that never passes /ping fails the job with a ClientError', async () => {
    const j = await setup('noping', { 'a.txt': 'a\n' }, { RECORDER_PING_STATUS: '503' });
    const f = s.app.features.find((x) => x.name === 'transform-jobs') as unknown as { jobs: TransformJobs };
    f.jobs.kind.settings.healthCheckTimeoutSeconds = 5;
    try {
      const d = await runJob(s, j, 'Failed');
      assert.match(d.FailureReason!, /^ClientError: The serving container of algo-1 did not pass the ping health check/);
    } finally {
      f.jobs.kind.settings.healthCheckTimeoutSeconds = 20;
    }
    assert.equal(await getObject(s, `${j.out}a.txt.out`), undefined);
  });
});
