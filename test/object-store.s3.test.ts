import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { S3ObjectStore } from '../src/storage/s3-store';
import { startS3rver, type RunningS3rver } from './helpers/s3rver';
import { objectStoreConformance } from './object-store.conformance';

function storeFor(server: RunningS3rver): S3ObjectStore {
  return new S3ObjectStore({ endpoint: server.endpoint, region: server.region, credentials: server.credentials, forcePathStyle: true });
}

objectStoreConformance('S3 store on s3rver', async () => {
  const server = await startS3rver();
  const store = storeFor(server);
  return {
    store,
    async close() {
      store.client.destroy();
      await server.stop();
    },
  };
});

describe('S3 store: multipart', () => {
  let server: RunningS3rver;
  let store: S3ObjectStore;
  let work: string;
  const commands: string[] = [];

  before(async () => {
    server = await startS3rver();
    store = storeFor(server);
    store.client.middlewareStack.add(
      (next, context) => async (args) => {
        commands.push(context.commandName ?? '?');
        return next(args);
      },
      { step: 'initialize', name: 'recordCommands' },
    );
    work = await fsp.mkdtemp(path.join(tmpdir(), 'sagebox-s3-multipart-'));
    await store.ensureBucket('multipart');
  });
  after(async () => {
    store?.client.destroy();
    await server?.stop();
    if (work) await fsp.rm(work, { recursive: true, force: true });
  });

  it('sends files larger than one part (8 MiB) as multipart uploads, smaller ones as one PutObject', async () => {
    const big = path.join(work, 'big');
    await fsp.writeFile(big, randomBytes(20 * 1024 * 1024));
    commands.length = 0;
    await store.putFile('multipart', 'big', big);
    assert.deepEqual(commands.filter((c) => c !== 'UploadPartCommand'), ['CreateMultipartUploadCommand', 'CompleteMultipartUploadCommand']);
    assert.equal(commands.filter((c) => c === 'UploadPartCommand').length, 3);

    commands.length = 0;
    await store.put('multipart', 'stream', Readable.from([randomBytes(1024)]));
    assert.deepEqual(commands, ['PutObjectCommand'], 'a stream of unknown length that fits one part');
    const small = path.join(work, 'small');
    await fsp.writeFile(small, 'small');
    commands.length = 0;
    await store.putFile('multipart', 'small', small);
    assert.deepEqual(commands, ['PutObjectCommand']);
    assert.equal((await store.head('multipart', 'big'))?.size, 20 * 1024 * 1024);
  });
});
