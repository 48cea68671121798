/**
 * The pure parts of processing jobs: how a run becomes a status, reason and
 * exit message; which container paths are allowed; the status machine; the
 * Describe document's defaults; which host directory gets which output URI.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { exitMessageOf, verdictOf } from '../src/jobs/processing/outcome';
import { processingLocalPath } from '../src/jobs/processing/request-checks';
import { canTransition, isTerminal } from '../src/jobs/processing/status';
import { describeFromRequest } from '../src/jobs/processing/describe';
import { fileUri, outputTargets } from '../src/jobs/processing/output-upload';
import { hostLayout, hostPathOf } from '../src/jobs/processing/host-layout';

const hosts = ['algo-1', 'algo-2'];

describe('verdictOf', () => {
  it('Completed when every host exits 0, with the messages concatenated in host order', () => {
    const v = verdictOf({ exitCodes: { 'algo-1': 0, 'algo-2': 0 } }, hosts, [{ host: 'algo-1', message: Buffer.from('a') }, { host: 'algo-2', message: Buffer.from('b') }]);
    assert.deepEqual(v, { status: 'Completed', exitMessage: 'ab' });
  });
  it('Failed with the reason of the host that failed on its own, not the one stopped after it', () => {
    const v = verdictOf({ exitCodes: { 'algo-1': 143, 'algo-2': 7 } }, hosts, [{ host: 'algo-2', failure: Buffer.from('bad input\n') }]);
    assert.deepEqual(v, { status: 'Failed', failureReason: 'AlgorithmError: bad input, exit code: 7' });
  });
  it('Stopped when a stop was requested, whatever the exit codes', () => {
    assert.equal(verdictOf({ exitCodes: { 'algo-1': 137, 'algo-2': 0 }, stop: 'max-runtime' }, hosts, []).status, 'Stopped');
  });
  it('a platform error is a ClientError and wins over everything else', () => {
    assert.deepEqual(verdictOf({ exitCodes: {}, platformError: 'No objects found', stop: 'user' }, hosts, []), { status: 'Failed', failureReason: 'ClientError: No objects found' });
  });
  it('a host without an exit code fails the job', () => {
    assert.match(verdictOf({ exitCodes: { 'algo-1': 0 } }, hosts, []).failureReason!, /^ClientError: The container of algo-2/);
  });
});

describe('exitMessageOf', () => {
  it('cuts the concatenation to 1024 characters and tolerates a character split by the 1 KiB read', () => {
    const euro = Buffer.from('€'.repeat(400)); // 1200 bytes
    assert.equal(exitMessageOf([{ host: 'algo-1', message: euro.subarray(0, 1024) }]).message, '€'.repeat(341));
    assert.equal(exitMessageOf([{ host: 'algo-1', message: Buffer.from('x'.repeat(1024)) }, { host: 'algo-2', message: Buffer.from('y') }]).message!.length, 1024);
  });
  it('refuses bytes that are not UTF-8, naming the host', () => {
    assert.match(exitMessageOf([{ host: 'algo-2', message: Buffer.from([0x66, 0xff, 0x66]) }]).invalid!, /algo-2 is not valid UTF-8/);
  });
  it('no file or an empty file: no ExitMessage', () => {
    assert.deepEqual(exitMessageOf([{ host: 'algo-1' }, { host: 'algo-2', message: Buffer.alloc(0) }]), {});
  });
});

describe('container paths', () => {
  it('accepts paths under /opt/ml/processing/ and normalises them', () => {
    assert.equal(processingLocalPath('/opt/ml/processing/input/'), '/opt/ml/processing/input');
    assert.equal(processingLocalPath('/opt/ml/processing//a/./b/../c'), '/opt/ml/processing/a/c');
  });
  it('refuses everything else', () => {
    for (const p of ['/opt/ml/processing', '/opt/ml/processing/', '/opt/ml/processing/..', '/opt/ml/processing/../model', 'opt/ml/processing/x', '/opt/ml/processingx', '/tmp']) {
      assert.equal(processingLocalPath(p), undefined, p);
    }
  });
  it('maps a container path into the host directory of the instance', () => {
    const l = hostLayout('/data/jobs/processing-job/j', 'algo-2');
    assert.equal(hostPathOf(l, '/opt/ml/processing/output/train'), '/data/jobs/processing-job/j/algo-2/processing/output/train');
    assert.throws(() => hostPathOf(l, '/opt/ml/model'));
  });
});

describe('status machine', () => {
  it('terminal statuses have no way out; Stopping only ends Stopped or Failed', () => {
    for (const t of ['Completed', 'Failed', 'Stopped'] as const) {
      assert.ok(isTerminal(t));
      assert.equal(canTransition(t, 'InProgress'), false);
    }
    assert.ok(!isTerminal('Stopping'));
    assert.ok(canTransition('InProgress', 'Stopping'));
    assert.ok(canTransition('Stopping', 'Stopped'));
    assert.equal(canTransition('Stopping', 'Completed'), false);
  });
});

describe('describe document and output targets', () => {
  const req = {
    ProcessingJobName: 'j',
    RoleArn: 'arn:aws:iam::123456789012:role/r',
    AppSpecification: { ImageUri: 'img' },
    ProcessingResources: { ClusterConfig: { InstanceCount: 2, InstanceType: 'ml.m5.large', VolumeSizeInGB: 1 } },
    ProcessingInputs: [{ InputName: 'i', S3Input: { S3Uri: 's3://b/in', LocalPath: '/opt/ml/processing/in', S3DataType: 'S3Prefix' } }],
    ProcessingOutputConfig: { Outputs: [{ OutputName: 'o', S3Output: { S3Uri: 's3://b/out/', LocalPath: '/opt/ml/processing/out/', S3UploadMode: 'Continuous' } }, { OutputName: 'm', AppManaged: true, S3Output: { S3Uri: 's3://b/m', LocalPath: '/opt/ml/processing/m', S3UploadMode: 'EndOfJob' } }] },
    Tags: [{ Key: 'k', Value: 'v' }],
  };
  it('fills the defaults SageMaker reports and leaves out Tags', () => {
    const d = describeFromRequest(req as any, 'arn:j', 1000.5);
    assert.deepEqual(d.ProcessingInputs![0]!.S3Input, { S3Uri: 's3://b/in', LocalPath: '/opt/ml/processing/in', S3DataType: 'S3Prefix', S3InputMode: 'File', S3DataDistributionType: 'FullyReplicated', S3CompressionType: 'None' });
    assert.equal(d.ProcessingInputs![0]!.AppManaged, false);
    assert.deepEqual(d.StoppingCondition, { MaxRuntimeInSeconds: 86400 });
    assert.equal(d.ProcessingJobStatus, 'InProgress');
    assert.equal(d.CreationTime, 1000.5);
    assert.equal((d as any).Tags, undefined);
    assert.ok(!('Environment' in d), 'unset members are left out, not null');
  });
  it('one target per host and non-AppManaged output; keys join with exactly one slash', () => {
    const d = describeFromRequest(req as any, 'arn:j', 1);
    const targets = outputTargets(d, ['algo-1', 'algo-2'].map((h) => hostLayout('/w', h)));
    assert.deepEqual(targets.map((t) => [t.host, t.dir, t.uri, t.mode]), [
      ['algo-1', '/w/algo-1/processing/out', 's3://b/out/', 'Continuous'],
      ['algo-2', '/w/algo-2/processing/out', 's3://b/out/', 'Continuous'],
    ]);
    assert.equal(fileUri('s3://b/out/', 'a/b.txt'), 's3://b/out/a/b.txt');
    assert.equal(fileUri('s3://b/out', 'a/b.txt'), 's3://b/out/a/b.txt');
    assert.equal(fileUri('file:///tmp/out', 'x y.txt'), 'file:///tmp/out/x%20y.txt');
  });
});
