/**
 * The pure parts of batch transform: record splitting (Line, RecordIO,
 * TFRecord), batching, the JSONPath subset, DataProcessing joins and
 * filters, and the batch parameters' precedence.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { batches, RecordTooLargeError, type PreparedRecord } from '../src/jobs/transform/batches';
import { formatCsvRow, outputRecords, parseCsvRow, RecordProcessor } from '../src/jobs/transform/data-processing';
import { evaluate, parseJsonPath, JsonPathError } from '../src/jobs/transform/jsonpath';
import { batchEnvironment, parseExecutionParameters, resolveParams } from '../src/jobs/transform/params';
import { crc32c, frameRecordIO, frameTfRecord, readRecords, RecordFormatError, type SplitType } from '../src/jobs/transform/records';

/** A stream that delivers `data` in chunks of `size` bytes (records cross chunk borders). */
const chunked = (data: Buffer, size: number): Readable => {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) parts.push(data.subarray(i, i + size));
  return Readable.from(parts);
};

async function records(data: Buffer, split: SplitType, chunk = 3): Promise<{ framed: string; payload: string }[]> {
  const out = [];
  for await (const group of readRecords(chunked(data, chunk), split)) for (const r of group) out.push({ framed: r.framed.toString('latin1'), payload: r.payload.toString('latin1') });
  return out;
}

describe('records', () => {
  it('Line: records keep their newline in framed, not in payload; blank lines are skipped; the last line may lack a newline', async () => {
    const r = await records(Buffer.from('a,1\nbb,22\r\n\n\nccc'), 'Line');
    assert.deepEqual(r, [
      { framed: 'a,1\n', payload: 'a,1' },
      { framed: 'bb,22\r\n', payload: 'bb,22' },
      { framed: 'ccc', payload: 'ccc' },
    ]);
    assert.deepEqual(await records(Buffer.alloc(0), 'Line'), []);
  });

  it('a long line across many chunks comes out whole', async () => {
    const long = 'x'.repeat(100_000);
    const r = await records(Buffer.from(`${long}\nshort\n`), 'Line', 4096);
    assert.equal(r.length, 2);
    assert.equal(r[0]!.payload, long);
  });

  it('RecordIO: magic, length, payload, padding to 4 bytes; SingleRecord payload has no framing', async () => {
    const data = Buffer.concat([frameRecordIO(Buffer.from('hello')), frameRecordIO(Buffer.from('abcd')), frameRecordIO(Buffer.from(''))]);
    assert.equal(frameRecordIO(Buffer.from('hello')).length, 16); // 8 + 5 + 3 padding
    const r = await records(data, 'RecordIO', 5);
    assert.deepEqual(r.map((x) => x.payload), ['hello', 'abcd', '']);
    assert.deepEqual(r.map((x) => x.framed.length), [16, 12, 8]);
  });

  it('RecordIO: a multi-part record (cflag 1..3) is one record, the magic re-inserted between parts', async () => {
    const part = (flag: number, s: string): Buffer => {
      const f = frameRecordIO(Buffer.from(s));
      f.writeUInt32LE(((flag << 29) | s.length) >>> 0, 4);
      return f;
    };
    const r = [];
    for await (const g of readRecords(chunked(Buffer.concat([part(1, 'ab'), part(2, 'cd'), part(3, 'ef')]), 7), 'RecordIO')) r.push(...g);
    assert.equal(r.length, 1);
    const magic = Buffer.alloc(4);
    magic.writeUInt32LE(0xced7230a);
    assert.deepEqual(r[0]!.payload, Buffer.concat([Buffer.from('ab'), magic, Buffer.from('cd'), magic, Buffer.from('ef')]));
  });

  it('RecordIO: a wrong magic number fails', async () => {
    await assert.rejects(records(Buffer.from('not recordio at all'), 'RecordIO'), RecordFormatError);
  });

  it('TFRecord: CRC32-C is the Castagnoli one; framed records round-trip; corruption is detected', async () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    const data = Buffer.concat([frameTfRecord(Buffer.from('first')), frameTfRecord(Buffer.alloc(0)), frameTfRecord(Buffer.from('x'.repeat(1000)))]);
    const r = await records(data, 'TFRecord', 7);
    assert.deepEqual(r.map((x) => x.payload.length), [5, 0, 1000]);
    assert.deepEqual(r.map((x) => x.framed.length), [21, 16, 1016]);
    const bad = Buffer.from(data);
    bad[14] = bad[14]! ^ 1; // a byte of the first record's data
    await assert.rejects(records(bad, 'TFRecord'), /data checksum/);
  });

  it('None: the whole object is one record', async () => {
    assert.deepEqual(await records(Buffer.from('a\nb\n'), 'None'), [{ framed: 'a\nb\n', payload: 'a\nb\n' }]);
  });
});

describe('batches', () => {
  // Two groups, so packing crosses group borders.
  const recs = (...lines: string[]): AsyncIterable<PreparedRecord[]> => {
    const all = lines.map((l) => ({ framed: Buffer.from(`${l}\n`), payload: Buffer.from(l), original: Buffer.from(l) }));
    return Readable.from([all.slice(0, 1), all.slice(1)]);
  };
  const bodies = async (it: AsyncIterable<{ body: Buffer }>): Promise<string[]> => {
    const out = [];
    for await (const b of it) out.push(b.body.toString());
    return out;
  };

  it('MultiRecord packs whole framed records greedily up to the limit', async () => {
    assert.deepEqual(await bodies(batches(recs('aaa', 'bbb', 'ccc', 'dd'), 'MultiRecord', 8)), ['aaa\nbbb\n', 'ccc\ndd\n']);
    assert.deepEqual(await bodies(batches(recs('aaa', 'bbb'), 'MultiRecord', 7)), ['aaa\n', 'bbb\n']);
  });

  it('SingleRecord sends payloads; a record over the limit fails with its number', async () => {
    assert.deepEqual(await bodies(batches(recs('a', 'b'), 'SingleRecord', 10)), ['a', 'b']);
    await assert.rejects(bodies(batches(recs('ok', 'way too long'), 'MultiRecord', 5)), (e: unknown) => e instanceof RecordTooLargeError && e.record === 1);
  });
});

describe('JSONPath subset', () => {
  const doc = { id: 7, features: [1, 2, 3], SageMakerOutput: { score: 0.5 }, name: 'x' };
  const ev = (p: string, v: unknown = doc): unknown => evaluate(parseJsonPath(p), v);

  it('selects by name, index (negative), union, slice and wildcard', () => {
    assert.deepEqual(ev('$'), doc);
    assert.equal(ev('$.id'), 7);
    assert.deepEqual(ev('$.features'), [1, 2, 3]);
    assert.equal(ev('$.features[-1]'), 3);
    assert.deepEqual(ev('$.features[0,-1]'), [1, 3]);
    assert.deepEqual(ev('$.features[1:]'), [2, 3]);
    assert.deepEqual(ev('$.features[:2]'), [1, 2]);
    assert.deepEqual(ev('$.features[-2:]'), [2, 3]);
    assert.deepEqual(ev('$.features[*]'), [1, 2, 3]);
    assert.deepEqual(ev("$['id','SageMakerOutput']"), { id: 7, SageMakerOutput: { score: 0.5 } });
    assert.equal(ev("$['name']"), 'x');
    assert.equal(ev('$.SageMakerOutput.score'), 0.5);
    assert.deepEqual(ev('$[1:]', ['a', 'b', 'c']), ['b', 'c']);
    assert.deepEqual(ev('$.*', { a: 1, b: 2 }), [1, 2]);
  });

  it('refuses what it does not support, and indexes outside the record', () => {
    assert.throws(() => parseJsonPath('features'), JsonPathError);
    assert.throws(() => parseJsonPath('$..id'), JsonPathError);
    assert.throws(() => parseJsonPath('$[?(@.a)]'), JsonPathError);
    assert.throws(() => parseJsonPath('$[1:5:2]'), JsonPathError);
    assert.throws(() => ev('$.features[5]'), /outside/);
    assert.throws(() => ev('$[0,9]', ['a']), /outside/);
    assert.throws(() => ev('$.missing'), /no member/);
  });
});

describe('DataProcessing', () => {
  it('CSV rows parse and format with RFC 4180 quoting', () => {
    assert.deepEqual(parseCsvRow('a,"b,c","say ""hi""",,d'), ['a', 'b,c', 'say "hi"', '', 'd']);
    assert.equal(formatCsvRow(['a', 'b,c', 'say "hi"', '', 1]), 'a,"b,c","say ""hi""",,1');
  });

  it('CSV: InputFilter drops columns; join appends the prediction columns; OutputFilter picks from the joined row', () => {
    const p = new RecordProcessor({ InputFilter: '$[1:]', JoinSource: 'Input', OutputFilter: '$[0,-1]' }, 'csv', 'csv');
    assert.equal(p.filterInput(Buffer.from('id7,1.5,2.5')).toString(), '1.5,2.5');
    assert.equal(p.assemble(Buffer.from('id7,1.5,2.5'), Buffer.from('0.9')).toString(), 'id7,0.9');
    const all = new RecordProcessor({ JoinSource: 'Input' }, 'csv', 'csv');
    assert.equal(all.assemble(Buffer.from('a,b\n'), Buffer.from('x,y')).toString(), 'a,b,x,y');
  });

  it('JSON: an object gets SageMakerOutput; anything else is wrapped with SageMakerInput', () => {
    const p = new RecordProcessor({ JoinSource: 'Input' }, 'json', 'json');
    assert.equal(p.assemble(Buffer.from('{"id":1,"f":[1,2]}'), Buffer.from('{"score":0.2}')).toString(), '{"id":1,"f":[1,2],"SageMakerOutput":{"score":0.2}}');
    assert.equal(p.assemble(Buffer.from('[1,2]'), Buffer.from('0.2')).toString(), '{"SageMakerInput":[1,2],"SageMakerOutput":0.2}');
    const f = new RecordProcessor({ JoinSource: 'Input', OutputFilter: "$['id','SageMakerOutput']" }, 'json', 'json');
    assert.equal(f.assemble(Buffer.from('{"id":1,"f":[1,2]}'), Buffer.from('3')).toString(), '{"id":1,"SageMakerOutput":3}');
    const inOnly = new RecordProcessor({ InputFilter: '$.f' }, 'json', 'json');
    assert.equal(inOnly.filterInput(Buffer.from('{"id":1,"f":[1,2]}')).toString(), '[1,2]');
  });

  it('a response splits into one output record per line, or per element of a JSON array', () => {
    assert.deepEqual(outputRecords(Buffer.from('1\n0\n'), 2, true).map(String), ['1', '0']);
    assert.deepEqual(outputRecords(Buffer.from('[1,0]'), 2, true).map(String), ['1', '0']);
    assert.deepEqual(outputRecords(Buffer.from('whole\n'), 1, false).map(String), ['whole']);
  });
});

describe('batch parameters', () => {
  it('request > /execution-parameters > defaults; both spellings; 0 concurrency counts as unset', () => {
    assert.deepEqual(resolveParams({}, {}), { maxConcurrent: 1, maxPayloadMb: 6, strategy: 'MultiRecord' });
    const fromContainer = parseExecutionParameters({ MaxConcurrentTransforms: 8, BatchStrategy: 'SINGLE_RECORD', MaxPayloadInMB: 3 });
    assert.deepEqual(resolveParams({}, fromContainer), { maxConcurrent: 8, maxPayloadMb: 3, strategy: 'SingleRecord' });
    assert.deepEqual(resolveParams({ MaxConcurrentTransforms: 0, MaxPayloadInMB: 0, BatchStrategy: 'MultiRecord' }, fromContainer), { maxConcurrent: 8, maxPayloadMb: 0, strategy: 'MultiRecord' });
    assert.deepEqual(parseExecutionParameters({ BatchStrategy: 'MultiRecord', MaxConcurrentTransforms: 'x' }), { strategy: 'MultiRecord' });
  });

  it('the container gets SAGEMAKER_BATCH, and the others only when the request set them', () => {
    assert.deepEqual(batchEnvironment({}), { SAGEMAKER_BATCH: 'true' });
    assert.deepEqual(batchEnvironment({ MaxConcurrentTransforms: 4, MaxPayloadInMB: 0, BatchStrategy: 'SingleRecord' }), {
      SAGEMAKER_BATCH: 'true', SAGEMAKER_MAX_PAYLOAD_IN_MB: '0', SAGEMAKER_BATCH_STRATEGY: 'SINGLE_RECORD', SAGEMAKER_MAX_CONCURRENT_TRANSFORMS: '4',
    });
  });
});
