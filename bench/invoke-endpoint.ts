/**
 * InvokeEndpoint through sagebox against calling the same container's
 * /invocations directly, in the same run, with the fast C test container
 * (sagebox-test/fastserve), small (100 B) and 1 MB payloads, at concurrency 1
 * and 32; nginx (Debian's, as a plain reverse proxy with upstream keep-alive)
 * is measured as a reference point. Prints throughput ratios and added
 * p50/p99 latency. Goals: throughput ratio >= 0.9 at concurrency 32; added
 * p50 <= 0.5 ms at concurrency 1.
 *
 * Requests to sagebox are SigV4-signed once per payload and the signed headers
 * reused (the server allows 15 minutes of clock skew), so the client's signing
 * cost is not counted as the server's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Pool } from 'undici';
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/protocol-http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, DescribeEndpointCommand, DeleteEndpointCommand } from '@aws-sdk/client-sagemaker';
import { credentials, exec, fmt, header, percentile, region, requireImage, role, sleep, startSagebox } from './lib';
import { envAllows } from './lib-data';

const IMAGE = 'sagebox-test/fastserve:latest';
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 4000);

interface Target {
  name: string;
  origin: string;
  path: string;
  headers: (body: Buffer) => Promise<Record<string, string>>;
}

async function load(t: Target, body: Buffer, concurrency: number): Promise<{ rps: number; p50: number; p99: number; errors: number }> {
  const pool = new Pool(t.origin, { connections: concurrency, pipelining: 1 });
  const headers = await t.headers(body);
  const lat: number[] = [];
  let errors = 0;
  // Warm-up.
  for (let i = 0; i < 50; i++) {
    const r = await pool.request({ method: 'POST', path: t.path, headers, body });
    await r.body.arrayBuffer();
  }
  const end = performance.now() + DURATION_MS;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        const r = await pool.request({ method: 'POST', path: t.path, headers, body });
        await r.body.arrayBuffer();
        if (r.statusCode !== 200) errors++;
        lat.push(performance.now() - t0);
      }
    }),
  );
  const secs = (performance.now() - started) / 1000;
  await pool.close();
  return { rps: lat.length / secs, p50: percentile(lat, 50), p99: percentile(lat, 99), errors };
}

async function startNginx(upstream: string): Promise<{ port: number; proc: ChildProcess; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-nginx-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  fs.writeFileSync(
    path.join(dir, 'nginx.conf'),
    `worker_processes 1; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; client_max_body_size 8m;
  upstream c { server ${upstream}; keepalive 64; }
  server { listen 127.0.0.1:${port}; location / { proxy_pass http://c; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_request_buffering off; proxy_buffering off; } } }\n`,
  );
  const proc = spawn('/usr/sbin/nginx', ['-c', path.join(dir, 'nginx.conf'), '-p', dir], { stdio: 'inherit' });
  await sleep(500);
  return { port, proc, dir };
}

async function main(): Promise<void> {
  await requireImage(IMAGE);
  if (!fs.existsSync('/usr/sbin/nginx')) throw new Error('nginx is missing (apt-get install -y nginx-light): it is the reference point');
  const sb = await startSagebox({ stopGraceSeconds: { jobs: 5, endpoints: 2 } });
  let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
  const ep = `bench-${Date.now()}`;
  try {
    await sb.sagemaker.send(new CreateModelCommand({ ModelName: ep, ExecutionRoleArn: role, PrimaryContainer: { Image: IMAGE } }));
    await sb.sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: ep, ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: ep, InitialInstanceCount: 1, InstanceType: 'ml.c5.xlarge' }] }));
    await sb.sagemaker.send(new CreateEndpointCommand({ EndpointName: ep, EndpointConfigName: ep }));
    for (;;) {
      const d = await sb.sagemaker.send(new DescribeEndpointCommand({ EndpointName: ep }));
      if (d.EndpointStatus === 'InService') break;
      if (d.EndpointStatus === 'Failed') throw new Error(`endpoint failed: ${d.FailureReason}`);
      await sleep(200);
    }
    const { stdout } = await exec('docker', ['ps', '-q', '--filter', `label=sagebox.resource=${ep}`]);
    const id = stdout.trim().split('\n')[0]!;
    const ip = (await exec('docker', ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', id])).stdout.trim();
    nginx = await startNginx(`${ip}:8080`);

    const url = new URL(sb.url);
    const signer = new SignatureV4({ credentials, region, service: 'sagemaker', sha256: Sha256, applyChecksum: false });
    const targets: Target[] = [
      { name: 'direct', origin: `http://${ip}:8080`, path: '/invocations', headers: async () => ({ 'content-type': 'application/octet-stream' }) },
      { name: 'nginx', origin: `http://127.0.0.1:${nginx.port}`, path: '/invocations', headers: async () => ({ 'content-type': 'application/octet-stream' }) },
      {
        name: 'sagebox',
        origin: sb.url,
        path: `/endpoints/${ep}/invocations`,
        headers: async (body) => {
          const req = new HttpRequest({ method: 'POST', hostname: url.hostname, port: Number(url.port), path: `/endpoints/${ep}/invocations`, headers: { host: url.host, 'content-type': 'application/octet-stream' }, body });
          const signed = await signer.sign(req);
          return signed.headers as Record<string, string>;
        },
      },
    ];
    header('InvokeEndpoint through sagebox vs direct /invocations (fastserve), nginx as reference');
    console.log(`duration per cell: ${DURATION_MS} ms`);
    console.log('| payload | conc | target | req/s | p50 ms | p99 ms | errors |');
    console.log('|---|---|---|---|---|---|---|');
    const summary: string[] = [];
    // BENCH_PAYLOADS=small|large and BENCH_CONCURRENCY=1|32 narrow the run (profiling).
    const payloads = ([['100 B', 100, 'small'], ['1 MB', 1024 * 1024, 'large']] as const).filter(([, , k]) => envAllows('BENCH_PAYLOADS', k));
    const concurrencies = [1, 32].filter((c) => envAllows('BENCH_CONCURRENCY', String(c)));
    for (const [label, size] of payloads) {
      const body = Buffer.alloc(size, 'a');
      for (const conc of concurrencies) {
        const r: Record<string, Awaited<ReturnType<typeof load>>> = {};
        for (const t of targets.filter((x) => envAllows('BENCH_TARGETS', x.name))) {
          r[t.name] = await load(t, body, conc);
          const x = r[t.name]!;
          console.log(`| ${label} | ${conc} | ${t.name} | ${fmt(x.rps, 0)} | ${fmt(x.p50, 3)} | ${fmt(x.p99, 3)} | ${x.errors} |`);
        }
        const d = r.direct;
        for (const via of ['sagebox', 'nginx']) {
          const v = r[via];
          if (!d || !v) continue;
          summary.push(`${label} c=${conc} ${via}: throughput ratio ${fmt(v.rps / d.rps)}, added p50 ${fmt(v.p50 - d.p50, 3)} ms, added p99 ${fmt(v.p99 - d.p99, 3)} ms`);
        }
      }
    }
    console.log('');
    for (const s of summary) console.log(s);
    console.log('goals: sagebox throughput ratio >= 0.9 at concurrency 32; added p50 <= 0.5 ms at concurrency 1');
  } finally {
    await sb.sagemaker.send(new DeleteEndpointCommand({ EndpointName: ep })).catch(() => undefined);
    await sleep(500);
    nginx?.proc.kill();
    if (nginx) fs.rmSync(nginx.dir, { recursive: true, force: true });
    await sb.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
