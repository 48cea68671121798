/**
 * `sagebox logs <job-or-endpoint>`: prints a training, processing or
 * transform job's or an endpoint's container logs from a running sagebox,
 * through the same CloudWatch Logs and SageMaker APIs any client uses. The
 * streams are merged by timestamp, each line prefixed with its host
 * (`algo-1 | ...`). With --follow it keeps polling until the job reaches a
 * terminal status (endpoints: until interrupted).
 */
import { CloudWatchLogsClient, DescribeLogGroupsCommand, DescribeLogStreamsCommand, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeEndpointCommand, DescribeProcessingJobCommand, DescribeTrainingJobCommand, DescribeTransformJobCommand, SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { Command, Option } from 'commander';
import { DEFAULT_PORT } from '../config/config';
import { hostLabel, LinePrinter, parseSince, UsageError } from './log-printer';

export type ResourceKind = 'training' | 'processing' | 'transform' | 'endpoint';
export const RESOURCE_KINDS: readonly ResourceKind[] = ['training', 'processing', 'transform', 'endpoint'];
const JOB_GROUPS: Record<Exclude<ResourceKind, 'endpoint'>, string> = {
  training: '/aws/sagemaker/TrainingJobs',
  processing: '/aws/sagemaker/ProcessingJobs',
  transform: '/aws/sagemaker/TransformJobs',
};
const TERMINAL = new Set(['Completed', 'Failed', 'Stopped']);

export interface LogsOptions {
  follow?: boolean;
  since?: string;
  endpointUrl?: string;
  type?: ResourceKind;
  /** Poll interval with --follow, ms. */
  interval?: number;
}
export interface LogsIo {
  out: { write(s: string): unknown; isTTY?: boolean };
  err: { write(s: string): unknown };
  env: NodeJS.ProcessEnv;
  now?: () => number;
  /** Ends --follow (Ctrl-C). */
  signal?: AbortSignal;
}

interface Target {
  kind: ResourceKind;
  group: string;
  /** Stream name prefix of the resource in its group ('' for an endpoint's own group). */
  prefix: string;
  /** The status, for jobs; undefined when only the logs were found. */
  status?: () => Promise<{ status: string; reason?: string }>;
}

function clients(opts: LogsOptions, env: NodeJS.ProcessEnv): { logs: CloudWatchLogsClient; sm: SageMakerClient; endpoint: string } {
  const endpoint = opts.endpointUrl ?? env.AWS_ENDPOINT_URL ?? `http://127.0.0.1:${DEFAULT_PORT}`;
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const credentials =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN }
      : { accessKeyId: 'test', secretAccessKey: 'test' };
  const common = { endpoint, region, credentials, maxAttempts: 2 };
  return { logs: new CloudWatchLogsClient(common), sm: new SageMakerClient(common), endpoint };
}

/** True for the answers that mean "no such resource of this kind" (or "this kind is not built"). */
function isAbsent(err: unknown): boolean {
  const name = (err as { name?: string }).name ?? '';
  return ['ValidationException', 'ResourceNotFound', 'ResourceNotFoundException', 'NotImplementedException', 'UnknownOperationException'].includes(name);
}

async function describeAs(sm: SageMakerClient, kind: ResourceKind, name: string): Promise<Target | undefined> {
  const job = async (get: () => Promise<{ status?: string; reason?: string }>, group: string): Promise<Target | undefined> => {
    try {
      await get();
    } catch (err) {
      if (isAbsent(err)) return undefined;
      throw err;
    }
    return { kind, group, prefix: `${name}/`, status: async () => {
      const r = await get();
      return { status: r.status ?? 'Unknown', reason: r.reason };
    } };
  };
  switch (kind) {
    case 'training':
      return job(async () => {
        const r = await sm.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
        return { status: r.TrainingJobStatus, reason: r.FailureReason };
      }, JOB_GROUPS.training);
    case 'processing':
      return job(async () => {
        const r = await sm.send(new DescribeProcessingJobCommand({ ProcessingJobName: name }));
        return { status: r.ProcessingJobStatus, reason: r.FailureReason };
      }, JOB_GROUPS.processing);
    case 'transform':
      return job(async () => {
        const r = await sm.send(new DescribeTransformJobCommand({ TransformJobName: name }));
        return { status: r.TransformJobStatus, reason: r.FailureReason };
      }, JOB_GROUPS.transform);
    case 'endpoint':
      try {
        await sm.send(new DescribeEndpointCommand({ EndpointName: name }));
      } catch (err) {
        if (isAbsent(err)) return undefined;
        throw err;
      }
      return { kind, group: `/aws/sagemaker/Endpoints/${name}`, prefix: '' };
  }
}

/** Finds the resource through the SageMaker API, else by its logs alone. */
async function findTarget(c: { logs: CloudWatchLogsClient; sm: SageMakerClient }, name: string, only?: ResourceKind): Promise<Target | undefined> {
  const kinds = only ? [only] : RESOURCE_KINDS;
  for (const kind of kinds) {
    const t = await describeAs(c.sm, kind, name);
    if (t) return t;
  }
  for (const kind of kinds) {
    if (kind === 'endpoint') {
      const group = `/aws/sagemaker/Endpoints/${name}`;
      const r = await c.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: group }));
      if (r.logGroups?.some((g) => g.logGroupName === group)) return { kind, group, prefix: '' };
    } else {
      try {
        const r = await c.logs.send(new DescribeLogStreamsCommand({ logGroupName: JOB_GROUPS[kind], logStreamNamePrefix: `${name}/`, limit: 1 }));
        if (r.logStreams?.length) return { kind, group: JOB_GROUPS[kind], prefix: `${name}/` };
      } catch (err) {
        if (!isAbsent(err)) throw err;
      }
    }
  }
  return undefined;
}

/**
 * Reads what is new in every stream of the target: each stream is paged
 * forward with its own GetLogEvents token (as the SageMaker Python SDK does),
 * so late lines are never skipped; one pass's lines are merged by timestamp.
 */
class StreamReader {
  private readonly tokens = new Map<string, string | undefined>();
  constructor(private readonly logs: CloudWatchLogsClient, private readonly target: Target, private readonly startTime?: number) {}

  private async streamNames(): Promise<string[]> {
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      let r;
      try {
        r = await this.logs.send(new DescribeLogStreamsCommand({ logGroupName: this.target.group, logStreamNamePrefix: this.target.prefix || undefined, nextToken }));
      } catch (err) {
        if ((err as { name?: string }).name === 'ResourceNotFoundException') return names; // no output yet
        throw err;
      }
      names.push(...(r.logStreams ?? []).map((s) => s.logStreamName!));
      nextToken = r.nextToken;
    } while (nextToken);
    return names;
  }

  async pass(): Promise<{ stream: string; timestamp: number; message: string }[]> {
    const out: { stream: string; timestamp: number; message: string; order: number }[] = [];
    let order = 0;
    for (const stream of await this.streamNames()) {
      let token = this.tokens.get(stream);
      for (;;) {
        let r;
        try {
          r = await this.logs.send(new GetLogEventsCommand({ logGroupName: this.target.group, logStreamName: stream, startFromHead: true, startTime: this.startTime, nextToken: token }));
        } catch (err) {
          if ((err as { name?: string }).name === 'ResourceNotFoundException') break; // deleted meanwhile
          throw err;
        }
        if (r.nextForwardToken) token = r.nextForwardToken;
        if (!r.events?.length) break;
        for (const e of r.events) out.push({ stream, timestamp: e.timestamp ?? 0, message: e.message ?? '', order: order++ });
      }
      this.tokens.set(stream, token);
    }
    return out.sort((a, b) => a.timestamp - b.timestamp || a.order - b.order);
  }
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Runs the command; resolves with the exit code. */
export async function runLogs(name: string, opts: LogsOptions, io: LogsIo): Promise<number> {
  const now = io.now ?? Date.now;
  const c = clients(opts, io.env);
  try {
    const startTime = opts.since !== undefined ? parseSince(opts.since, now()) : undefined;
    const target = await findTarget(c, name, opts.type);
    if (!target) {
      io.err.write(`sagebox logs: no ${opts.type ?? 'training, processing or transform job or endpoint'} named '${name}' at ${c.endpoint}\n`);
      return 1;
    }
    const printer = new LinePrinter(io.out, Boolean(io.out.isTTY) && !io.env.NO_COLOR);
    const reader = new StreamReader(c.logs, target, startTime);
    for (;;) {
      // Status first, then read: a terminal status means this read is the last one.
      const state = opts.follow && target.status ? await target.status() : undefined;
      for (const e of await reader.pass()) printer.line(hostLabel(e.stream, target.prefix), e.message);
      if (!opts.follow || io.signal?.aborted) return 0;
      if (state && TERMINAL.has(state.status)) {
        io.err.write(`${target.kind} job ${name}: ${state.status}${state.reason ? ` (${state.reason})` : ''}\n`);
        return state.status === 'Failed' ? 1 : 0;
      }
      await sleep(opts.interval ?? 2000, io.signal);
      if (io.signal?.aborted) return 0;
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err.write(`sagebox logs: ${(err as Error).message}\n`);
      return 2;
    }
    const code = (err as { code?: string }).code;
    if (code === 'ECONNREFUSED') {
      io.err.write(`sagebox logs: cannot reach sagebox at ${c.endpoint} (is \`sagebox up\` running? see --endpoint-url)\n`);
      return 1;
    }
    io.err.write(`sagebox logs: ${(err as Error).name}: ${(err as Error).message}\n`);
    return 1;
  } finally {
    c.logs.destroy();
    c.sm.destroy();
  }
}

export function registerLogsCommand(program: Command): void {
  program
    .command('logs')
    .description("Print a job's or an endpoint's container logs from a running sagebox, merged by time with a host prefix.")
    .argument('<name>', 'training, processing or transform job name, or endpoint name')
    .option('-f, --follow', 'keep printing new lines until the job ends (endpoints: until Ctrl-C)')
    .option('--since <when>', 'only lines from this time on: a duration back from now (30s, 10m, 2h, 1d, 1w) or an ISO 8601 time')
    .option('--endpoint-url <url>', `sagebox's address (default $AWS_ENDPOINT_URL, else http://127.0.0.1:${DEFAULT_PORT})`)
    .addOption(new Option('--type <kind>', 'which kind of resource the name is, when several share it').choices([...RESOURCE_KINDS]))
    .addOption(new Option('--interval <ms>', 'poll interval with --follow').default(2000).argParser((v) => Number(v)))
    .action(async (name: string, o: LogsOptions) => {
      // The SDK's advice to move to Node 22 is not for the person reading their job's logs.
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
      const abort = new AbortController();
      process.once('SIGINT', () => abort.abort());
      process.stdout.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'EPIPE') process.exit(0); // the reader went away (| head)
      });
      process.exitCode = await runLogs(name, o, { out: process.stdout, err: process.stderr, env: process.env, signal: abort.signal });
    });
}
