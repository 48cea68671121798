/**
 * Foundation acceptance: the wire layer answers real clients (AWS CLI v2,
 * boto3, the JS SDK), refuses unauthenticated and wrongly signed requests,
 * and turns every bad request into an AWS-shaped 4xx.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as path from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/protocol-http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { CreateHyperParameterTuningJobCommand, CreateTrainingJobCommand, ListTrainingJobsCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { startServer, type TestServer, REGION } from './helpers/server';
import { awsCli, boto3 } from './helpers/clients';

const run = promisify(execFile);

async function signedFetch(s: TestServer, opts: { body: string; target?: string; contentType?: string; key?: string; secret?: string; date?: Date; service?: string; path?: string }): Promise<{ status: number; json: any; headers: Headers }> {
  const url = new URL(s.url);
  const headers: Record<string, string> = { host: url.host, 'content-type': opts.contentType ?? 'application/x-amz-json-1.1' };
  if (opts.target) headers['x-amz-target'] = opts.target;
  const req = new HttpRequest({ method: 'POST', hostname: url.hostname, port: Number(url.port), path: opts.path ?? '/', headers, body: opts.body });
  const signer = new SignatureV4({
    credentials: { accessKeyId: opts.key ?? 'test', secretAccessKey: opts.secret ?? 'test' },
    region: REGION,
    service: opts.service ?? 'sagemaker',
    sha256: Sha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(req, { signingDate: opts.date ?? new Date() });
  const res = await fetch(`${s.url}${opts.path ?? '/'}`, { method: 'POST', headers: signed.headers as Record<string, string>, body: opts.body });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, headers: res.headers };
}

describe('foundation: the wire layer', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(async () => s.stop());

  it('AWS CLI v2 lists training jobs', async () => {
    const r = await awsCli(s.clientEnv, ['sagemaker', 'list-training-jobs']);
    assert.deepEqual(r.json, { TrainingJobSummaries: [] });
  });

  it('boto3 lists training jobs', async () => {
    const r = await boto3(s.clientEnv, `
import boto3, json, os
sm = boto3.client('sagemaker', endpoint_url=os.environ['AWS_ENDPOINT_URL'])
r = sm.list_training_jobs()
print(json.dumps(r['TrainingJobSummaries']))
`);
    assert.equal(r.stdout.trim(), '[]');
  });

  it('the JS SDK lists training jobs', async () => {
    const r = await s.sagemaker.send(new ListTrainingJobsCommand({}));
    assert.deepEqual(r.TrainingJobSummaries, []);
    assert.equal(r.NextToken, undefined);
  });

  it('refuses unsigned requests with 403 MissingAuthenticationTokenException', async () => {
    const res = await fetch(`${s.url}/`, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'SageMaker.ListTrainingJobs' }, body: '{}' });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
    assert.ok(res.headers.get('x-amzn-requestid'));
    assert.deepEqual(await res.json(), { __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' });
  });

  it('SageMaker Runtime paths (served outside Fastify) answer auth and routing errors in the rest-json shape', async () => {
    const unsigned = await fetch(`${s.url}/endpoints/any/invocations`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: '1,2' });
    assert.equal(unsigned.status, 403);
    assert.equal(unsigned.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
    assert.ok(unsigned.headers.get('x-amzn-requestid'));
    assert.deepEqual(await unsigned.json(), { __type: 'MissingAuthenticationTokenException', Message: 'Missing Authentication Token' });
    const wrong = await signedFetch(s, { path: '/endpoints/any/invocations', body: '1,2', contentType: 'text/csv', secret: 'not-the-secret' });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.json.__type, 'InvalidSignatureException');
    assert.match(wrong.json.Message, /signature we calculated does not match/);
    const missing = await signedFetch(s, { path: '/endpoints/nope/invocations', body: '1,2', contentType: 'text/csv' });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.json, { __type: 'ValidationError', Message: 'Endpoint nope of account 000000000000 not found.' });
    const other = await signedFetch(s, { path: '/endpoints/any/invocations-response-stream-v9', body: '1', contentType: 'text/csv' });
    assert.equal(other.json.__type, 'NotImplementedException');
    assert.match(other.json.Message, /invocations-response-stream-v9/);
  });

  it('refuses a wrong signature with 403 InvalidSignatureException', async () => {
    const r = await signedFetch(s, { body: '{}', target: 'SageMaker.ListTrainingJobs', secret: 'not-the-secret' });
    assert.equal(r.status, 403);
    assert.equal(r.json.__type, 'InvalidSignatureException');
    assert.match(r.json.message, /signature we calculated does not match/);
  });

  it('refuses an unknown key with 403 UnrecognizedClientException, through the SDK', async () => {
    const c = new SageMakerClient({ endpoint: s.url, region: REGION, credentials: { accessKeyId: 'nobody', secretAccessKey: 'x' }, maxAttempts: 1 });
    await assert.rejects(c.send(new ListTrainingJobsCommand({})), (e: any) => e.name === 'UnrecognizedClientException' && e.$metadata.httpStatusCode === 403);
    c.destroy();
  });

  it('refuses a request signed more than 15 minutes off', async () => {
    const r = await signedFetch(s, { body: '{}', target: 'SageMaker.ListTrainingJobs', date: new Date(Date.now() - 20 * 60 * 1000) });
    assert.equal(r.status, 403);
    assert.equal(r.json.__type, 'InvalidSignatureException');
    assert.match(r.json.message, /Signature expired/);
  });

  it('a correctly signed raw request passes (and the server kept serving after the refusals)', async () => {
    const r = await signedFetch(s, { body: '{}', target: 'SageMaker.ListTrainingJobs' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { TrainingJobSummaries: [] });
  });

  it('names an operation that is not built yet, and the SDK surfaces it by name', async () => {
    await assert.rejects(
      s.sagemaker.send(new CreateHyperParameterTuningJobCommand({ HyperParameterTuningJobName: 'x', HyperParameterTuningJobConfig: undefined as any })),
      (e: any) => e.name === 'NotImplementedException' && /CreateHyperParameterTuningJob/.test(e.message),
    );
  });

  it('answers an operation that does not exist with UnknownOperationException', async () => {
    const r = await signedFetch(s, { body: '{}', target: 'SageMaker.MakeCoffee' });
    assert.equal(r.status, 400);
    assert.equal(r.json.__type, 'UnknownOperationException');
  });

  it('answers a malformed body with 400 SerializationException', async () => {
    const r = await signedFetch(s, { body: '{"TrainingJobName": ', target: 'SageMaker.ListTrainingJobs' });
    assert.equal(r.status, 400);
    assert.equal(r.json.__type, 'SerializationException');
  });

  it('answers a wrong content type with 415', async () => {
    const r = await signedFetch(s, { body: '{}', target: 'SageMaker.ListTrainingJobs', contentType: 'text/plain' });
    assert.equal(r.status, 415);
    assert.equal(r.json.__type, 'UnsupportedMediaTypeException');
  });

  it('answers a body over the documented 8 MiB limit with 413', async () => {
    const big = JSON.stringify({ NameContains: 'a'.repeat(9 * 1024 * 1024) });
    const r = await signedFetch(s, { body: big, target: 'SageMaker.ListTrainingJobs' });
    assert.equal(r.status, 413);
    assert.equal(r.json.__type, 'RequestEntityTooLargeException');
  });

  it('validates against the model with AWS wording', async () => {
    await assert.rejects(
      s.sagemaker.send(new CreateTrainingJobCommand({
        TrainingJobName: 'bad_name!',
        RoleArn: 'arn:aws:iam::123456789012:role/x',
        OutputDataConfig: { S3OutputPath: 's3://bucket/out' },
        ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 0, VolumeSizeInGB: 1 },
        StoppingCondition: { MaxRuntimeInSeconds: 60 },
        AlgorithmSpecification: { TrainingImage: 'x', TrainingInputMode: 'Stream' as any },
      })),
      (e: any) => {
        assert.equal(e.name, 'ValidationException');
        assert.match(e.message, /^3 validation errors detected: /);
        assert.match(e.message, /Value 'bad_name!' at 'trainingJobName' failed to satisfy constraint: Member must satisfy regular expression pattern/);
        assert.match(e.message, /at 'resourceConfig.instanceCount' failed to satisfy constraint: Member must have value greater than or equal to 1/);
        assert.match(e.message, /Value 'Stream' at 'algorithmSpecification.trainingInputMode' failed to satisfy constraint: Member must satisfy enum value set: \[Pipe, File, FastFile\]/);
        return true;
      },
    );
  });
});

describe('foundation: the sagebox CLI', () => {
  const bin = path.join(__dirname, '..', 'bin', 'sagebox.js');
  it('explains every command in --help', async () => {
    const r = await run(process.execPath, [bin, '--help']);
    assert.match(r.stdout, /up \[options\]/);
    const up = await run(process.execPath, [bin, 'up', '--help']);
    for (const flag of ['--port', '--data-dir', '--host', '--config']) assert.match(up.stdout, new RegExp(flag));
  });
  it('refuses to listen on a non-loopback address with only the default keys', async () => {
    await assert.rejects(run(process.execPath, [bin, 'up', '--host', '0.0.0.0', '--port', '0', '--data-dir', '/tmp/sagebox-refuse']), (e: any) => {
      assert.equal(e.code, 2);
      assert.match(e.stderr, /refusing to listen on 0\.0\.0\.0 with only the default test\/test keys/);
      return true;
    });
  });
});
