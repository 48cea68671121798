/**
 * CloudWatch over the awsquery protocol (form-encoded POST, XML answers), as
 * boto3 1.26 and AWS CLI v2.9 speak it: signing name `monitoring`. Registered
 * as a RawService; the server has read and SigV4-verified the body already.
 * Errors use the query protocol's <ErrorResponse> form. Requests in Smithy
 * RPCv2 CBOR (recent SDKs) go to rpcv2-protocol.ts.
 */
import type { FastifyReply } from 'fastify';
import { AwsError, InvalidAction, InvalidParameterValue } from '../errors';
import type { RawService } from '../registry';
import { splitUrl } from '../server';
import { toAwsError } from '../wire';
import type { MetricsStore } from '../../logs/metrics-store';
import { getMetricStatistics, listMetrics, type Dimension, type GetMetricStatisticsOutput, type ListMetricsOutput } from './operations';
import { RPCV2_PREFIX, serveRpcV2 } from './rpcv2-protocol';
import { escapeXml, toXml, type XmlNode } from './xml';

const NS = 'http://monitoring.amazonaws.com/doc/2010-08-01/';
type Params = Map<string, string>;

/** `Name.member.N` (scalars) or `Name.member.N.Field` (structures) into a list, in index order. */
export function memberList(params: Params, name: string): Map<number, Map<string, string>> {
  const out = new Map<number, Map<string, string>>();
  const prefix = `${name}.member.`;
  for (const [k, v] of params) {
    if (!k.startsWith(prefix)) continue;
    const rest = k.slice(prefix.length);
    const dot = rest.indexOf('.');
    const idx = Number(dot < 0 ? rest : rest.slice(0, dot));
    if (!Number.isInteger(idx) || idx < 1) continue;
    const m = out.get(idx) ?? new Map<string, string>();
    m.set(dot < 0 ? '' : rest.slice(dot + 1), v);
    out.set(idx, m);
  }
  return new Map([...out.entries()].sort(([a], [b]) => a - b));
}

function timestamp(params: Params, name: string): number | undefined {
  const v = params.get(name);
  if (v === undefined) return undefined;
  const ms = /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : Date.parse(v);
  if (!Number.isFinite(ms)) throw new InvalidParameterValue(`The parameter ${name} must be an ISO 8601 timestamp.`);
  return ms;
}

function integer(params: Params, name: string): number | undefined {
  const v = params.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidParameterValue(`The parameter ${name} must be an integer.`);
  return n;
}

const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

function dimensions(params: Params): { Name: string; Value?: string }[] {
  return [...memberList(params, 'Dimensions').values()].map((m) => ({ Name: m.get('Name') ?? '', Value: m.get('Value') }));
}

function xmlResponse(action: string, result: XmlNode, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${NS}"><${action}Result>${toXml(result)}</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
}

function statisticsXml(r: GetMetricStatisticsOutput): XmlNode {
  return { Label: r.Label, Datapoints: r.Datapoints.map((d) => ({ ...d, Timestamp: iso(d.Timestamp) })) };
}

function metricsXml(r: ListMetricsOutput): XmlNode {
  return { Metrics: r.Metrics.map((m) => ({ Namespace: m.Namespace, MetricName: m.MetricName, Dimensions: m.Dimensions as unknown as XmlNode[] })), NextToken: r.NextToken };
}

export function sendQueryError(reply: FastifyReply, err: AwsError, requestId: string): FastifyReply {
  const type = err.status >= 500 ? 'Receiver' : 'Sender';
  return reply
    .code(err.status)
    .header('x-amzn-RequestId', requestId)
    .header('content-type', 'text/xml')
    .send(`<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${NS}"><Error><Type>${type}</Type><Code>${escapeXml(err.code)}</Code><Message>${escapeXml(err.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`);
}

export function cloudWatchQueryService(store: MetricsStore): RawService {
  return {
    async handle(req, reply, ctx) {
      const url = splitUrl(req.raw.url ?? '/');
      if (url.path.startsWith(RPCV2_PREFIX)) return serveRpcV2(store, url.path, ctx.body ?? Buffer.alloc(0), reply, ctx.requestId, req.log);
      try {
        const params: Params = new Map();
        for (const [k, v] of Object.entries(url.query)) params.set(k, Array.isArray(v) ? v[0]! : v);
        for (const [k, v] of new URLSearchParams(ctx.body?.toString('utf8') ?? '')) params.set(k, v);
        const action = params.get('Action') ?? '';
        let result: XmlNode;
        switch (action) {
          case 'GetMetricStatistics':
            result = statisticsXml(
              getMetricStatistics(store, {
                Namespace: params.get('Namespace'),
                MetricName: params.get('MetricName'),
                Dimensions: dimensions(params) as Dimension[],
                StartTime: timestamp(params, 'StartTime'),
                EndTime: timestamp(params, 'EndTime'),
                Period: integer(params, 'Period'),
                Statistics: [...memberList(params, 'Statistics').values()].map((m) => m.get('') ?? ''),
                ExtendedStatistics: [...memberList(params, 'ExtendedStatistics').values()].map((m) => m.get('') ?? ''),
                Unit: params.get('Unit'),
              }),
            );
            break;
          case 'ListMetrics':
            result = metricsXml(listMetrics(store, { Namespace: params.get('Namespace'), MetricName: params.get('MetricName'), Dimensions: dimensions(params), NextToken: params.get('NextToken') }));
            break;
          default:
            throw new InvalidAction(action || '(none)');
        }
        await reply.code(200).header('x-amzn-RequestId', ctx.requestId).header('content-type', 'text/xml').send(xmlResponse(action, result, ctx.requestId));
      } catch (err) {
        await sendQueryError(reply, toAwsError(err, req.log), ctx.requestId);
      }
    },
  };
}
