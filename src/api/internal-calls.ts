/**
 * SageMaker operations called from inside sagebox (the validation of
 * algorithms and model packages creates training jobs, models and transform
 * jobs): the same model validation and the same handlers the HTTP API runs,
 * without HTTP, so these jobs are exactly what a client would have created.
 */
import { randomUUID } from 'node:crypto';
import type { Registry, RequestContext } from './registry';
import { NotImplementedException } from './errors';
import { hasConstraints, validateInput } from './validation/validator';

export class InternalSageMaker {
  constructor(private readonly registry: Registry, private readonly region: string) {}

  /** Validates `input` as the wire would, then runs the handler. Throws what the handler throws (AwsError subclasses). */
  async call<T = Record<string, unknown>>(op: string, input: Record<string, unknown>): Promise<T> {
    const handler = this.registry.json.get('sagemaker')?.handlers.get(op);
    if (!handler) throw new NotImplementedException('SageMaker', op);
    const body = structuredClone(input);
    if (hasConstraints('sagemaker', op)) validateInput('sagemaker', op, body);
    const ctx: RequestContext = {
      requestId: `internal-${randomUUID()}`,
      scope: { accessKeyId: 'sagebox-internal', date: new Date().toISOString().slice(0, 10).replace(/-/g, ''), region: this.region, service: 'sagemaker' },
    };
    return (await handler(body, ctx)) as T;
  }
}
