/**
 * The S3 API through boto3 (Debian's python3-boto3): managed multipart
 * upload_file/download_file, ListObjects v1 with delimiter and marker, a
 * presigned GET fetched without any SDK, and the SageMaker Python SDK's
 * session set-up (STS GetCallerIdentity -> default bucket
 * `sagemaker-<region>-<account>` via ListBuckets/HeadBucket/CreateBucket).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { boto3 } from './helpers/clients';
import { sha256File, writeRandomFile } from './helpers/s3-files';
import { startServer, type TestServer } from './helpers/server';

const PRELUDE = `
import boto3, json, os, sys
from botocore.config import Config
from botocore.exceptions import ClientError
s3 = boto3.client('s3', endpoint_url=os.environ['AWS_ENDPOINT_URL'], config=Config(s3={'addressing_style': 'path'}))
`;

describe('S3 API: boto3', () => {
  let s: TestServer;
  let work: string;
  const py = async (script: string, ...args: string[]): Promise<any> => {
    const r = await boto3(s.clientEnv, PRELUDE + script, args);
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? 'null');
  };

  before(async () => {
    s = await startServer({ accountId: '123456789012' });
    work = await fsp.mkdtemp(path.join(os.tmpdir(), 'sagebox-s3-boto3-'));
    await s.app.ctx.objectStore.ensureBucket('boto-bucket');
  });
  after(async () => {
    await s.stop();
    await fsp.rm(work, { recursive: true, force: true });
    await fsp.rm(s.dataDir, { recursive: true, force: true });
  });

  it('uploads and downloads with the managed transfer (multipart both ways)', async () => {
    const src = path.join(work, 'up.bin');
    const sum = await writeRandomFile(src, 40 * 1024 * 1024);
    const out = await py(
      `
from boto3.s3.transfer import TransferConfig
cfg = TransferConfig(multipart_threshold=8*1024*1024, multipart_chunksize=8*1024*1024)
s3.upload_file(sys.argv[1], 'boto-bucket', 'managed/up.bin', Config=cfg, ExtraArgs={'ContentType': 'application/x-test', 'Metadata': {'k': 'v'}})
h = s3.head_object(Bucket='boto-bucket', Key='managed/up.bin')
s3.download_file('boto-bucket', 'managed/up.bin', sys.argv[2], Config=cfg)
print(json.dumps({'etag': h['ETag'], 'type': h['ContentType'], 'meta': h['Metadata'], 'len': h['ContentLength']}))
`,
      src,
      path.join(work, 'down.bin'),
    );
    assert.match(out.etag, /^"[0-9a-f]{32}-5"$/);
    assert.equal(out.type, 'application/x-test');
    assert.deepEqual(out.meta, { k: 'v' });
    assert.equal(out.len, 40 * 1024 * 1024);
    assert.equal(await sha256File(path.join(work, 'down.bin')), sum);
  });

  it('lists with ListObjects v1: delimiter, common prefixes, marker paging', async () => {
    for (const k of ['v1/a.txt', 'v1/b/1', 'v1/b/2', 'v1/c/1', 'v1/d.txt', 'v1/e/x/y', 'v1/f.txt']) await s.app.ctx.objectStore.put('boto-bucket', k, k);
    const out = await py(`
r = s3.list_objects(Bucket='boto-bucket', Prefix='v1/', Delimiter='/')
pages = []
marker = ''
while True:
    p = s3.list_objects(Bucket='boto-bucket', Prefix='v1/', Delimiter='/', MaxKeys=2, Marker=marker)
    pages.append([c['Key'] for c in p.get('Contents', [])] + [c['Prefix'] for c in p.get('CommonPrefixes', [])])
    if not p['IsTruncated']:
        break
    marker = p['NextMarker']
flat = [c['Key'] for c in s3.list_objects(Bucket='boto-bucket', Prefix='v1/', Marker='v1/b/1')['Contents']]
print(json.dumps({'keys': [c['Key'] for c in r['Contents']], 'prefixes': [c['Prefix'] for c in r['CommonPrefixes']], 'pages': pages, 'flat': flat}))
`);
    assert.deepEqual(out.keys, ['v1/a.txt', 'v1/d.txt', 'v1/f.txt']);
    assert.deepEqual(out.prefixes, ['v1/b/', 'v1/c/', 'v1/e/']);
    assert.deepEqual(out.pages.flat().sort(), [...out.keys, ...out.prefixes].sort());
    assert.equal(out.pages.length, 3);
    assert.deepEqual(out.flat, ['v1/b/2', 'v1/c/1', 'v1/d.txt', 'v1/e/x/y', 'v1/f.txt']);
  });

  it('serves presigned GET URLs (SigV2, boto3 1.26\'s default, and SigV4) to a plain HTTP client; refuses tampered or expired ones', async () => {
    await s.app.ctx.objectStore.put('boto-bucket', 'presigned/file name+1.txt', 'presigned body');
    const urls = await py(`
v4 = boto3.client('s3', endpoint_url=os.environ['AWS_ENDPOINT_URL'], config=Config(signature_version='s3v4', s3={'addressing_style': 'path'}))
params = {'Bucket': 'boto-bucket', 'Key': 'presigned/file name+1.txt', 'ResponseContentType': 'text/x-custom'}
out = {}
for name, client in (('v2', s3), ('v4', v4)):
    out[name] = client.generate_presigned_url('get_object', Params=params, ExpiresIn=300)
    out[name + 'short'] = client.generate_presigned_url('get_object', Params={'Bucket': 'boto-bucket', 'Key': 'presigned/file name+1.txt'}, ExpiresIn=1)
print(json.dumps(out))
`);
    assert.match(urls.v2, /AWSAccessKeyId=/);
    assert.match(urls.v4, /X-Amz-Signature=/);
    for (const v of ['v2', 'v4']) {
      const res = await fetch(urls[v]);
      assert.equal(res.status, 200, v);
      assert.equal(res.headers.get('content-type'), 'text/x-custom');
      assert.equal(await res.text(), 'presigned body');
      const tampered = await fetch(urls[v].replace('presigned/file', 'presigned/File'));
      assert.equal(tampered.status, 403, v);
      assert.match(await tampered.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
    }
    await new Promise((r) => setTimeout(r, 2100));
    for (const v of ['v2short', 'v4short']) {
      const expired = await fetch(urls[v]);
      assert.equal(expired.status, 403, v);
      assert.match(await expired.text(), /<Code>AccessDenied<\/Code><Message>Request has expired<\/Message>/);
    }
  });

  it("sets up a SageMaker session's default bucket: STS account -> ListBuckets/HeadBucket -> CreateBucket", async () => {
    const out = await py(`
region = os.environ['AWS_REGION']
sts = boto3.client('sts', endpoint_url=os.environ['AWS_ENDPOINT_URL'])
account = sts.get_caller_identity()['Account']
bucket = 'sagemaker-%s-%s' % (region, account)
resource = boto3.resource('s3', endpoint_url=os.environ['AWS_ENDPOINT_URL'])
before = resource.Bucket(bucket).creation_date
try:
    s3.head_bucket(Bucket=bucket)
    missing = None
except ClientError as e:
    missing = e.response['Error']['Code']
s3.create_bucket(Bucket=bucket)
s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=account)
try:
    s3.head_bucket(Bucket=bucket, ExpectedBucketOwner='999999999999')
    other = None
except ClientError as e:
    other = e.response['Error']['Code']
after = resource.Bucket(bucket).creation_date
s3.put_object(Bucket=bucket, Key='code/script.py', Body=b'print(1)', ContentMD5=__import__('base64').b64encode(__import__('hashlib').md5(b'print(1)').digest()).decode())
try:
    s3.put_object(Bucket=bucket, Key='code/bad.py', Body=b'print(2)', ContentMD5='1B2M2Y8AsgTpgAmY7PhCfg==')
    bad = None
except ClientError as e:
    bad = e.response['Error']['Code']
print(json.dumps({'account': account, 'bucket': bucket, 'before': before is None, 'missing': missing, 'other': other, 'after': after is not None, 'bad': bad}))
`);
    assert.equal(out.account, '123456789012');
    assert.equal(out.bucket, 'sagemaker-us-east-1-123456789012');
    assert.equal(out.before, true);
    assert.equal(out.missing, '404');
    assert.equal(out.other, '403');
    assert.equal(out.after, true);
    assert.equal(out.bad, 'BadDigest');
    assert.equal(await fsp.readFile(path.join(s.dataDir, 's3', out.bucket, 'code', 'script.py'), 'utf8'), 'print(1)');
  });

  it('answers errors with S3 codes: NoSuchKey, NoSuchBucket, InvalidRange, BucketNotEmpty, NoSuchUpload', async () => {
    const out = await py(`
codes = {}
def code(name, fn):
    try:
        fn()
        codes[name] = None
    except ClientError as e:
        codes[name] = [e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode']]
s3.put_object(Bucket='boto-bucket', Key='err/ten', Body=b'0123456789')
code('key', lambda: s3.get_object(Bucket='boto-bucket', Key='err/none'))
code('bucket', lambda: s3.get_object(Bucket='no-such-bucket-here', Key='x'))
code('range', lambda: s3.get_object(Bucket='boto-bucket', Key='err/ten', Range='bytes=10-20'))
code('notempty', lambda: s3.delete_bucket(Bucket='boto-bucket'))
code('upload', lambda: s3.abort_multipart_upload(Bucket='boto-bucket', Key='err/ten', UploadId='A' * 32))
code('name', lambda: s3.create_bucket(Bucket='Bad_Name'))
part = s3.get_object(Bucket='boto-bucket', Key='err/ten', Range='bytes=-3')
print(json.dumps({'codes': codes, 'suffix': part['Body'].read().decode(), 'cr': part['ContentRange']}))
`);
    assert.deepEqual(out.codes, {
      key: ['NoSuchKey', 404],
      bucket: ['NoSuchBucket', 404],
      range: ['InvalidRange', 416],
      notempty: ['BucketNotEmpty', 409],
      upload: ['NoSuchUpload', 404],
      name: ['InvalidBucketName', 400],
    });
    assert.equal(out.suffix, '789');
    assert.equal(out.cr, 'bytes 7-9/10');
  });
});
