/**
 * What the endpoint suites share: a runtime client, polling DescribeEndpoint
 * until a status, creating model + config + endpoint in one call, model
 * archives in the embedded store, and a clean-up that removes every
 * container the server labelled.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tar from 'tar';
import {
  CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, DeleteEndpointCommand, DescribeEndpointCommand,
  type DescribeEndpointCommandOutput, type ProductionVariant, type ContainerDefinition,
} from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { EndpointsFeature } from '../../src/jobs/endpoints/feature';
import { REGION, TEST_CREDENTIALS, type TestServer } from './server';
import { removeLabelled, requireDocker } from './docker';
import { eventually, sleep } from './wait';

export { eventually, sleep };

export const PROBE = 'sagebox-test/probe:latest';
export const FASTSERVE = 'sagebox-test/fastserve:latest';
export const SEED001 = 'sagebox-examples/seed001-inference:latest';

/** Endpoints start fast in tests: stops are short, health checks frequent. */
export const TEST_CONFIG = { stopGraceSeconds: { jobs: 3, endpoints: 2 } };

export function runtimeClient(s: TestServer): SageMakerRuntimeClient {
  return new SageMakerRuntimeClient({ endpoint: s.url, region: REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
}

export function endpointsFeature(s: TestServer): EndpointsFeature {
  const f = s.app.features.find((x) => x.name === 'endpoints');
  if (!f) throw new Error('the endpoints feature is not registered');
  return f as EndpointsFeature;
}

/** Polls DescribeEndpoint (every 100 ms) until the status is one of `statuses`; fails on timeout. */
export async function waitForStatus(s: TestServer, name: string, statuses: string[], timeoutMs = 60_000): Promise<DescribeEndpointCommandOutput> {
  const until = Date.now() + timeoutMs;
  let last: DescribeEndpointCommandOutput | undefined;
  while (Date.now() < until) {
    last = await s.sagemaker.send(new DescribeEndpointCommand({ EndpointName: name }));
    if (statuses.includes(last.EndpointStatus ?? '')) return last;
    await sleep(100);
  }
  throw new Error(`endpoint ${name} did not reach ${statuses.join('|')} within ${timeoutMs} ms (last: ${last?.EndpointStatus} ${last?.FailureReason ?? ''})`);
}


export interface EndpointSpec {
  name: string;
  container?: ContainerDefinition;
  variants?: Partial<ProductionVariant>[];
  networkIsolation?: boolean;
}

/** CreateModel `<name>-model`, CreateEndpointConfig `<name>-config` and CreateEndpoint `<name>`; does not wait. */
export async function createEndpoint(s: TestServer, spec: EndpointSpec): Promise<void> {
  const model = `${spec.name}-model`;
  const config = `${spec.name}-config`;
  await s.sagemaker.send(new CreateModelCommand({ ModelName: model, PrimaryContainer: spec.container ?? { Image: PROBE }, EnableNetworkIsolation: spec.networkIsolation }));
  const variants = (spec.variants ?? [{}]).map((v, i) => ({
    VariantName: i === 0 ? 'AllTraffic' : `Variant${i + 1}`,
    InstanceType: 'ml.m5.large' as const,
    InitialInstanceCount: 1,
    ...v,
    ModelName: v.ModelName ?? model,
  }));
  await s.sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: config, ProductionVariants: variants as ProductionVariant[] }));
  await s.sagemaker.send(new CreateEndpointCommand({ EndpointName: spec.name, EndpointConfigName: config }));
}

export async function deleteEndpointQuietly(s: TestServer, name: string): Promise<void> {
  await s.sagemaker.send(new DeleteEndpointCommand({ EndpointName: name })).catch(() => undefined);
}

/** Removes every container and network this server labelled (a safety net after a suite). */
export async function removeServerContainers(s: TestServer): Promise<void> {
  const docker = await requireDocker();
  await removeLabelled(docker, { 'sagebox.instance': s.app.config.instanceId });
}

/** Packs files ({ relative path: content }) into a .tar.gz and stores it as s3://bucket/key in the server's store. */
export async function putModelArchive(s: TestServer, bucket: string, key: string, files: Record<string, string>, opts: { rawEntries?: string[] } = {}): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sagebox-model-'));
  const root = path.join(dir, 'root');
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), content);
  }
  fs.mkdirSync(root, { recursive: true });
  for (const rel of opts.rawEntries ?? []) fs.writeFileSync(path.join(root, rel), 'written outside the root');
  const file = path.join(dir, 'model.tar.gz');
  // rawEntries are paths relative to root kept as written (e.g. '../evil.txt'), for traversal tests.
  await tar.c({ gzip: true, cwd: root, file, preservePaths: true, portable: true }, [...Object.keys(files), ...(opts.rawEntries ?? [])]);
  await s.app.ctx.objectStore.ensureBucket(bucket);
  await s.app.ctx.objectStore.putFile(bucket, key, file);
  fs.rmSync(dir, { recursive: true, force: true });
  return `s3://${bucket}/${key}`;
}
