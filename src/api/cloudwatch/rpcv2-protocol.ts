/**
 * CloudWatch over Smithy RPCv2 CBOR, which recent AWS SDKs (boto3 1.43)
 * choose first: POST /service/GraniteServiceVersion20100801/operation/<Op>,
 * CBOR bodies, timestamps as tag 1 epoch seconds. CloudWatch is
 * "awsQueryCompatible", so errors also carry the query error code in
 * x-amzn-query-error, which is what clients match modelled errors on.
 */
import type { FastifyReply } from 'fastify';
import { AwsError, InvalidAction } from '../errors';
import { toAwsError } from '../wire';
import type { MetricsStore } from '../../logs/metrics-store';
import { CborError, decodeCbor, encodeCbor, Tagged } from './cbor';
import { getMetricStatistics, listMetrics, type GetMetricStatisticsInput, type ListMetricsInput } from './operations';
import { SerializationException } from '../errors';

export const RPCV2_PREFIX = '/service/GraniteServiceVersion20100801/operation/';

const seconds = (v: unknown): number | undefined => (typeof v === 'number' ? v * 1000 : undefined);

function send(reply: FastifyReply, status: number, body: unknown, requestId: string, extra: Record<string, string> = {}): FastifyReply {
  reply.code(status).header('smithy-protocol', 'rpc-v2-cbor').header('content-type', 'application/cbor').header('x-amzn-RequestId', requestId);
  for (const [k, v] of Object.entries(extra)) reply.header(k, v);
  return reply.send(encodeCbor(body));
}

export async function serveRpcV2(store: MetricsStore, path: string, body: Buffer, reply: FastifyReply, requestId: string, log?: { error(o: unknown, m: string): void }): Promise<void> {
  try {
    const op = path.slice(RPCV2_PREFIX.length);
    let input: Record<string, unknown>;
    try {
      const v = decodeCbor(body);
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CborError('not a map');
      input = v as Record<string, unknown>;
    } catch (e) {
      throw new SerializationException(`Request body is not valid CBOR: ${(e as Error).message}`);
    }
    let out: unknown;
    if (op === 'GetMetricStatistics') {
      const r = getMetricStatistics(store, { ...input, StartTime: seconds(input.StartTime), EndTime: seconds(input.EndTime) } as GetMetricStatisticsInput);
      out = { ...r, Datapoints: r.Datapoints.map((d) => ({ ...d, Timestamp: new Tagged(1, d.Timestamp / 1000) })) };
    } else if (op === 'ListMetrics') {
      out = listMetrics(store, input as ListMetricsInput);
    } else {
      throw new InvalidAction(op);
    }
    await send(reply, 200, out, requestId);
  } catch (err) {
    const e: AwsError = toAwsError(err, log);
    await send(reply, e.status, { __type: e.code, message: e.message }, requestId, { 'x-amzn-query-error': `${e.code};${e.status >= 500 ? 'Receiver' : 'Sender'}` });
  }
}
