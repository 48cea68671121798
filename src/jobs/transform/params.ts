/**
 * The three batch parameters (spec 4.2): for each, the request's value wins,
 * then what the container's GET /execution-parameters answered, then the
 * defaults (MaxConcurrentTransforms 1, BatchStrategy MultiRecord,
 * MaxPayloadInMB 6). Also the SAGEMAKER_* variables the container gets. Pure.
 */
import type { BatchStrategy } from './batches';

export interface RequestedParams {
  MaxConcurrentTransforms?: number;
  MaxPayloadInMB?: number;
  BatchStrategy?: string;
}

export interface EffectiveParams {
  maxConcurrent: number;
  /** 0 = no limit: the body is streamed with chunked encoding. */
  maxPayloadMb: number;
  strategy: BatchStrategy;
}

export const DEFAULT_PARAMS: EffectiveParams = { maxConcurrent: 1, maxPayloadMb: 6, strategy: 'MultiRecord' };

/** MULTI_RECORD, MultiRecord, multi-record ... -> MultiRecord. */
export function parseStrategy(v: unknown): BatchStrategy | undefined {
  if (typeof v !== 'string') return undefined;
  const k = v.replace(/[^a-z]/gi, '').toLowerCase();
  if (k === 'multirecord') return 'MultiRecord';
  if (k === 'singlerecord') return 'SingleRecord';
  return undefined;
}

/** The usable members of an /execution-parameters answer (anything else is ignored). */
export function parseExecutionParameters(body: unknown): Partial<EffectiveParams> {
  if (typeof body !== 'object' || body === null) return {};
  const o = body as Record<string, unknown>;
  const out: Partial<EffectiveParams> = {};
  const mc = Number(o.MaxConcurrentTransforms);
  if (Number.isInteger(mc) && mc >= 1) out.maxConcurrent = mc;
  const mp = Number(o.MaxPayloadInMB);
  if (o.MaxPayloadInMB !== undefined && o.MaxPayloadInMB !== null && Number.isInteger(mp) && mp >= 0 && mp <= 100) out.maxPayloadMb = mp;
  const bs = parseStrategy(o.BatchStrategy);
  if (bs) out.strategy = bs;
  return out;
}

/** MaxConcurrentTransforms 0 counts as unset (spec 4.1). */
export function resolveParams(req: RequestedParams, fromContainer: Partial<EffectiveParams>): EffectiveParams {
  const mc = req.MaxConcurrentTransforms;
  return {
    maxConcurrent: mc !== undefined && mc > 0 ? mc : (fromContainer.maxConcurrent ?? DEFAULT_PARAMS.maxConcurrent),
    maxPayloadMb: req.MaxPayloadInMB ?? fromContainer.maxPayloadMb ?? DEFAULT_PARAMS.maxPayloadMb,
    strategy: parseStrategy(req.BatchStrategy) ?? fromContainer.strategy ?? DEFAULT_PARAMS.strategy,
  };
}

/** SAGEMAKER_BATCH always; the others only when the request sets them. */
export function batchEnvironment(req: RequestedParams): Record<string, string> {
  const env: Record<string, string> = { SAGEMAKER_BATCH: 'true' };
  if (req.MaxPayloadInMB !== undefined) env.SAGEMAKER_MAX_PAYLOAD_IN_MB = String(req.MaxPayloadInMB);
  const bs = parseStrategy(req.BatchStrategy);
  if (bs) env.SAGEMAKER_BATCH_STRATEGY = bs === 'MultiRecord' ? 'MULTI_RECORD' : 'SINGLE_RECORD';
  if (req.MaxConcurrentTransforms !== undefined && req.MaxConcurrentTransforms > 0) env.SAGEMAKER_MAX_CONCURRENT_TRANSFORMS = String(req.MaxConcurrentTransforms);
  return env;
}
