import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidBucketNameError, InvalidObjectKeyError, InvalidUriError } from '../src/storage/errors';
import { joinKey, validateBucketName, validateKey } from '../src/storage/keys';
import { relativeToPrefix } from '../src/storage/transfer';
import { formatS3Uri, parseS3Uri, parseUri } from '../src/storage/uri';

describe('storage URIs and keys', () => {
  it('parses s3:// URIs literally', () => {
    assert.deepEqual(parseUri('s3://bucket/key/prefix/'), { scheme: 's3', bucket: 'bucket', key: 'key/prefix/' });
    assert.deepEqual(parseUri('s3://bucket'), { scheme: 's3', bucket: 'bucket', key: '' });
    assert.deepEqual(parseUri('s3://bucket/'), { scheme: 's3', bucket: 'bucket', key: '' });
    assert.deepEqual(parseUri('s3://b-1/a b/c%20d?#.csv'), { scheme: 's3', bucket: 'b-1', key: 'a b/c%20d?#.csv' });
    assert.deepEqual(parseUri('S3://bucket/k'), { scheme: 's3', bucket: 'bucket', key: 'k' });
    assert.equal(formatS3Uri('bucket', 'a/b'), 's3://bucket/a/b');
  });

  it('parses virtual-hosted and path-style S3 https URLs, percent-decoding the key', () => {
    const cases: [string, string, string][] = [
      ['https://my-bucket.s3.us-west-2.amazonaws.com/data/train%20set/a.csv', 'my-bucket', 'data/train set/a.csv'],
      ['https://my.dotted.bucket.s3.amazonaws.com/k', 'my.dotted.bucket', 'k'],
      ['https://my-bucket.s3-eu-west-1.amazonaws.com/k', 'my-bucket', 'k'],
      ['https://my-bucket.s3.dualstack.eu-west-1.amazonaws.com/k', 'my-bucket', 'k'],
      ['https://my-bucket.s3.cn-north-1.amazonaws.com.cn/k', 'my-bucket', 'k'],
      ['https://s3.us-east-1.amazonaws.com/my-bucket/path/to/k', 'my-bucket', 'path/to/k'],
      ['https://s3.amazonaws.com/my-bucket', 'my-bucket', ''],
    ];
    for (const [uri, bucket, key] of cases) assert.deepEqual(parseUri(uri), { scheme: 's3', bucket, key }, uri);
  });

  it('parses absolute file:// URIs', () => {
    assert.deepEqual(parseUri('file:///data/train'), { scheme: 'file', path: '/data/train' });
    assert.deepEqual(parseUri('file:///data/my%20dir/'), { scheme: 'file', path: '/data/my dir/' });
    assert.deepEqual(parseUri('file://localhost/data'), { scheme: 'file', path: '/data' });
  });

  it('refuses what it cannot place', () => {
    for (const uri of ['', 'bucket/key', 's3://', 's3:///key', 'gs://bucket/key', 'https://example.com/bucket/key', 'file://relative/path', 'ftp://x/y']) {
      assert.throws(() => parseUri(uri), InvalidUriError, JSON.stringify(uri));
    }
    assert.throws(() => parseS3Uri('file:///data'), InvalidUriError);
  });

  it('joins a prefix and a relative path with exactly one slash', () => {
    assert.equal(joinKey('out', 'a/b.txt'), 'out/a/b.txt');
    assert.equal(joinKey('out/', 'a/b.txt'), 'out/a/b.txt');
    assert.equal(joinKey('out/', '/a'), 'out/a');
    assert.equal(joinKey('', 'a'), 'a');
  });

  it('places S3Prefix objects relative to the prefix', () => {
    assert.equal(relativeToPrefix('data/train/', 'data/train/a/b.csv'), 'a/b.csv');
    assert.equal(relativeToPrefix('data/train', 'data/train/a.csv'), 'a.csv');
    assert.equal(relativeToPrefix('data/train.csv', 'data/train.csv'), 'train.csv');
    assert.equal(relativeToPrefix('data/tr', 'data/train.csv'), 'train.csv');
    assert.equal(relativeToPrefix('tr', 'train/x.csv'), 'train/x.csv');
    assert.equal(relativeToPrefix('', 'a/b'), 'a/b');
  });

  it('validates keys and bucket names', () => {
    for (const key of ['', '/a', 'a/../b', '..', 'a\0b', 'x'.repeat(1025)]) assert.throws(() => validateKey(key), InvalidObjectKeyError);
    for (const key of ['a', 'a/b/', 'a..b', '...', 'a b/ü']) validateKey(key);
    for (const b of ['ab', 'Upper', 'under_score', 'xn--abc', 'a-s3alias', '10.0.0.1']) assert.throws(() => validateBucketName(b), InvalidBucketNameError, b);
    for (const b of ['abc', 'sagemaker-us-east-1-123456789012', 'a.b-c', '1bucket']) validateBucketName(b);
  });
});
