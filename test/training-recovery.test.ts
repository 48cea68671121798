/**
 * Crash safety: sagebox runs as a child process (`sagebox up`), is killed
 * with SIGKILL while training jobs run, and is started again on the same data
 * directory. A job still running is re-attached and completes with its
 * artifact and every log line (once); a job whose container exited while the
 * server was down is finalised at start; a job whose container was removed
 * fails with a clear ClientError.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { crashDataDir, kill9, upChild as up, type ChildServer as Server } from './helpers/child-server';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { CreateTrainingJobCommand, DescribeTrainingJobCommand, type DescribeTrainingJobCommandOutput } from '@aws-sdk/client-sagemaker';
import { requireDocker, removeLabelled } from './helpers/docker';
import { extractTarGz } from '../src/storage/tar-gz';
import { ROLE, eventually, sleep } from './helpers/training';

const BUCKET = 'recovery';
const IMAGE = 'sagebox/base:bookworm';
const TERMINAL = new Set(['Completed', 'Failed', 'Stopped']);

const job = (name: string, script: string) =>
  new CreateTrainingJobCommand({
    TrainingJobName: name,
    RoleArn: ROLE,
    AlgorithmSpecification: { TrainingImage: IMAGE, TrainingInputMode: 'File', ContainerEntrypoint: ['sh', '-c', script] },
    OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/out` },
    ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 1 },
    StoppingCondition: { MaxRuntimeInSeconds: 600 },
  });

const ticks = (n: number, tag: string) => `for i in $(seq 1 ${n}); do echo "${tag} tick $i"; sleep 1; done`;

describe('training crash safety', () => {
  const names = { running: `reattach-${process.pid}`, ended: `ended-${process.pid}`, removed: `removed-${process.pid}` };
  let dataDir: string;
  let server: Server | undefined;
  before(async () => {
    await requireDocker();
    dataDir = (await crashDataDir('sagebox-recovery-', BUCKET)).dataDir;
  });
  after(async () => {
    if (server) await kill9(server);
    const docker = await requireDocker();
    for (const n of Object.values(names)) await removeLabelled(docker, { 'sagebox.resource': n }).catch(() => undefined);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** Log lines of a job, read from the database the server writes (WAL: readers do not block it). */
  const logLines = (name: string): string[] => {
    const db = new Database(path.join(dataDir, 'sagebox.db'), { readonly: true, fileMustExist: true });
    try {
      return (db
        .prepare(
          `SELECT e.message FROM log_events e JOIN log_streams s ON s.id = e.stream_id JOIN log_groups g ON g.id = s.group_id
           WHERE g.name = '/aws/sagemaker/TrainingJobs' AND substr(s.name, 1, ?) = ? ORDER BY e.timestamp, e.id`,
        )
        .pluck()
        .all(name.length + 1, `${name}/`) as string[]);
    } finally {
      db.close();
    }
  };
  const modelFiles = async (name: string): Promise<string[]> => {
    const into = fs.mkdtempSync(path.join(os.tmpdir(), 'sagebox-recovery-model-'));
    try {
      await extractTarGz(path.join(dataDir, 's3', BUCKET, 'out', name, 'output', 'model.tar.gz'), into);
      return fs.readdirSync(into).sort();
    } finally {
      fs.rmSync(into, { recursive: true, force: true });
    }
  };
  const settle = async (s: Server, name: string): Promise<DescribeTrainingJobCommandOutput> =>
    eventually(`${name} terminal`, async () => {
      const d = await s.sm.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
      return TERMINAL.has(d.TrainingJobStatus!) ? d : undefined;
    }, 120_000, 300);

  it('re-attaches a running job, finalises one that ended while down, fails one whose container vanished', async () => {
    const docker = await requireDocker();
    server = await up(dataDir);
    await server.sm.send(job(names.running, `${ticks(8, 'R')}; echo done > /opt/ml/model/final.txt; echo finished`));
    await server.sm.send(job(names.ended, `${ticks(3, 'E')}; echo ended > /opt/ml/model/ended.txt`));
    await server.sm.send(job(names.removed, 'sleep 120'));
    await eventually('all three running and R logging', async () => {
      const all = await Promise.all(Object.values(names).map((n) => server!.sm.send(new DescribeTrainingJobCommand({ TrainingJobName: n }))));
      return all.every((d) => d.SecondaryStatus === 'Training') && logLines(names.running).includes('R tick 2') ? true : undefined;
    }, 60_000, 200);

    await kill9(server);
    server = undefined;
    const containers = async (name: string) => docker.listContainers({ all: true, filters: { label: [`sagebox.resource=${name}`] } });
    const [removed] = await containers(names.removed);
    assert.ok(removed, 'the container of the third job exists');
    await docker.getContainer(removed.Id).remove({ force: true });
    await eventually('the second job\'s container exits while sagebox is down', async () => ((await containers(names.ended))[0]?.State === 'exited' ? true : undefined), 30_000, 250);
    const [running] = await containers(names.running);
    assert.equal(running?.State, 'running', 'the first job still runs while sagebox is down');
    await sleep(1000);

    server = await up(dataDir);
    const [dr, de, dx] = await Promise.all(Object.values(names).map((n) => settle(server!, n)));

    assert.equal(dr!.TrainingJobStatus, 'Completed', dr!.FailureReason);
    assert.deepEqual(await modelFiles(names.running), ['final.txt']);
    const rLines = logLines(names.running);
    assert.deepEqual(rLines.filter((l) => l.startsWith('R tick')), Array.from({ length: 8 }, (_, i) => `R tick ${i + 1}`), 'every line once');
    assert.deepEqual(rLines.filter((l) => l === 'finished'), ['finished']);

    assert.equal(de!.TrainingJobStatus, 'Completed', de!.FailureReason);
    assert.deepEqual(await modelFiles(names.ended), ['ended.txt']);
    assert.deepEqual(logLines(names.ended).filter((l) => l.startsWith('E tick')), ['E tick 1', 'E tick 2', 'E tick 3']);

    assert.equal(dx!.TrainingJobStatus, 'Failed');
    assert.match(dx!.FailureReason!, /^ClientError: The container of host algo-1 no longer exists/);
    assert.equal(dx!.SecondaryStatus, 'Failed');

    for (const n of Object.values(names)) assert.deepEqual(await containers(n), [], `${n}'s container was removed`);
  });
});
