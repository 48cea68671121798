/**
 * The listener containers reach (on the Docker bridge gateway): it serves
 * S3 and STS and nothing else, whoever signs. Requests for any other service
 * are refused with AccessDeniedException, so a container holding even a full
 * key cannot drive the SageMaker API from there.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { peekScope } from './auth/sigv4';
import { AwsError } from './errors';
import type { RawService } from './registry';
import { rawFastify, splitUrl } from './server';
import { sendError } from './wire';

export function buildStoreServer(opts: { s3?: RawService; sts?: RawService; logger: Logger }): FastifyInstance {
  const app = rawFastify(opts.logger);
  app.route({
    method: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
    url: '/*',
    handler: async (request, reply) => {
      const requestId = randomUUID();
      const { query } = splitUrl(request.raw.url ?? '/');
      const service = peekScope({ headers: request.headers, query })?.service ?? 's3';
      const target = service === 'sts' ? opts.sts : service === 's3' ? opts.s3 : undefined;
      if (target) return target.handle(request, reply, { requestId });
      return sendError(reply, new AwsError('AccessDeniedException', `This address serves only S3 and STS to containers, not '${service}'.`, 403), requestId);
    },
  });
  return app;
}
