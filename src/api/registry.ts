/**
 * The operation registry of the AWS JSON 1.1 services sagebox serves
 * (SageMaker, CloudWatch Logs, ...). Feature modules register handlers; an
 * operation of the service's model that has no handler answers
 * NotImplementedException naming it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthScope } from './auth/sigv4';

export interface RequestContext {
  requestId: string;
  scope: AuthScope;
}

export type JsonHandler = (input: Record<string, unknown>, ctx: RequestContext) => Promise<unknown> | unknown;

/** A service that needs the raw request (rest-json runtime, S3's REST+XML, STS's query protocol). */
export interface RawService {
  /** When true the service verifies auth itself (S3 hashes streamed payloads); else the body is read and verified first. */
  selfAuth?: boolean;
  handle(req: FastifyRequest, reply: FastifyReply, ctx: RawContext): Promise<void>;
}
/**
 * A SageMaker Runtime route (POST /endpoints/<name>/<action>), served on
 * Node's own request and response: InvokeEndpoint's hot path does not go
 * through Fastify. The body is read and its signature verified before.
 */
export interface RuntimeRoute {
  /** `resource`: the raw (still percent-encoded) path segment naming the resource, e.g. the endpoint of /endpoints/<name>/invocations. */
  handle(req: IncomingMessage, res: ServerResponse, ctx: { requestId: string; body: Buffer; scope: AuthScope; resource: string }): Promise<void>;
}

export interface RawContext {
  requestId: string;
  /** Set when the body was read and verified before the call. */
  body?: Buffer;
  scope?: AuthScope;
}

export interface JsonService {
  /** The X-Amz-Target prefix, e.g. 'SageMaker' or 'Logs_20140328'. */
  targetPrefix: string;
  /** The model's name for validation ('sagemaker' | 'logs'); undefined = no model validation. */
  model?: 'sagemaker' | 'logs';
  /** Names every operation of the service (for the not-implemented answer). */
  knownOperations?: ReadonlySet<string>;
  handlers: Map<string, JsonHandler>;
}

export class Registry {
  /** Keyed by the SigV4 signing name. */
  readonly json = new Map<string, JsonService>();
  readonly raw = new Map<string, RawService>();
  /** Runtime routes under /endpoints/, keyed by the last path segment (invocations, ...). */
  readonly runtime = new Map<string, RuntimeRoute>();

  constructor() {
    // Always present, so an operation nobody registered answers NotImplementedException.
    this.jsonService('sagemaker', 'SageMaker', 'sagemaker');
    this.jsonService('logs', 'Logs_20140328', 'logs');
  }

  /** The same services, by X-Amz-Target prefix (the dispatcher's lookup). */
  private readonly targets = new Map<string, JsonService>();

  jsonService(signingName: string, targetPrefix: string, model?: 'sagemaker' | 'logs'): JsonService {
    let s = this.json.get(signingName);
    if (!s) {
      s = { targetPrefix, model, handlers: new Map() };
      this.json.set(signingName, s);
      this.targets.set(targetPrefix, s);
    }
    return s;
  }

  byTarget(prefix: string): JsonService | undefined {
    return this.targets.get(prefix);
  }

  /** Registers SageMaker control-plane operations: `sagemaker({ CreateTrainingJob: fn, ... })`. */
  sagemaker(handlers: Record<string, JsonHandler>): void {
    const s = this.jsonService('sagemaker', 'SageMaker', 'sagemaker');
    for (const [op, h] of Object.entries(handlers)) s.handlers.set(op, h);
  }

  logs(handlers: Record<string, JsonHandler>): void {
    const s = this.jsonService('logs', 'Logs_20140328', 'logs');
    for (const [op, h] of Object.entries(handlers)) s.handlers.set(op, h);
  }
}
