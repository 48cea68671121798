/**
 * `aws s3 cp` (AWS CLI v2, /usr/bin/aws) of a 1 GiB file up and down against
 * sagebox's S3 API and against s3rver (the npm devDependency, a common local
 * S3), with a plain `cp` of the same file as the floor, all in the same run.
 * Goal: sagebox faster than s3rver both ways (sagebox / s3rver < 1) and as
 * close to the floor as the CLI allows (no threshold against cp was set; the
 * ratios are printed).
 *
 * Each timed step is the whole CLI process (Python start-up included, the
 * same for both servers), with the CLI's default transfer settings
 * (multipart above 8 MiB, 8 MiB parts, 10 threads) and a configuration of
 * its own (no ~/.aws files). Every download is compared with the source
 * (`cmp`, untimed), which also checks the upload. The floor is one `cp` of
 * the source to a fresh file per round (the same copy serves as the floor
 * for both directions). Dirty pages are flushed before each step (untimed),
 * the page cache is not dropped, every server and copy writes to the same
 * file system (the temporary directory), and the order of the three
 * targets rotates between rounds. Medians over the rounds.
 *
 * Knobs: BENCH_GB (1), BENCH_ROUNDS (3).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { exec, fmt, header, median, root, startSagebox } from './lib';
import { envNumber, fmtBytes, GiB, MiB, onCleanup, printReducedNote, syncFs, tempDir, timed, writeDataFile } from './lib-data';

const AWS = '/usr/bin/aws';
const GB = envNumber('BENCH_GB', 1);
const ROUNDS = Math.round(envNumber('BENCH_ROUNDS', 3));
const BUCKET = 'bench-s3cp';

// Runs in the child: s3rver on a free port, reported over IPC; exits with the parent.
const S3RVER_CHILD = `
const S3rver = require(process.env.S3RVER_MODULE);
new S3rver({ address: '127.0.0.1', port: 0, directory: process.env.S3RVER_DIR, silent: true }).run().then(
  (addr) => process.send({ port: addr.port }),
  (err) => { console.error(err); process.exit(1); },
);
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
`;

/** s3rver in a child process (--openssl-legacy-provider: its listing tokens use a cipher Node 17+ disables). */
async function startS3rver(dir: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const modulePath = require.resolve('s3rver', { paths: [root] });
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', S3RVER_CHILD], {
    env: { ...process.env, S3RVER_MODULE: modulePath, S3RVER_DIR: dir },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port?: number }) => (typeof m.port === 'number' ? resolve(m.port) : reject(new Error(`s3rver: ${JSON.stringify(m)}`))));
    child.once('exit', (code) => reject(new Error(`s3rver exited (${code}) before listening`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

interface Target {
  name: string;
  url: string;
  env: NodeJS.ProcessEnv;
  /** Directory the server writes to (for sync). */
  dataDir: string;
}

function cliEnv(home: string, key: string, secret: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    AWS_ACCESS_KEY_ID: key,
    AWS_SECRET_ACCESS_KEY: secret,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: path.join(home, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'no-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  };
}

const aws = (t: Target, args: string[]): string[] => ['--endpoint-url', t.url, '--no-cli-pager', ...args];

async function main(): Promise<void> {
  if (!fs.existsSync(AWS)) throw new Error(`${AWS} is missing: install Debian's awscli (apt-get install -y awscli)`);
  const bytes = Math.round(GB * GiB);
  const tmp = tempDir('bench-s3cp-');
  const src = path.join(tmp.dir, 'source.bin');
  const scratch = path.join(tmp.dir, 'scratch');
  fs.mkdirSync(scratch);
  await writeDataFile(src, bytes);

  const sb = await startSagebox({ stopGraceSeconds: { jobs: 5, endpoints: 5 } });
  const stopSagebox = onCleanup(() => sb.stop());
  const s3rverDir = path.join(tmp.dir, 's3rver');
  fs.mkdirSync(s3rverDir);
  const s3rver = await startS3rver(s3rverDir);
  const stopS3rver = onCleanup(() => s3rver.stop());
  const targets: Target[] = [
    { name: 'sagebox', url: sb.url, env: cliEnv(tmp.dir, 'test', 'test'), dataDir: sb.dataDir },
    { name: 's3rver', url: s3rver.url, env: cliEnv(tmp.dir, 'S3RVER', 'S3RVER'), dataDir: s3rverDir },
  ];
  const up = new Map<string, number[]>(targets.map((t) => [t.name, []]));
  const down = new Map<string, number[]>(targets.map((t) => [t.name, []]));
  const floor: number[] = [];
  let seq = 0;
  try {
    for (const t of targets) await exec(AWS, aws(t, ['s3', 'mb', `s3://${BUCKET}`]), { env: t.env });
    const steps: Array<() => Promise<void>> = [
      async () => {
        const dest = path.join(scratch, `floor-${seq++}.bin`);
        await syncFs(tmp.dir);
        floor.push(await timed('cp', [src, dest]));
        fs.rmSync(dest);
      },
      ...targets.map((t) => async () => {
        const key = `s3://${BUCKET}/big-${seq++}.bin`;
        await syncFs(t.dataDir);
        up.get(t.name)!.push(await timed(AWS, aws(t, ['s3', 'cp', '--only-show-errors', src, key]), { env: t.env }));
        const dest = path.join(scratch, `down-${seq++}.bin`);
        await syncFs(t.dataDir);
        down.get(t.name)!.push(await timed(AWS, aws(t, ['s3', 'cp', '--only-show-errors', key, dest]), { env: t.env }));
        try {
          await exec('cmp', ['-s', src, dest]);
        } catch {
          throw new Error(`${t.name}: the downloaded file differs from the source`);
        }
        fs.rmSync(dest);
        await exec(AWS, aws(t, ['s3', 'rm', '--only-show-errors', key]), { env: t.env });
      }),
    ];
    for (let r = 0; r < ROUNDS; r++) {
      for (let i = 0; i < steps.length; i++) await steps[(i + r) % steps.length]!();
      process.stderr.write(`round ${r + 1}/${ROUNDS}: cp ${fmt(floor[r]!, 0)} ms; ${targets.map((t) => `${t.name} up ${fmt(up.get(t.name)![r]!, 0)} ms, down ${fmt(down.get(t.name)![r]!, 0)} ms`).join('; ')}\n`);
    }
  } finally {
    await stopS3rver();
    await stopSagebox();
    await tmp.remove();
  }

  header(`aws s3 cp of ${fmtBytes(bytes)}: sagebox vs s3rver, plain cp as the floor`);
  printReducedNote({ BENCH_GB: [GB, 1], BENCH_ROUNDS: [ROUNDS, 3] });
  const cp = median(floor);
  const rate = (ms: number): string => `${fmt(bytes / MiB / (ms / 1000), 0)} MiB/s`;
  console.log(`rounds: ${ROUNDS}; AWS CLI ${(await exec(AWS, ['--version'])).stdout.trim().split(' ')[0]}; medians`);
  console.log(`cp (floor): ${fmt(cp, 0)} ms (${rate(cp)})`);
  console.log('| target | direction | ms | MiB/s | x cp |');
  console.log('|---|---|---|---|---|');
  for (const t of targets) {
    for (const [dir, m] of [['up', up], ['down', down]] as const) {
      const ms = median(m.get(t.name)!);
      console.log(`| ${t.name} | ${dir} | ${fmt(ms, 0)} | ${fmt(bytes / MiB / (ms / 1000), 0)} | ${fmt(ms / cp)}x |`);
    }
  }
  for (const dir of ['up', 'down'] as const) {
    const m = dir === 'up' ? up : down;
    const s = median(m.get('sagebox')!);
    const o = median(m.get('s3rver')!);
    console.log(`${dir}: sagebox ${fmt(s / cp)}x cp, s3rver ${fmt(o / cp)}x cp; sagebox / s3rver ${fmt(s / o)}x (goal < 1)`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
