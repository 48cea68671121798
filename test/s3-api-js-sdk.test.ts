/**
 * The S3 API through the JS SDK (@aws-sdk/client-s3) with its DEFAULT
 * checksum settings (streamed PutObject goes aws-chunked with a CRC32
 * trailer), @aws-sdk/lib-storage multipart, conditional and ranged reads,
 * virtual-host addressing, hand-signed aws-chunked streams, and the error
 * answers (auth, missing things, keys that would escape the store).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCopyCommand,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ListTrainingJobsCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/protocol-http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { containerCredential } from '../src/app/container-env';
import { sha256File, writeRandomFile } from './helpers/s3-files';
import { REGION, startServer, TEST_CREDENTIALS, type TestServer } from './helpers/server';

const B = 'js-bucket';

async function bodyBytes(out: { Body?: unknown }): Promise<Buffer> {
  return Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

/** Status and error code of a rejected SDK call. */
async function failure(p: Promise<unknown>): Promise<{ name: string; status?: number }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}

describe('S3 API: JS SDK v3', () => {
  let s: TestServer;
  let s3: S3Client;
  let work: string;
  const client = (extra: Partial<S3ClientConfig> = {}): S3Client =>
    new S3Client({ endpoint: s.url, region: REGION, credentials: TEST_CREDENTIALS, forcePathStyle: true, maxAttempts: 1, ...extra });

  before(async () => {
    s = await startServer();
    s3 = client();
    work = await fsp.mkdtemp(path.join(os.tmpdir(), 'sagebox-s3-js-'));
    await s3.send(new CreateBucketCommand({ Bucket: B }));
  });
  after(async () => {
    s3.destroy();
    await s.stop();
    await fsp.rm(work, { recursive: true, force: true });
    await fsp.rm(s.dataDir, { recursive: true, force: true });
  });

  it('round-trips a streamed PutObject sent aws-chunked with a CRC32 trailer (default checksum settings)', async () => {
    const src = path.join(work, 'stream.bin');
    const sum = await writeRandomFile(src, 20 * 1024 * 1024 + 123);
    const seen: Record<string, string>[] = [];
    const c = client();
    c.middlewareStack.add((next) => async (args) => {
      seen.push({ ...(args.request as { headers: Record<string, string> }).headers });
      return next(args);
    }, { step: 'finalizeRequest', priority: 'low', name: 'captureHeaders' });
    const put = await c.send(new PutObjectCommand({ Bucket: B, Key: 'stream/file.bin', Body: createReadStream(src), ContentLength: 20 * 1024 * 1024 + 123 }));
    const h = seen[0]!;
    assert.equal(h['x-amz-content-sha256'], 'STREAMING-UNSIGNED-PAYLOAD-TRAILER');
    assert.match(h['content-encoding'] ?? '', /aws-chunked/);
    assert.equal(h['x-amz-trailer'], 'x-amz-checksum-crc32');
    assert.ok(put.ChecksumCRC32, 'the verified checksum is echoed');
    assert.equal(await sha256File(path.join(s.dataDir, 's3', B, 'stream', 'file.bin')), sum, 'stored without the chunk framing');
    const got = await c.send(new GetObjectCommand({ Bucket: B, Key: 'stream/file.bin' }));
    assert.equal(got.ChecksumCRC32, put.ChecksumCRC32, 'served for the SDK to validate');
    assert.equal(createHash('sha256').update(await bodyBytes(got)).digest('hex'), sum);
    const head = await c.send(new HeadObjectCommand({ Bucket: B, Key: 'stream/file.bin' }));
    assert.equal(head.ContentEncoding, undefined, 'aws-chunked is not the object encoding');
    c.destroy();
  });

  it('round-trips buffers with a checksum header, metadata and content headers', async () => {
    const body = Buffer.from('hello, metadata');
    await s3.send(new PutObjectCommand({
      Bucket: B, Key: 'meta/a.txt', Body: body, ContentType: 'text/plain; charset=utf-8', Metadata: { 'Camel-Name': 'x y', n: '1' },
      CacheControl: 'max-age=60', ContentDisposition: 'attachment; filename="a.txt"', ChecksumAlgorithm: 'SHA256',
    }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'meta/a.txt' }));
    assert.equal(head.ContentType, 'text/plain; charset=utf-8');
    assert.deepEqual(head.Metadata, { 'camel-name': 'x y', n: '1' });
    assert.equal(head.CacheControl, 'max-age=60');
    assert.equal(head.ContentDisposition, 'attachment; filename="a.txt"');
    assert.equal(head.ETag, `"${createHash('md5').update(body).digest('hex')}"`);
    const bad = await failure(s3.send(new PutObjectCommand({ Bucket: B, Key: 'meta/bad.txt', Body: body, ChecksumSHA256: Buffer.alloc(32).toString('base64') })));
    assert.deepEqual(bad, { name: 'BadDigest', status: 400 });
  });

  it('uploads with lib-storage (multipart, checksummed parts) and lists, copies and aborts parts', async () => {
    const src = path.join(work, 'multi.bin');
    const sum = await writeRandomFile(src, 23 * 1024 * 1024);
    const up = new Upload({ client: s3, params: { Bucket: B, Key: 'multi/file.bin', Body: createReadStream(src), ContentType: 'application/x-multi' }, partSize: 5 * 1024 * 1024, queueSize: 3 });
    const done = await up.done();
    assert.match(done.ETag ?? '', /^"[0-9a-f]{32}-5"$/);
    const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'multi/file.bin' }));
    assert.equal(got.ContentType, 'application/x-multi');
    assert.equal(createHash('sha256').update(await bodyBytes(got)).digest('hex'), sum);
    assert.equal(await sha256File(path.join(s.dataDir, 's3', B, 'multi', 'file.bin')), sum);
    const part2 = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'multi/file.bin', PartNumber: 2 }));
    assert.deepEqual([part2.ContentLength, part2.PartsCount, part2.ContentRange], [5 * 1024 * 1024, 5, `bytes ${5 * 1024 * 1024}-${10 * 1024 * 1024 - 1}/${23 * 1024 * 1024}`]);
    const part5 = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'multi/file.bin', PartNumber: 5 }));
    const whole = await fsp.readFile(src);
    assert.deepEqual(await bodyBytes(part5), whole.subarray(20 * 1024 * 1024));
    assert.equal((await failure(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'multi/file.bin', PartNumber: 6 })))).status, 416);
    assert.deepEqual(await failure(s3.send(new GetObjectCommand({ Bucket: B, Key: 'multi/file.bin', PartNumber: 6 }))), { name: 'InvalidPartNumber', status: 416 });

    // UploadPartCopy from that object, ListParts, ListMultipartUploads, then Complete.
    const mp = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'multi/copied.bin' }));
    const p1 = await s3.send(new UploadPartCopyCommand({ Bucket: B, Key: 'multi/copied.bin', UploadId: mp.UploadId, PartNumber: 1, CopySource: `${B}/multi/file.bin`, CopySourceRange: `bytes=0-${6 * 1024 * 1024 - 1}` }));
    const p2 = await s3.send(new UploadPartCopyCommand({ Bucket: B, Key: 'multi/copied.bin', UploadId: mp.UploadId, PartNumber: 2, CopySource: `${B}/multi/file.bin`, CopySourceRange: `bytes=${6 * 1024 * 1024}-${23 * 1024 * 1024 - 1}` }));
    const parts = await s3.send(new ListPartsCommand({ Bucket: B, Key: 'multi/copied.bin', UploadId: mp.UploadId }));
    assert.deepEqual(parts.Parts?.map((p) => [p.PartNumber, p.Size]), [[1, 6 * 1024 * 1024], [2, 17 * 1024 * 1024]]);
    const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: B }));
    assert.deepEqual(listed.Uploads?.map((u) => [u.Key, u.UploadId]), [['multi/copied.bin', mp.UploadId]]);
    const order = await failure(s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'multi/copied.bin', UploadId: mp.UploadId, MultipartUpload: { Parts: [{ PartNumber: 2, ETag: p2.CopyPartResult?.ETag }, { PartNumber: 1, ETag: p1.CopyPartResult?.ETag }] } })));
    assert.deepEqual(order, { name: 'InvalidPartOrder', status: 400 });
    const wrong = await failure(s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'multi/copied.bin', UploadId: mp.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"00000000000000000000000000000000"' }] } })));
    assert.deepEqual(wrong, { name: 'InvalidPart', status: 400 });
    const fin = await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'multi/copied.bin', UploadId: mp.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.CopyPartResult?.ETag }, { PartNumber: 2, ETag: p2.CopyPartResult?.ETag }] } }));
    const md5s = Buffer.concat([p1, p2].map((p) => Buffer.from((p.CopyPartResult?.ETag ?? '').replace(/"/g, ''), 'hex')));
    assert.equal(fin.ETag, `"${createHash('md5').update(md5s).digest('hex')}-2"`, 'S3 multipart ETag: MD5 of the part MD5s');
    assert.equal(await sha256File(path.join(s.dataDir, 's3', B, 'multi', 'copied.bin')), sum);

    const small = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'multi/aborted.bin' }));
    await s3.send(new AbortMultipartUploadCommand({ Bucket: B, Key: 'multi/aborted.bin', UploadId: small.UploadId }));
    assert.deepEqual(await failure(s3.send(new ListPartsCommand({ Bucket: B, Key: 'multi/aborted.bin', UploadId: small.UploadId }))), { name: 'NoSuchUpload', status: 404 });
    assert.equal((await s3.send(new ListMultipartUploadsCommand({ Bucket: B }))).Uploads, undefined);
  });

  it('serves ranges and conditional reads', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'cond/digits', Body: '0123456789' }));
    const r = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'cond/digits', Range: 'bytes=2-5' }));
    assert.equal(r.ContentRange, 'bytes 2-5/10');
    assert.equal((await bodyBytes(r)).toString(), '2345');
    assert.equal((await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: B, Key: 'cond/digits', Range: 'bytes=7-' })))).toString(), '789');
    assert.deepEqual(await failure(s3.send(new GetObjectCommand({ Bucket: B, Key: 'cond/digits', Range: 'bytes=10-' }))), { name: 'InvalidRange', status: 416 });
    assert.equal((await failure(s3.send(new GetObjectCommand({ Bucket: B, Key: 'cond/digits', IfNoneMatch: put.ETag })))).status, 304);
    assert.deepEqual(await failure(s3.send(new GetObjectCommand({ Bucket: B, Key: 'cond/digits', IfMatch: '"nope"' }))), { name: 'PreconditionFailed', status: 412 });
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'cond/digits' }));
    assert.equal((await failure(s3.send(new GetObjectCommand({ Bucket: B, Key: 'cond/digits', IfModifiedSince: head.LastModified })))).status, 304);
    const ok = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'cond/digits', IfMatch: put.ETag, IfModifiedSince: new Date(0) }));
    assert.equal((await bodyBytes(ok)).toString(), '0123456789');
    assert.deepEqual(await failure(s3.send(new PutObjectCommand({ Bucket: B, Key: 'cond/digits', Body: 'again', IfNoneMatch: '*' }))), { name: 'PreconditionFailed', status: 412 });
  });

  it('lists with url encoding, deletes in bulk and copies', async () => {
    const keys = ['enc/a b.txt', 'enc/plus+sign', 'enc/ünï.txt', 'enc/sub/x'];
    for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: B, Key: k, Body: k }));
    const l = await s3.send(new ListObjectsV2Command({ Bucket: B, Prefix: 'enc/', Delimiter: '/', EncodingType: 'url' }));
    assert.deepEqual(l.Contents?.map((c) => decodeURIComponent(c.Key!)), ['enc/a b.txt', 'enc/plus+sign', 'enc/ünï.txt']);
    assert.deepEqual(l.CommonPrefixes?.map((c) => c.Prefix), ['enc/sub/']);
    await s3.send(new CopyObjectCommand({ Bucket: B, Key: 'enc/copy of a', CopySource: encodeURIComponent(`${B}/enc/a b.txt`) }));
    const del = await s3.send(new DeleteObjectsCommand({ Bucket: B, Delete: { Objects: [...keys, 'enc/copy of a', 'enc/never-existed'].map((Key) => ({ Key })) } }));
    assert.equal(del.Deleted?.length, 6);
    assert.equal(del.Errors, undefined);
    assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: B, Prefix: 'enc/' }))).KeyCount, 0);
  });

  it('addresses buckets virtual-host style under the configured base domain', async () => {
    const agent = new http.Agent({ lookup: (_h, opts, cb) => (opts.all ? (cb as any)(null, [{ address: '127.0.0.1', family: 4 }]) : (cb as any)(null, '127.0.0.1', 4)) });
    const vh = client({ endpoint: `http://s3.localhost:${s.port}`, forcePathStyle: false, requestHandler: { httpAgent: agent } });
    await vh.send(new PutObjectCommand({ Bucket: B, Key: 'vhost/obj.txt', Body: 'virtual' }));
    const got = await vh.send(new GetObjectCommand({ Bucket: B, Key: 'vhost/obj.txt' }));
    assert.equal((await bodyBytes(got)).toString(), 'virtual');
    const l = await vh.send(new ListObjectsV2Command({ Bucket: B, Prefix: 'vhost/' }));
    assert.deepEqual(l.Contents?.map((c) => c.Key), ['vhost/obj.txt']);
    vh.destroy();
  });

  it('answers missing things and refused keys with S3 error codes', async () => {
    assert.deepEqual(await failure(s3.send(new GetObjectCommand({ Bucket: B, Key: 'nothing/here' }))), { name: 'NoSuchKey', status: 404 });
    assert.deepEqual(await failure(s3.send(new GetObjectCommand({ Bucket: 'no-bucket-xyz', Key: 'k' }))), { name: 'NoSuchBucket', status: 404 });
    assert.deepEqual(await failure(s3.send(new ListObjectsV2Command({ Bucket: 'no-bucket-xyz' }))), { name: 'NoSuchBucket', status: 404 });
    assert.deepEqual(await failure(s3.send(new DeleteBucketCommand({ Bucket: B }))), { name: 'BucketNotEmpty', status: 409 });
    assert.deepEqual(await failure(s3.send(new PutObjectCommand({ Bucket: B, Key: 'a/../../escape', Body: 'x' }))), { name: 'InvalidArgument', status: 400 });
    assert.deepEqual(await failure(s3.send(new PutObjectCommand({ Bucket: B, Key: 'k'.repeat(1025), Body: 'x' }))), { name: 'KeyTooLongError', status: 400 });
    // The raw path too: an encoded '..' segment must not reach the file system.
    const res = await fetch(`${s.url}/${B}/a/%2e%2e/%2e%2e/escape`, { method: 'GET' });
    assert.equal(res.status, 403, 'unsigned requests are refused before anything else');
    await fsp.access(path.join(s.dataDir, 's3', 'escape')).then(
      () => assert.fail('nothing written outside the bucket'),
      () => undefined,
    );
  });

  it('refuses bad signatures, unknown keys and anonymous requests', async () => {
    const badSecret = client({ credentials: { accessKeyId: 'test', secretAccessKey: 'wrong' } });
    assert.deepEqual(await failure(badSecret.send(new ListObjectsV2Command({ Bucket: B }))), { name: 'SignatureDoesNotMatch', status: 403 });
    const unknown = client({ credentials: { accessKeyId: 'AKIDUNKNOWN', secretAccessKey: 'x' } });
    assert.deepEqual(await failure(unknown.send(new ListObjectsV2Command({ Bucket: B }))), { name: 'InvalidAccessKeyId', status: 403 });
    const anon = await fetch(`${s.url}/${B}?list-type=2`);
    assert.equal(anon.status, 403);
    const text = await anon.text();
    assert.match(text, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>AccessDenied<\/Code>/);
    assert.match(text, /<RequestId>[^<]+<\/RequestId>/);
    const skewed = client({ systemClockOffset: -60 * 60 * 1000 });
    assert.deepEqual(await failure(skewed.send(new ListObjectsV2Command({ Bucket: B }))), { name: 'RequestTimeTooSkewed', status: 403 });
    for (const c of [badSecret, unknown, skewed]) c.destroy();
  });

  it('accepts the container-only key for S3 and STS and refuses it for SageMaker', async () => {
    const key = containerCredential(s.dataDir);
    const creds = { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
    const c = client({ credentials: creds });
    await c.send(new PutObjectCommand({ Bucket: B, Key: 'container/ok.txt', Body: 'ok' }));
    const who = await stsQuery(new URL(s.url), creds, 'Action=GetCallerIdentity&Version=2011-06-15');
    assert.equal(who.status, 200);
    assert.match(who.text, /<Account>000000000000<\/Account>/);
    assert.match(who.text, /<Arn>arn:aws:iam::000000000000:user\/sagebox-container<\/Arn>/);
    const other = await stsQuery(new URL(s.url), creds, 'Action=AssumeRole&Version=2011-06-15');
    assert.match(other.text, /<Code>InvalidAction<\/Code>/);
    const sm = new SageMakerClient({ endpoint: s.url, region: REGION, credentials: creds, maxAttempts: 1 });
    assert.deepEqual(await failure(sm.send(new ListTrainingJobsCommand({}))), { name: 'AccessDeniedException', status: 403 });
    for (const x of [c, sm]) x.destroy();
  });

  it('decodes hand-signed aws-chunked streams: chunk signatures and a signed trailer are checked', async () => {
    const url = new URL(s.url);
    const data = Buffer.alloc(200 * 1024, 7);
    data.write('start');
    const send = (key: string, payloadMode: string, tamper?: 'chunk' | 'trailer'): Promise<{ status: number; text: string }> =>
      signedChunkedPut(url, `/${B}/${key}`, data, 64 * 1024, payloadMode, tamper);
    const ok = await send('chunked/signed.bin', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD');
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(await fsp.readFile(path.join(s.dataDir, 's3', B, 'chunked', 'signed.bin')), data);
    const trailer = await send('chunked/trailer.bin', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER');
    assert.equal(trailer.status, 200, trailer.text);
    assert.deepEqual(await fsp.readFile(path.join(s.dataDir, 's3', B, 'chunked', 'trailer.bin')), data);
    const badChunk = await send('chunked/bad.bin', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'chunk');
    assert.equal(badChunk.status, 403);
    assert.match(badChunk.text, /SignatureDoesNotMatch/);
    const badTrailer = await send('chunked/bad.bin', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', 'trailer');
    assert.equal(badTrailer.status, 400);
    assert.match(badTrailer.text, /BadDigest/);
    await assert.rejects(fsp.access(path.join(s.dataDir, 's3', B, 'chunked', 'bad.bin')), 'a refused stream leaves no object');
  });
});

/** A form-encoded STS query request, SigV4-signed for service 'sts'. */
async function stsQuery(url: URL, credentials: { accessKeyId: string; secretAccessKey: string }, body: string): Promise<{ status: number; text: string }> {
  const headers = { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };
  const signer = new SignatureV4({ credentials, region: REGION, service: 'sts', sha256: Sha256, applyChecksum: false });
  const signed = await signer.sign(new HttpRequest({ method: 'POST', hostname: url.hostname, port: Number(url.port), path: '/', headers, body }));
  const res = await fetch(`${url.origin}/`, { method: 'POST', headers: signed.headers as Record<string, string>, body });
  return { status: res.status, text: await res.text() };
}

/**
 * PUTs `data` as aws-chunked, signed the way SigV4 streaming specifies: the
 * seed signature over the headers, then one signature per chunk chained from
 * it, and (for the -TRAILER mode) a CRC32 trailer with its own signature.
 */
async function signedChunkedPut(url: URL, pathName: string, data: Buffer, chunkSize: number, mode: string, tamper?: 'chunk' | 'trailer'): Promise<{ status: number; text: string }> {
  const date = new Date();
  const amzDate = date.toISOString().replace(/[-:]|\.\d+/g, '');
  const scope = `${amzDate.slice(0, 8)}/${REGION}/s3/aws4_request`;
  const withTrailer = mode.endsWith('-TRAILER');
  const headers: Record<string, string> = {
    host: url.host,
    'x-amz-content-sha256': mode,
    'x-amz-decoded-content-length': String(data.length),
    'content-encoding': 'aws-chunked',
    'x-amz-date': amzDate,
  };
  if (withTrailer) headers['x-amz-trailer'] = 'x-amz-checksum-crc32';
  const signer = new SignatureV4({ credentials: TEST_CREDENTIALS, region: REGION, service: 's3', sha256: Sha256, uriEscapePath: false, applyChecksum: false });
  const signed = await signer.sign(new HttpRequest({ method: 'PUT', hostname: url.hostname, port: Number(url.port), path: pathName, headers }), { signingDate: date });
  let prev = /Signature=([0-9a-f]+)/.exec(String(signed.headers.authorization))![1]!;
  const kDate = createHmac('sha256', `AWS4${TEST_CREDENTIALS.secretAccessKey}`).update(amzDate.slice(0, 8)).digest();
  const key = ['us-east-1', 's3', 'aws4_request'].reduce((k, part) => createHmac('sha256', k).update(part).digest(), kDate);
  const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
  const chunkSig = (chunk: Buffer): string => {
    const sig = createHmac('sha256', key).update(['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, prev, sha(''), sha(chunk)].join('\n')).digest('hex');
    prev = sig;
    return sig;
  };
  const parts: Buffer[] = [];
  for (let off = 0; off < data.length; off += chunkSize) {
    const chunk = data.subarray(off, off + chunkSize);
    let sig = chunkSig(chunk);
    if (tamper === 'chunk' && off > 0) sig = sig.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    parts.push(Buffer.from(`${chunk.length.toString(16)};chunk-signature=${sig}\r\n`), chunk, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`0;chunk-signature=${chunkSig(Buffer.alloc(0))}\r\n`));
  if (withTrailer) {
    const { crc32 } = await import('node:zlib');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(tamper === 'trailer' ? Buffer.from('other') : data) >>> 0);
    const line = `x-amz-checksum-crc32:${crc.toString('base64')}\n`;
    const sig = createHmac('sha256', key).update(['AWS4-HMAC-SHA256-TRAILER', amzDate, scope, prev, sha(line)].join('\n')).digest('hex');
    parts.push(Buffer.from(`${line.trimEnd()}\r\nx-amz-trailer-signature:${sig}\r\n`));
  }
  parts.push(Buffer.from('\r\n'));
  const body = Buffer.concat(parts);
  // node:http rather than fetch: the signed Host header must go out as signed.
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, method: 'PUT', path: pathName, headers: { ...(signed.headers as Record<string, string>), 'content-length': String(body.length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
