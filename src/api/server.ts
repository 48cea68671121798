/**
 * The wire layer: one port serves every AWS service sagebox speaks, routed the
 * way cloud emulators route: by the SigV4 credential scope's service name,
 * then by X-Amz-Target (JSON 1.1 services) or path (SageMaker Runtime).
 * Every request must be signed by a known key (src/api/auth/sigv4.ts).
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { readBody } from './body';
import { SigV4Verifier, peekScope, type AuthFailure, type AuthScope, type Credential } from './auth/sigv4';
import {
  AwsError, IncompleteSignature, InvalidParameterException, ValidationException, InvalidSignature, MissingAuthenticationToken, NotImplementedException,
  SerializationException, UnknownOperationException, UnrecognizedClient, UnsupportedMediaType,
} from './errors';
import type { Registry } from './registry';
import { hasConstraints, modelOperations, validateInput } from './validation/validator';
import { sendError, sendJson, sendRawError } from './wire';

export interface ServerOptions {
  registry: Registry;
  credentials: Credential[];
  maxRequestBytes: number;
  logger: Logger;
  now?: () => number;
  /** Extra unauthenticated GET routes (health, /metrics when public). */
  publicRoutes?: Map<string, (req: FastifyRequest, reply: FastifyReply) => Promise<void>>;
  /** Authenticated GET routes outside the AWS services (/metrics). */
  privateRoutes?: Map<string, (req: FastifyRequest, reply: FastifyReply) => Promise<void>>;
}

/** Keep-alive beyond clients' idle timeouts so pooled connections are not cut mid-request. */
const KEEP_ALIVE_MS = 65_000;

const JSON_TYPES = new Set(['application/x-amz-json-1.1', 'application/x-amz-json-1.0', 'application/json']);

/** Splits a raw URL into its path and decoded query members. */
export function splitUrl(url: string): { path: string; query: Record<string, string | string[]> } {
  const i = url.indexOf('?');
  const path = i < 0 ? url : url.slice(0, i);
  const query: Record<string, string | string[]> = {};
  if (i >= 0) {
    for (const [k, v] of new URLSearchParams(url.slice(i + 1))) {
      const prev = query[k];
      query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
  }
  return { path, query };
}

export function authError(f: AuthFailure, service?: string): AwsError {
  switch (f.reason) {
    case 'missing':
      return new MissingAuthenticationToken();
    case 'incomplete':
      return new IncompleteSignature(f.message);
    case 'unknown-key':
      return new UnrecognizedClient(service === 'sts' ? 'InvalidClientTokenId' : 'UnrecognizedClientException');
    case 'expired':
      return new InvalidSignature(f.message);
    case 'bad-signature':
      return new InvalidSignature();
    case 'forbidden':
      return new AwsError(
        'AccessDeniedException',
        `User: ${f.scope.accessKeyId} is not authorized to perform: ${f.scope.service}:* (this key may only call the services it is limited to)`,
        403,
      );
  }
}

/** Serves a request outside Fastify and returns true, or returns false to leave it to Fastify. */
export type Intercept = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

/**
 * A Fastify instance that leaves request bodies unread: signature checks need
 * the exact bytes, S3 streams them. Both listeners (this one and the
 * containers' store listener) are built on it. `intercept` sees every
 * request first (the InvokeEndpoint hot path).
 */
export function rawFastify(logger: Logger, bodyLimit?: number, intercept?: Intercept): FastifyInstance {
  // With our own server, Fastify's server options do not apply: the same values are set on it here.
  const serverFactory = (handler: http.RequestListener): http.Server => {
    const server = http.createServer((req, res) => {
      if (!intercept!(req, res)) handler(req, res);
    });
    server.keepAliveTimeout = KEEP_ALIVE_MS;
    server.requestTimeout = 0;
    return server;
  };
  const app = Fastify({
    ...(intercept ? { serverFactory } : {}),
    loggerInstance: logger as unknown as FastifyBaseLogger,
    // Per-request lines would sit on the InvokeEndpoint hot path; handlers log what matters.
    logController: new LogController({ disableRequestLogging: true }),
    ...(bodyLimit ? { bodyLimit } : {}),
    keepAliveTimeout: KEEP_ALIVE_MS,
    return503OnClosing: true,
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
  return app;
}

export function buildServer(opts: ServerOptions): FastifyInstance {
  const { registry, logger } = opts;
  const verifier = new SigV4Verifier(opts.credentials, opts.now);

  /** Reads the whole body and verifies the request's signature over it; throws the AWS auth error. */
  async function authenticated(req: http.IncomingMessage, path: string, query: Record<string, string | string[]>, service?: string): Promise<{ body: Buffer; scope: AuthScope }> {
    const body = await readBody(req, opts.maxRequestBytes);
    const auth = await verifier.verify({ method: req.method ?? 'GET', path, query, headers: req.headers, body });
    if (!auth.ok) throw authError(auth, service);
    return { body, scope: auth.scope };
  }

  /**
   * SageMaker Runtime (POST /endpoints/<name>/<action>, no X-Amz-Target) is
   * served on Node's request and response, without Fastify's request and
   * reply objects, routing and hooks: on InvokeEndpoint's hot path they cost
   * a fifth of the server's time per request. Same steps as below: read the
   * body, verify the signature, dispatch, errors in the rest-json shape.
   */
  const runtime: Intercept = (req, res) => {
    if (!req.url?.startsWith('/endpoints/') || req.headers['x-amz-target'] !== undefined) return false;
    void serveRuntime(req, res);
    return true;
  };

  async function serveRuntime(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const requestId = randomUUID();
    try {
      const { path, query } = splitUrl(req.url ?? '/');
      const { body, scope } = await authenticated(req, path, query);
      // /endpoints/<name>/<action>
      const [, , resource = '', action = ''] = path.split('/');
      const route = registry.runtime.get(action);
      if (!route) throw new NotImplementedException('SageMakerRuntime', action || path);
      await route.handle(req, res, { requestId, body, scope, resource });
    } catch (err) {
      if (res.headersSent) {
        logger.error({ err, requestId }, 'error after the response was sent');
        if (!res.writableEnded) res.destroy();
        return;
      }
      sendRawError(res, err, requestId, 'rest-json', logger);
    }
  }

  const app = rawFastify(logger, opts.maxRequestBytes, runtime);

  app.route({
    method: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'],
    url: '/*',
    handler: async (request, reply) => {
      const requestId = randomUUID();
      const { path, query } = splitUrl(request.raw.url ?? '/');
      const target = request.headers['x-amz-target'] as string | undefined;
      try {
        const scope = peekScope({ headers: request.headers, query });
        if (!scope && (request.method === 'GET' || request.method === 'HEAD')) {
          const pub = opts.publicRoutes?.get(path);
          if (pub) return await pub(request, reply);
        }
        const rawService = scope ? registry.raw.get(scope.service) : undefined;
        if (rawService?.selfAuth) return await rawService.handle(request, reply, { requestId });
        if (!scope && !target) {
          // Unsigned and not obviously ours: an S3 client without credentials, a browser...
          const s3 = registry.raw.get('s3');
          if (s3?.selfAuth) return await s3.handle(request, reply, { requestId });
        }

        const auth = await authenticated(request.raw, path, query, scope?.service);
        const body = auth.body;

        if (target) return await dispatchJson(request, reply, target, body, { requestId, scope: auth.scope });
        const priv = opts.privateRoutes?.get(path);
        if (priv && request.method === 'GET') return await priv(request, reply);
        const raw = registry.raw.get(auth.scope.service);
        if (raw) return await raw.handle(request, reply, { requestId, body, scope: auth.scope });
        throw new UnknownOperationException(`No service of sagebox answers ${request.method} ${path} for signing name '${auth.scope.service}'.`);
      } catch (err) {
        if (reply.sent) {
          request.log.error({ err, requestId }, 'error after the response was sent');
          return reply;
        }
        // JSON-protocol errors: /endpoints/ (the runtime's rest-json) never gets here, the runtime intercept above serves it.
        return sendError(reply, err, requestId, 'json', request.log);
      }
    },
  });

  async function dispatchJson(request: FastifyRequest, reply: FastifyReply, target: string, body: Buffer, ctx: { requestId: string; scope: NonNullable<ReturnType<typeof peekScope>> }): Promise<FastifyReply> {
    const dot = target.indexOf('.');
    const prefix = dot < 0 ? target : target.slice(0, dot);
    const op = dot < 0 ? '' : target.slice(dot + 1);
    const service = registry.byTarget(prefix);
    if (!service) throw new UnknownOperationException(`Unknown service target '${prefix}'.`);
    const ctype = String(request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!JSON_TYPES.has(ctype)) throw new UnsupportedMediaType(`Unsupported Content-Type '${ctype || '(none)'}': use application/x-amz-json-1.1.`);
    let input: Record<string, unknown>;
    try {
      const text = body.toString('utf8');
      input = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      throw new SerializationException('Request body is not valid JSON.');
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new SerializationException('Request body must be a JSON object.');
    const handler = service.handlers.get(op);
    if (!handler) {
      const known = service.model ? modelOperations(service.model).has(op) : false;
      if (known) throw new NotImplementedException(prefix, op);
      throw new UnknownOperationException(`Operation '${op}' is not an operation of ${prefix}.`);
    }
    if (service.model && hasConstraints(service.model, op)) {
      try {
        validateInput(service.model, op, input);
      } catch (err) {
        // CloudWatch Logs models constraint violations as InvalidParameterException (same wording).
        if (service.model === 'logs' && err instanceof ValidationException) throw new InvalidParameterException(err.message);
        throw err;
      }
    }
    const started = process.hrtime.bigint();
    const result = await handler(input, ctx);
    request.log.debug({ op, requestId: ctx.requestId, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'served');
    return sendJson(reply, result, ctx.requestId);
  }

  return app;
}
