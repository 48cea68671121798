import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export interface RunningS3rver {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Stops the server and removes its data directory. */
  stop(): Promise<void>;
}

// Runs in the child: s3rver on a free port, the port reported over IPC, exit when the parent goes away.
//
// s3rver 3.7.1's FilesystemStore.putObject answers before its file is written: it
// resolves right after writeStream.end(buffer) (or on the hashing transform's finish),
// not on the write stream's 'close', and it overwrites the object file in place.
// A GET right after a PUT of the same key could read a short file (seen in CI as
// a manifest that was "not valid JSON"). The replacement below stages the body in
// a sibling file, waits until it is on disk, and renames it over the object, so a
// PUT is answered only when every later GET sees the whole new body. The staged
// name lacks the "._S3rver_object" suffix, so listings never show it.
const CHILD = `
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { pipeline, Readable } = require('stream');
const FilesystemStore = require(path.join(path.dirname(process.env.S3RVER_MODULE), 'stores', 'filesystem.js'));
let staged = 0;
FilesystemStore.prototype.putObject = async function putObject(object) {
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  await fs.promises.mkdir(path.dirname(objectPath), { recursive: true });
  const tmp = objectPath + '.sagebox-staging-' + process.pid + '-' + staged++;
  const md5 = crypto.createHash('md5');
  let size = 0;
  const source = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
  try {
    await new Promise((resolve, reject) => {
      pipeline(source, async function* (chunks) {
        for await (const chunk of chunks) {
          md5.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      }, fs.createWriteStream(tmp), (err) => (err ? reject(err) : resolve()));
    });
    await fs.promises.rename(tmp, objectPath);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
  const digest = md5.digest('hex');
  await this.putMetadata(object.bucket, object.key, object.metadata, digest);
  return { size, md5: digest };
};
const S3rver = require(process.env.S3RVER_MODULE);
const server = new S3rver({ address: '127.0.0.1', port: 0, directory: process.env.S3RVER_DIR, silent: true });
server.run().then(
  (addr) => process.send({ port: addr.port }),
  (err) => { console.error(err); process.exit(1); },
);
process.on('disconnect', () => process.exit(0));
// Nothing to flush (the data directory is deleted next); close() would wait for keep-alive sockets.
process.on('SIGTERM', () => process.exit(0));
`;

/**
 * Starts s3rver (npm devDependency) as a child process. It runs with
 * --openssl-legacy-provider because its listing continuation tokens use a
 * cipher Node 17+ disables (HTTP 500 otherwise). Credentials are S3RVER/S3RVER.
 */
export async function startS3rver(): Promise<RunningS3rver> {
  let modulePath: string;
  try {
    modulePath = require.resolve('s3rver');
  } catch {
    throw new Error('s3rver is not installed: it is a devDependency of sagebox; run `npm install` (or `npm ci`) first');
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'sagebox-s3rver-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', CHILD], {
    env: { ...process.env, S3RVER_MODULE: modulePath, S3RVER_DIR: dir },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`s3rver did not start within 20 s: ${stderr}`)), 20_000);
    child.once('message', (msg: { port?: number }) => {
      clearTimeout(timer);
      if (typeof msg.port === 'number') resolve(msg.port);
      else reject(new Error(`s3rver sent an unexpected message: ${JSON.stringify(msg)}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited with code ${code} before listening: ${stderr}`));
    });
  }).catch(async (err: unknown) => {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw err;
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
