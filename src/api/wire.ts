/**
 * The one place where errors become HTTP responses. Every AWS JSON-protocol
 * response carries x-amzn-RequestId; errors carry x-amzn-ErrorType and a body
 * {"__type": code, "message": text}. rest-json services (SageMaker Runtime)
 * spell the member `Message`, as their models do. Unexpected errors are logged
 * with their stack and answered 500 InternalFailure without it.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import { AwsError, InternalFailure } from './errors';

export type Protocol = 'json' | 'rest-json';

export function toAwsError(err: unknown, log?: { error(obj: unknown, msg: string): void }): AwsError {
  if (err instanceof AwsError) return err;
  log?.error({ err }, 'unexpected error while serving a request');
  return new InternalFailure();
}

/** An error as an AWS JSON-protocol response: status, headers and body. */
function errorResponse(err: unknown, requestId: string, protocol: Protocol, log?: { error(obj: unknown, msg: string): void }): { status: number; headers: Record<string, string>; body: string } {
  const e = toAwsError(err, log);
  const body: Record<string, unknown> = { __type: e.code, [protocol === 'rest-json' ? 'Message' : 'message']: e.message, ...e.extra };
  return {
    status: e.status,
    headers: { 'x-amzn-RequestId': requestId, 'x-amzn-ErrorType': e.code, 'content-type': protocol === 'json' ? 'application/x-amz-json-1.1' : 'application/json' },
    body: JSON.stringify(body),
  };
}

export function sendError(reply: FastifyReply, err: unknown, requestId: string, protocol: Protocol = 'json', log?: { error(obj: unknown, msg: string): void }): FastifyReply {
  const r = errorResponse(err, requestId, protocol, log);
  return reply.code(r.status).headers(r.headers).send(r.body);
}

/** sendError on Node's own response (routes served outside Fastify). */
export function sendRawError(res: ServerResponse, err: unknown, requestId: string, protocol: Protocol, log?: { error(obj: unknown, msg: string): void }): void {
  const r = errorResponse(err, requestId, protocol, log);
  res.writeHead(r.status, { ...r.headers, 'content-length': String(Buffer.byteLength(r.body)) });
  res.end(r.body);
}

export function sendJson(reply: FastifyReply, payload: unknown, requestId: string): FastifyReply {
  return reply
    .code(200)
    .header('x-amzn-RequestId', requestId)
    .header('content-type', 'application/x-amz-json-1.1')
    .send(JSON.stringify(payload ?? {}));
}
