/**
 * The S3 API's pure parts, without a server: the XML reader and writer, the
 * aws-chunked decoder (framing split at every byte boundary, trailers), the
 * checksums' check values, Range and conditional-request rules, and paged
 * listings with delimiters over the local store.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { AwsChunkedDecoder } from '../src/api/s3/aws-chunked';
import { createChecksum } from '../src/api/s3/checksums';
import { checkReadConditions, parseRange } from '../src/api/s3/conditions';
import { listPage } from '../src/api/s3/list-objects';
import { resolveTarget, type S3Deps } from '../src/api/s3/request';
import { child, childrenNamed, parseXml, XmlParseError, xmlDocument } from '../src/api/s3/xml';
import { LocalMultipartUploads } from '../src/storage/local-multipart';
import { LocalObjectStore, type StoredObject } from '../src/storage/local-store';

async function decode(body: Buffer, splitEvery?: number): Promise<{ data: Buffer; decoder: AwsChunkedDecoder }> {
  const decoder = new AwsChunkedDecoder();
  const pieces: Buffer[] = [];
  if (splitEvery) for (let i = 0; i < body.length; i += splitEvery) pieces.push(body.subarray(i, i + splitEvery));
  else pieces.push(body);
  const out: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    Readable.from(pieces).pipe(decoder).on('data', (c: Buffer) => out.push(c)).on('end', resolve).on('error', reject);
  });
  return { data: Buffer.concat(out), decoder };
}

describe('S3 API units', () => {
  it('parses request XML with namespaces, entities, CDATA and comments, and refuses DOCTYPE', () => {
    const doc = parseXml(
      '<?xml version="1.0" encoding="UTF-8"?>\n<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><!-- c --><Quiet>true</Quiet>' +
        '<Object><Key>a &amp; b &lt;c&gt; &#x41;&#66;</Key></Object><Object><Key><![CDATA[x<y>&z]]></Key></Object><s3:Object xmlns:s3="x"><Key>p</Key></s3:Object></Delete>',
    );
    assert.equal(doc.name, 'Delete');
    assert.equal(child(doc, 'Quiet')?.text, 'true');
    assert.deepEqual(childrenNamed(doc, 'Object').map((o) => child(o, 'Key')?.text), ['a & b <c> AB', 'x<y>&z', 'p']);
    assert.throws(() => parseXml('<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>'), XmlParseError);
    assert.throws(() => parseXml('<a><b></a>'), XmlParseError);
    assert.throws(() => parseXml('<a>&unknown;</a>'), XmlParseError);
    assert.throws(() => parseXml('<a/><b/>'), XmlParseError);
  });

  it('writes XML with every text escaped', () => {
    const xml = xmlDocument('R', [['Key', 'a<&>"\'\r'], ['N', 3], undefined, ['L', [['Flag', true]]]]);
    assert.equal(xml, '<?xml version="1.0" encoding="UTF-8"?>\n<R xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Key>a&lt;&amp;&gt;&quot;&apos;&#13;</Key><N>3</N><L><Flag>true</Flag></L></R>');
    assert.equal(child(parseXml(xml), 'Key')?.text, 'a<&>"\'\r');
  });

  it('decodes aws-chunked bodies split anywhere, with trailers, and refuses broken framing', async () => {
    const payload = Buffer.from('The quick brown fox jumps over the lazy dog, twice over. '.repeat(40));
    const chunks = [payload.subarray(0, 1000), payload.subarray(1000, 2000), payload.subarray(2000)];
    const framed = Buffer.concat([
      ...chunks.flatMap((c) => [Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n')]),
      Buffer.from('0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n'),
    ]);
    for (const split of [undefined, 1, 2, 3, 7, 1001]) {
      const { data, decoder } = await decode(framed, split);
      assert.deepEqual(data, payload, `split every ${split}`);
      assert.equal(decoder.trailers.get('x-amz-checksum-crc32'), 'AAAAAA==');
    }
    // Without the final empty line (some clients) it still ends cleanly.
    const { data } = await decode(Buffer.concat([Buffer.from('3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n')]));
    assert.equal(data.toString(), 'abc');
    await assert.rejects(decode(Buffer.from('3\r\nabcX\r\n0\r\n\r\n')), /Malformed aws-chunked/);
    await assert.rejects(decode(Buffer.from('zz\r\nabc\r\n')), /Malformed aws-chunked/);
    await assert.rejects(decode(Buffer.from('10\r\nabc')), /IncompleteBody|did not provide/);
  });

  it('computes the checksums S3 accepts (check values of "123456789")', () => {
    const expected: Record<string, string> = { CRC32: 'cbf43926', CRC32C: 'e3069283', CRC64NVME: 'ae8b14860a799888', SHA1: 'f7c3bc1d808e04732adf679965ccc34ca7ae3441' };
    for (const [algo, hex] of Object.entries(expected)) {
      const c = createChecksum(algo as 'CRC32');
      c.update(Buffer.from('1234'));
      c.update(Buffer.from('56789'));
      assert.equal(Buffer.from(c.digest(), 'base64').toString('hex'), hex, algo);
    }
  });

  it('parses Range as S3 does', () => {
    assert.deepEqual(parseRange('bytes=0-3', 10), { start: 0, end: 3 });
    assert.deepEqual(parseRange('bytes=8-100', 10), { start: 8, end: 9 });
    assert.deepEqual(parseRange('bytes=-3', 10), { start: 7, end: 9 });
    assert.deepEqual(parseRange('bytes=-30', 10), { start: 0, end: 9 });
    assert.equal(parseRange('bytes=5-2', 10), undefined, 'ignored, as S3 ignores it');
    assert.equal(parseRange('bytes=0-1,3-4', 10), undefined, 'several ranges: whole object');
    assert.equal(parseRange(undefined, 10), undefined);
    assert.throws(() => parseRange('bytes=10-', 10), /not satisfiable/);
    assert.throws(() => parseRange('bytes=0-', 0), /not satisfiable/);
  });

  it('evaluates conditional headers in RFC 7232 order at one-second resolution', () => {
    const o: StoredObject = { key: 'k', size: 1, etag: '"abc"', lastModified: new Date('2024-01-01T00:00:00.750Z') };
    const check = (h: Record<string, string>): string => {
      try {
        checkReadConditions(h, o);
        return 'ok';
      } catch (e) {
        return (e as Error).name;
      }
    };
    assert.equal(check({ 'if-match': '"abc"' }), 'ok');
    assert.equal(check({ 'if-match': '"x", "abc"' }), 'ok');
    assert.equal(check({ 'if-match': '"x"' }), 'PreconditionFailed');
    assert.equal(check({ 'if-match': '"abc"', 'if-unmodified-since': 'Sun, 31 Dec 2023 00:00:00 GMT' }), 'ok', 'If-Match wins');
    assert.equal(check({ 'if-unmodified-since': 'Sun, 31 Dec 2023 00:00:00 GMT' }), 'PreconditionFailed');
    assert.equal(check({ 'if-none-match': 'W/"abc"' }), 'NotModified');
    assert.equal(check({ 'if-modified-since': 'Mon, 01 Jan 2024 00:00:00 GMT' }), 'NotModified', 'same second: not modified');
    assert.equal(check({ 'if-none-match': '"x"', 'if-modified-since': 'Mon, 01 Jan 2024 00:00:00 GMT' }), 'ok', 'If-None-Match wins');
    assert.equal(check({ 'if-modified-since': 'not a date' }), 'ok');
  });

  it('resolves path-style and virtual-host addressing', () => {
    assert.deepEqual(resolveTarget('/', 'localhost:4780', 's3.localhost'), {});
    assert.deepEqual(resolveTarget('/b', 'localhost', 's3.localhost'), { bucket: 'b' });
    assert.deepEqual(resolveTarget('/b/', 'localhost', 's3.localhost'), { bucket: 'b', key: undefined });
    assert.deepEqual(resolveTarget('/b/a%20b/c%2Fd', 'localhost', 's3.localhost'), { bucket: 'b', key: 'a b/c/d' });
    assert.deepEqual(resolveTarget('/a/b', 'my-bucket.s3.localhost:4780', 's3.localhost'), { bucket: 'my-bucket', key: 'a/b', virtualHost: true });
    assert.deepEqual(resolveTarget('/', 'my-bucket.S3.LOCALHOST', 's3.localhost'), { bucket: 'my-bucket', key: undefined, virtualHost: true });
    assert.deepEqual(resolveTarget('/b/k', 's3.localhost:1', 's3.localhost'), { bucket: 'b', key: 'k' });
    assert.throws(() => resolveTarget('/b/%zz', 'localhost', undefined), /parse the specified URI/);
  });

  it('pages listings with any delimiter, rolling directories up under "/"', async () => {
    const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'sagebox-s3-units-'));
    const store = new LocalObjectStore({ root });
    try {
      await store.ensureBucket('pages');
      const keys = ['a.txt', 'b/1', 'b/2', 'b/', 'c-1', 'c-2/x', 'd/e/f', 'e.txt', 'f/', 'g'];
      for (const k of keys) await store.put('pages', k, k);
      const deps = { store, uploads: new LocalMultipartUploads(store) } as unknown as S3Deps;
      const all = async (delimiter: string | undefined, maxKeys: number, prefix = ''): Promise<string[][]> => {
        const pages: string[][] = [];
        let startAfter: string | undefined;
        for (;;) {
          const p = await listPage(deps, 'pages', { prefix, delimiter, startAfter, maxKeys });
          pages.push([...p.contents.map((c) => c.key), ...p.prefixes.map((x) => `P:${x}`)]);
          if (!p.truncated) return pages;
          startAfter = p.last;
        }
      };
      assert.deepEqual((await all('/', 1000)).flat(), ['a.txt', 'c-1', 'e.txt', 'g', 'P:b/', 'P:c-2/', 'P:d/', 'P:f/']);
      assert.deepEqual((await all('/', 2)).flat().sort(), ['P:b/', 'P:c-2/', 'P:d/', 'P:f/', 'a.txt', 'c-1', 'e.txt', 'g']);
      assert.equal((await all('/', 2)).length, 4);
      assert.deepEqual((await all('-', 1000)).flat(), ['a.txt', 'b/', 'b/1', 'b/2', 'd/e/f', 'e.txt', 'f/', 'g', 'P:c-']);
      assert.deepEqual((await all(undefined, 3)).flat(), [...keys].sort());
      assert.deepEqual((await all('/', 1000, 'b/')).flat(), ['b/', 'b/1', 'b/2'], "the prefix's own folder marker is listed");
      const page = await listPage(deps, 'pages', { prefix: '', delimiter: '/', startAfter: 'b/', maxKeys: 1000 });
      assert.deepEqual([...page.contents.map((c) => c.key), ...page.prefixes], ['c-1', 'e.txt', 'g', 'c-2/', 'd/', 'f/'], 'a common prefix already returned is not returned again');
    } finally {
      store.close();
      await fsp.rm(root, { recursive: true, force: true });
    }
  });
});
