import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Metrics } from './metrics';

/** GET /metrics: the Prometheus text exposition of one Metrics. */
export function metricsRoute(metrics: Metrics): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (_req, reply) => {
    const { contentType, body } = await metrics.render();
    await reply.code(200).header('content-type', contentType).send(body);
  };
}
