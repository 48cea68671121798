/**
 * DockerRuntime against the real engine, with only the base image. Every
 * container and network carries this suite's own sagebox.instance label and
 * is removed in after().
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type Dockerode from 'dockerode';
import type { ContainerSpec, LogLine } from '../src/runtime/container-runtime';
import { DockerRuntime } from '../src/runtime/docker/docker-runtime';
import { ContainerNotFoundError, ImageNotFoundError } from '../src/runtime/errors';
import { containerLabels, LABELS, ownerLabels } from '../src/runtime/labels';
import { baseImage, collect, removeLabelled, requireBaseImage, requireDocker, testInstanceId } from './helpers/docker';

const instance = testInstanceId('rt');
const owner = { instance, kind: 'training-job' as const, resource: 'runtime-suite' };
const runtime = new DockerRuntime({ pullIdleTimeoutMs: 5000 });
let docker: Dockerode;
let seq = 0;

function spec(overrides: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    name: `sagebox-${instance}-${++seq}`,
    image: baseImage,
    env: {},
    labels: containerLabels({ ...owner, host: 'algo-1', attempt: 1 }),
    mounts: [],
    ...overrides,
  };
}

/** Creates, starts, follows the logs to the end and waits: what a job does. */
async function run(overrides: Partial<ContainerSpec>): Promise<{ id: string; exitCode: number; lines: LogLine[] }> {
  const id = await runtime.create(spec(overrides));
  await runtime.start(id);
  const [lines, { exitCode }] = await Promise.all([collect(runtime.logs(id, { follow: true })), runtime.wait(id)]);
  return { id, exitCode, lines };
}

const stdout = (lines: LogLine[]): string[] => lines.filter((l) => l.stream === 'stdout').map((l) => l.message);

before(async () => {
  docker = await requireDocker();
  await requireBaseImage(docker);
});

after(async () => {
  if (docker) await removeLabelled(docker, { [LABELS.instance]: instance });
});

describe('DockerRuntime: running a container', () => {
  it('streams stdout and stderr with ascending timestamps and returns the exit code', async () => {
    const { exitCode, lines } = await run({ cmd: ['sh', '-c', 'echo out-1; echo err-1 >&2; echo out-2; exit 3'] });
    assert.equal(exitCode, 3);
    assert.deepEqual(stdout(lines), ['out-1', 'out-2']);
    assert.deepEqual(
      lines.filter((l) => l.stream === 'stderr').map((l) => l.message),
      ['err-1'],
    );
    for (const [i, line] of lines.entries()) {
      assert.match(line.rawTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
      assert.ok(Math.abs(line.timestamp - Date.now()) < 60_000);
      if (i > 0) assert.ok(line.rawTimestamp >= lines[i - 1]!.rawTimestamp, 'timestamps ascend');
    }
  });

  it('measures create, start, wait and remove', async (t) => {
    const times: Record<'create' | 'start' | 'wait' | 'remove', number[]> = { create: [], start: [], wait: [], remove: [] };
    const timed = async <T>(key: keyof typeof times, fn: () => Promise<T>): Promise<T> => {
      const began = performance.now();
      const result = await fn();
      times[key].push(performance.now() - began);
      return result;
    };
    for (let i = 0; i < 5; i++) {
      const id = await timed('create', () => runtime.create(spec({ cmd: ['true'] })));
      await timed('start', () => runtime.start(id));
      assert.deepEqual(await timed('wait', () => runtime.wait(id)), { exitCode: 0 });
      await timed('remove', () => runtime.remove(id));
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    t.diagnostic(Object.entries(times).map(([k, xs]) => `${k} median ${median(xs).toFixed(1)} ms`).join(', '));
  });

  it('waits before start and after exit', async () => {
    const id = await runtime.create(spec({ cmd: ['sh', '-c', 'sleep 0.3; exit 7'] }));
    const waiting = runtime.wait(id);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await runtime.start(id);
    assert.deepEqual(await waiting, { exitCode: 7 });
    assert.deepEqual(await runtime.wait(id), { exitCode: 7 });
    const state = await runtime.inspect(id);
    assert.equal(state?.status, 'exited');
    assert.equal(state?.exitCode, 7);
    assert.ok(state?.startedAt && state.finishedAt && state.finishedAt >= state.startedAt);
    await runtime.remove(id);
    assert.equal(await runtime.inspect(id), undefined);
    await runtime.remove(id); // a second remove is a no-op
    await assert.rejects(runtime.wait(id), ContainerNotFoundError);
    await assert.rejects(runtime.start(id), ContainerNotFoundError);
  });

  it('reads logs after exit, and only lines since a time', async () => {
    const { id, lines } = await run({ cmd: ['sh', '-c', 'echo first; sleep 1.1; echo second'] });
    const again = await collect(runtime.logs(id, { follow: false }));
    assert.deepEqual(again, lines);
    const second = lines.find((l) => l.message === 'second')!;
    const since = await collect(runtime.logs(id, { follow: false, sinceMs: second.timestamp }));
    assert.deepEqual(
      since.map((l) => l.message),
      ['second'],
    );
  });
});

describe('DockerRuntime: container options', { concurrency: true }, () => {
  const derived = `sagebox-test/entrypoint:${instance}`;

  before(async () => {
    // The base image has neither ENTRYPOINT nor a useful CMD: derive one that has both.
    const c = await docker.createContainer({ Image: baseImage, Cmd: ['true'], Labels: ownerLabels(owner) });
    await c.commit({ repo: 'sagebox-test/entrypoint', tag: instance, changes: ['ENTRYPOINT ["echo", "image-ep"]', 'CMD ["image-cmd"]'] });
    await c.remove();
  });

  after(async () => {
    await docker.getImage(derived).remove({ force: true }).catch(() => undefined);
  });

  it('follows Docker --entrypoint / args semantics', async () => {
    const cases: Array<[Partial<ContainerSpec>, string]> = [
      [{}, 'image-ep image-cmd'],
      [{ entrypoint: ['echo', 'my-ep'] }, 'my-ep'],
      [{ cmd: ['my-cmd'] }, 'image-ep my-cmd'],
      [{ entrypoint: ['echo', 'my-ep'], cmd: ['my-cmd'] }, 'my-ep my-cmd'],
      [{ entrypoint: [], cmd: ['echo', 'no-ep'] }, 'no-ep'],
    ];
    const results = await Promise.all(cases.map(([overrides]) => run({ image: derived, ...overrides })));
    for (const [i, [overrides, expected]] of cases.entries()) {
      assert.equal(results[i]!.exitCode, 0);
      assert.deepEqual(stdout(results[i]!.lines), [expected], JSON.stringify(overrides));
    }
  });

  it('sets env, labels, hostname, extra hosts, cpus and memory', async () => {
    const { id, exitCode, lines } = await run({
      cmd: ['sh', '-c', 'echo "$FOO|$BAR"; hostname; getent hosts host.sagebox.internal'],
      env: { FOO: 'a b', BAR: 'x=y' },
      hostname: 'algo-1',
      extraHosts: { 'host.sagebox.internal': '10.9.8.7' },
      cpus: 0.5,
      memoryBytes: 256 * 1024 * 1024,
    });
    assert.equal(exitCode, 0);
    const [env, hostname, host] = stdout(lines);
    assert.equal(env, 'a b|x=y');
    assert.equal(hostname, 'algo-1');
    assert.match(host ?? '', /^10\.9\.8\.7\s+host\.sagebox\.internal$/);
    const state = await runtime.inspect(id);
    assert.equal(state?.labels[LABELS.host], 'algo-1');
    assert.equal(state?.labels[LABELS.resource], 'runtime-suite');
    const raw = await docker.getContainer(id).inspect();
    assert.equal(raw.HostConfig.NanoCpus, 500_000_000);
    assert.equal(raw.HostConfig.Memory, 256 * 1024 * 1024);
  });

  it('bind-mounts read-only and read-write directories', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sagebox-rt-'));
    try {
      await writeFile(join(dir, 'in.txt'), 'input data');
      const out = await mkdtemp(join(dir, 'out-'));
      const { exitCode, lines } = await run({
        cmd: ['sh', '-c', 'cat /opt/ml/input/in.txt; echo; touch /opt/ml/input/x 2>/dev/null || echo read-only; echo written > /opt/ml/model/m.txt'],
        mounts: [
          { source: dir, target: '/opt/ml/input', readOnly: true },
          { source: out, target: '/opt/ml/model' },
        ],
      });
      assert.equal(exitCode, 0);
      assert.deepEqual(stdout(lines), ['input data', 'read-only']);
      assert.equal(await readFile(join(out, 'm.txt'), 'utf8'), 'written\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('publishes exposePort on 127.0.0.1 only', async () => {
    const id = await runtime.create(spec({ cmd: ['sleep', '30'], exposePort: 8080 }));
    await runtime.start(id);
    const state = await runtime.inspect(id);
    assert.ok(state?.hostPort && state.hostPort > 0, 'hostPort');
    assert.match(state?.ip ?? '', /^\d+\.\d+\.\d+\.\d+$/);
    const raw = await docker.getContainer(id).inspect();
    assert.equal(raw.NetworkSettings.Ports['8080/tcp']?.[0]?.HostIp, '127.0.0.1');
    await runtime.remove(id);
  });
});

describe('DockerRuntime: networks', { concurrency: true }, () => {
  it('lets containers on a job network resolve each other by alias', async () => {
    const network = `sagebox-${instance}-net`;
    const networkId = await runtime.createNetwork(network, ownerLabels(owner));
    assert.equal(await runtime.createNetwork(network, ownerLabels(owner)), networkId, 'same name and labels: reused');
    const peer = await runtime.create(spec({ cmd: ['sleep', '60'], network, networkAliases: ['algo-2'], hostname: 'algo-2' }));
    await runtime.start(peer);
    const peerIp = (await runtime.inspect(peer))?.ip;
    assert.ok(peerIp);
    const { exitCode, lines } = await run({
      cmd: ['sh', '-c', 'getent hosts algo-2; getent hosts algo-1'],
      network,
      networkAliases: ['algo-1'],
      hostname: 'algo-1',
    });
    assert.equal(exitCode, 0);
    const [algo2, algo1] = stdout(lines);
    assert.match(algo2 ?? '', new RegExp(`^${peerIp.replace(/\./g, '\\.')}\\s+algo-2`));
    assert.match(algo1 ?? '', /\salgo-1/);
    await runtime.remove(peer);
  });

  it("has no interface but lo on network 'none'", async () => {
    const { exitCode, lines } = await run({ cmd: ['sh', '-c', 'ls /sys/class/net'], network: 'none', exposePort: 8080 });
    assert.equal(exitCode, 0);
    assert.deepEqual(stdout(lines), ['lo']);
  });

  it('creates internal networks and ignores removing a missing one', async () => {
    const network = `sagebox-${instance}-internal`;
    await runtime.createNetwork(network, ownerLabels(owner), { internal: true });
    assert.equal((await docker.getNetwork(network).inspect()).Internal, true);
    await runtime.removeNetwork(network);
    await runtime.removeNetwork(network);
  });
});

describe('DockerRuntime: stopping', { concurrency: true }, () => {
  it('sends SIGKILL after the grace period to a container that ignores SIGTERM', async () => {
    const id = await runtime.create(spec({ entrypoint: ['sh', '-c', 'trap "" TERM; sleep 1000'] }));
    await runtime.start(id);
    const began = Date.now();
    await runtime.stop(id, 2);
    const elapsed = Date.now() - began;
    assert.ok(elapsed >= 2000, `stop took ${elapsed} ms`);
    assert.deepEqual(await runtime.wait(id), { exitCode: 137 });
  });

  it('stops a container that exits on SIGTERM quickly', async () => {
    const id = await runtime.create(spec({ entrypoint: ['sh', '-c', 'trap "exit 0" TERM; sleep 1000 & wait $!'] }));
    await runtime.start(id);
    await new Promise((resolve) => setTimeout(resolve, 300)); // let the trap be installed
    const began = Date.now();
    await runtime.stop(id, 10);
    const elapsed = Date.now() - began;
    assert.ok(elapsed < 3000, `stop took ${elapsed} ms`);
    assert.deepEqual(await runtime.wait(id), { exitCode: 0 });
    await runtime.stop(id, 10); // stopping a stopped container is a no-op
  });

  it('kills with a signal', async () => {
    const id = await runtime.create(spec({ cmd: ['sleep', '1000'] }));
    await runtime.start(id);
    await runtime.kill(id);
    assert.deepEqual(await runtime.wait(id), { exitCode: 137 });
    await runtime.kill(id); // not running: a no-op
  });
});

describe('DockerRuntime: orphans and images', () => {
  it('reaps what no owner keeps and leaves the rest', async () => {
    const reaperInstance = testInstanceId('reap');
    try {
      const orphanLabels = containerLabels({ instance: reaperInstance, kind: 'training-job', resource: 'gone-job', host: 'algo-1' });
      const keptLabels = containerLabels({ instance: reaperInstance, kind: 'endpoint', resource: 'live-endpoint', host: 'algo-1' });
      const orphan = await runtime.create(spec({ cmd: ['sleep', '60'], labels: orphanLabels }));
      await runtime.start(orphan);
      const kept = await runtime.create(spec({ cmd: ['sleep', '60'], labels: keptLabels }));
      const network = await runtime.createNetwork(`sagebox-${reaperInstance}-gone`, ownerLabels({ instance: reaperInstance, kind: 'training-job', resource: 'gone-job' }));
      const other = await runtime.create(spec({ cmd: ['true'] })); // another instance's: never touched

      const reaped = await runtime.reapOrphans(reaperInstance, (labels) => labels[LABELS.resource] === 'live-endpoint');
      assert.deepEqual(reaped, { containers: [orphan], networks: [network] });
      assert.equal(await runtime.inspect(orphan), undefined);
      assert.ok(await runtime.inspect(kept));
      assert.ok(await runtime.inspect(other));
      assert.deepEqual(
        (await runtime.listByLabels({ [LABELS.instance]: reaperInstance })).map((s) => s.id),
        [kept],
      );
    } finally {
      await removeLabelled(docker, { [LABELS.instance]: reaperInstance });
    }
  });

  it('returns the id of a local image', async () => {
    const image = await runtime.ensureImage(baseImage);
    assert.match(image.id, /^sha256:[0-9a-f]{64}$/);
  });

  it('fails quickly with ImageNotFoundError when an image is neither local nor pullable', async () => {
    const began = Date.now();
    await assert.rejects(runtime.ensureImage('sagebox-test/no-such-image:never'), (err: unknown) => {
      assert.ok(err instanceof ImageNotFoundError);
      assert.match(err.message, /^Requested image sagebox-test\/no-such-image:never not found/);
      return true;
    });
    assert.ok(Date.now() - began < 10_000);
  });
  it('gives up a pull that makes no progress', async (t) => {
    // A "registry" that accepts connections and never answers.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      for (const socket of sockets) socket.destroy();
      silent.close();
    });
    const { port } = silent.address() as AddressInfo;
    const impatient = new DockerRuntime({ pullIdleTimeoutMs: 1000 });
    const began = Date.now();
    await assert.rejects(impatient.ensureImage(`127.0.0.1:${port}/sagebox-test/silent:1`), (err: unknown) => {
      assert.ok(err instanceof ImageNotFoundError);
      assert.match(err.message, /no progress from the registry for 1 s/);
      return true;
    });
    assert.ok(Date.now() - began < 5000, `took ${Date.now() - began} ms`);
  });
});

describe('DockerRuntime: log capture', () => {
  it('receives every line of a chatty container, in order', async () => {
    const count = 200_000;
    const id = await runtime.create(spec({ cmd: ['seq', '1', String(count)] }));
    const reading = collect(runtime.logs(id, { follow: true })); // before start: waits for it
    await runtime.start(id);
    const [lines, { exitCode }] = await Promise.all([reading, runtime.wait(id)]);
    assert.equal(exitCode, 0);
    assert.equal(lines.length, count);
    for (let i = 0; i < count; i++) {
      if (lines[i]!.message !== String(i + 1)) assert.fail(`line ${i}: ${lines[i]!.message}`);
    }
  });

  it('ends a follow quietly when its signal aborts', async () => {
    const id = await runtime.create(spec({ cmd: ['sh', '-c', 'echo started; sleep 1000'] }));
    const waiting = new AbortController();
    const beforeStart = collect(runtime.logs(id, { follow: true, signal: waiting.signal }));
    waiting.abort(); // still 'created': ends without reading
    assert.deepEqual(await beforeStart, []);
    await runtime.start(id);
    const controller = new AbortController();
    const lines: string[] = [];
    const began = Date.now();
    for await (const line of runtime.logs(id, { follow: true, signal: controller.signal })) {
      lines.push(line.message);
      setTimeout(() => controller.abort(), 200);
    }
    assert.deepEqual(lines, ['started']);
    assert.ok(Date.now() - began < 5000);
    assert.equal((await runtime.inspect(id))?.running, true);
    await runtime.remove(id);
  });

  it('keeps a 100 KB line, CRLF, multi-byte text and a last line without newline intact', async () => {
    const script = [
      'head -c 102400 /dev/zero | tr "\\0" x; echo',
      'printf "crlf\\r\\n"',
      'echo to-stderr >&2',
      'yes é | head -n 5000 | tr -d "\\n"; echo',
      'printf no-newline',
    ].join('; ');
    const { exitCode, lines } = await run({ cmd: ['bash', '-c', script] });
    assert.equal(exitCode, 0);
    // The engine copies stdout and stderr separately: only the order within a stream is kept.
    const out = stdout(lines);
    assert.deepEqual(
      out.map((m) => m.length),
      [102_400, 4, 5000, 10],
    );
    assert.ok(out[0] === 'x'.repeat(102_400), '100 KB line intact');
    assert.ok(out[2] === 'é'.repeat(5000), 'multi-byte line intact');
    assert.deepEqual([out[1], out[3]], ['crlf', 'no-newline']);
    assert.deepEqual(
      lines.filter((l) => l.stream === 'stderr').map((l) => l.message),
      ['to-stderr'],
    );
  });

  it('keeps cut lines apart and multi-byte characters whole with the local log driver', async () => {
    // json-file replaces a character cut at a 16 KiB boundary with U+FFFD when it
    // stores the piece; `local` keeps bytes but loses the newline after a cut line.
    const c = await docker.createContainer({
      name: `sagebox-${instance}-${++seq}`,
      Image: baseImage,
      Cmd: ['bash', '-c', 'printf a; yes é | head -n 60000 | tr -d "\\n"; echo; echo next; printf last'],
      Labels: containerLabels(owner),
      HostConfig: { LogConfig: { Type: 'local', Config: {} } },
    });
    await runtime.start(c.id);
    const [lines] = await Promise.all([collect(runtime.logs(c.id, { follow: true })), runtime.wait(c.id)]);
    const out = stdout(lines);
    assert.deepEqual(
      out.map((m) => m.length),
      [60_001, 4, 4],
    );
    assert.ok(out[0] === `a${'é'.repeat(60_000)}`, 'multi-byte characters across 16 KiB cuts intact');
    assert.deepEqual(out.slice(1), ['next', 'last']);
  });
});
