/**
 * The listener containers reach (on the Docker bridge gateway): it serves
 * S3 and STS and nothing else, whoever signs. Requests for any other service
 * are refused with AccessDeniedException, so a container holding even a full
 * key cannot drive the SageMaker API from there.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { peekScope } from './auth/sigv4';
import { AwsError } from './errors';
import type { RawService } from './registry';
import { splitUrl } from './server';
import { sendError } from './wire';

export function buildStoreServer(opts: { s3?: RawService; sts?: RawService; logger: Logger }): FastifyInstance {
  const app = Fastify({
    loggerInstance: opts.logger as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    keepAliveTimeout: 65_000,
    return503OnClosing: true,
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
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
