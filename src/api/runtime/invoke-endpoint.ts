/**
 * SageMaker Runtime InvokeEndpoint: POST /endpoints/<name>/invocations. The
 * hot path: the endpoint comes from memory (no database), a variant is drawn
 * by weight (or named by TargetVariant), the instance with the fewest
 * requests in flight takes it over a pooled keep-alive connection, and the
 * container's bytes go back as they came. Nothing is logged per request above
 * debug.
 *
 * A request whose connection failed before any byte of a response arrived
 * (refused, reset, closed: the container is dying) is sent once more to
 * another instance; a response that has begun, a timeout and an error status
 * are never retried.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppContext } from '../../app/context';
import type { EndpointRuntime } from '../../jobs/endpoints/endpoint-runtime';
import type { FleetManager } from '../../jobs/endpoints/fleet-manager';
import type { LiveInstance, VariantRoute } from '../../jobs/endpoints/routing';
import { endpointLogGroup } from '../../jobs/endpoints/instances';
import { ConnectionFailedError, InvocationTimeoutError, type InvokeResponse } from '../../serving';
import { ModelError, RuntimeValidationError, ServiceUnavailable } from '../errors';
import type { RuntimeRoute } from '../registry';
import { validationMessage, violation } from '../validation/validator';

const NAME_PATTERN = '^[a-zA-Z0-9](-*[a-zA-Z0-9])*';
const NAME_RE = /^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/;
const FORWARDED = ['content-type', 'accept', 'x-amzn-sagemaker-custom-attributes', 'x-amzn-sagemaker-target-model', 'x-amzn-sagemaker-inference-id', 'x-amzn-sagemaker-session-id'] as const;
const RETURNED = ['x-amzn-sagemaker-custom-attributes', 'x-amzn-sagemaker-new-session-id', 'x-amzn-sagemaker-closed-session-id'] as const;
/** The container of a single-container model is called "primary" in SageMaker's messages. */
const CONTAINER = 'primary';
const TIMEOUT_TEXT = `Your invocation timed out while waiting for a response from container ${CONTAINER}. Review the latency metrics for each container in Amazon CloudWatch, resolve the issue, and try again.`;

const constraint = (value: string, member: string, rule: string): RuntimeValidationError =>
  new RuntimeValidationError(validationMessage([violation(value, member, rule)]));

export function invokeEndpointService(ctx: AppContext, fleet: FleetManager): RuntimeRoute {
  const { region, accountId } = ctx.config;
  const settings = fleet.settings;
  const metrics = ctx.metrics;

  function modelError(endpoint: string, status: number, original: string): ModelError {
    const group = endpointLogGroup(endpoint);
    const kind = status >= 400 && status < 500 ? 'client' : 'server';
    const shown = original.length > 1024 ? `${original.slice(0, 1024)}...` : original;
    const message =
      `Received ${kind} error (${status}) from ${CONTAINER} with message "${shown}". ` +
      `See https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#logEventViewer:group=${group} in account ${accountId} for more information.`;
    return new ModelError(message, {
      OriginalStatusCode: status,
      OriginalMessage: original.length > 2048 ? original.slice(0, 2048) : original,
      LogStreamArn: ctx.arns.logGroup(group),
      ErrorCode: status === 0 ? 'MODEL_INVOCATION_TIMEOUT' : kind === 'client' ? 'CLIENT_ERROR_FROM_MODEL' : 'SERVER_ERROR_FROM_MODEL',
    });
  }

  function notFound(name: string): RuntimeValidationError {
    return new RuntimeValidationError(`Endpoint ${name} of account ${accountId} not found.`);
  }

  /** Another instance for a retry: same variant first, then (unless one was named) any variant. */
  function another(ep: EndpointRuntime, route: VariantRoute, failed: LiveInstance, targeted: boolean): { route: VariantRoute; instance: LiveInstance } | undefined {
    const same = route.pick(failed);
    if (same) return { route, instance: same };
    if (targeted || !ep.routes) return undefined;
    for (const v of ep.routes.variants) {
      if (v === route) continue;
      const i = v.pick(failed);
      if (i) return { route: v, instance: i };
    }
    return undefined;
  }

  async function send(instance: LiveInstance, body: Buffer, headers: Record<string, string>): Promise<InvokeResponse> {
    instance.outstanding++;
    try {
      return await instance.client.invoke({ body, headers, timeoutMs: settings.invocationTimeoutMs });
    } finally {
      instance.outstanding--;
    }
  }

  return {
    async handle(req: IncomingMessage, res: ServerResponse, rctx): Promise<void> {
      const rawName = rctx.resource;
      let name: string;
      try {
        name = decodeURIComponent(rawName);
      } catch {
        throw constraint(rawName, 'endpointName', `Member must satisfy regular expression pattern: ${NAME_PATTERN}`);
      }
      if (name.length > 63) throw constraint(name, 'endpointName', 'Member must have length less than or equal to 63');
      if (!NAME_RE.test(name)) throw constraint(name, 'endpointName', `Member must satisfy regular expression pattern: ${NAME_PATTERN}`);
      const ep = fleet.lookup(name);
      const routes = ep?.routes;
      if (!ep || !ep.serving || !routes) throw notFound(name);

      const body = rctx.body;
      if (body.length > settings.maxPayloadBytes) {
        throw new RuntimeValidationError(`1 validation error detected: Value at 'body' failed to satisfy constraint: Member must have length less than or equal to ${settings.maxPayloadBytes}`);
      }
      if (body.length === 0) throw new RuntimeValidationError("1 validation error detected: Value at 'body' failed to satisfy constraint: Member must not be null");

      const h = req.headers;
      const headers: Record<string, string> = {};
      for (const k of FORWARDED) {
        const v = h[k];
        if (typeof v === 'string') headers[k] = v;
      }
      const attrs = headers['x-amzn-sagemaker-custom-attributes'];
      if (attrs !== undefined && attrs.length > 1024) throw constraint(attrs.slice(0, 64), 'customAttributes', 'Member must have length less than or equal to 1024');
      const inferenceId = headers['x-amzn-sagemaker-inference-id'];
      if (inferenceId !== undefined && (inferenceId.length < 1 || inferenceId.length > 64)) {
        throw constraint(inferenceId, 'inferenceId', 'Member must have length less than or equal to 64');
      }

      const target = h['x-amzn-sagemaker-target-variant'];
      let route: VariantRoute | undefined;
      if (typeof target === 'string') {
        route = routes.variant(target);
        if (!route) throw new RuntimeValidationError(`Invalid TargetVariant: the endpoint ${name} has no production variant named ${target}.`);
      } else {
        route = routes.pickVariant();
      }
      let instance = route?.pick();
      if (!route || !instance) throw new ServiceUnavailable(`The endpoint ${name} has no instance in service right now; try again shortly.`);

      const started = performance.now();
      let answer: InvokeResponse;
      try {
        answer = await send(instance, body, headers);
      } catch (err) {
        if (err instanceof InvocationTimeoutError) throw modelError(name, 0, TIMEOUT_TEXT);
        if (!(err instanceof ConnectionFailedError)) throw err;
        fleet.suspect(ep, instance);
        const next = err.retryable ? another(ep, route, instance, typeof target === 'string') : undefined;
        if (!next) throw new ServiceUnavailable(`The endpoint ${name} could not reach an instance in service; try again shortly.`);
        route = next.route;
        instance = next.instance;
        try {
          answer = await send(instance, body, headers);
        } catch (again) {
          if (again instanceof InvocationTimeoutError) throw modelError(name, 0, TIMEOUT_TEXT);
          if (again instanceof ConnectionFailedError) {
            fleet.suspect(ep, instance);
            throw new ServiceUnavailable(`The endpoint ${name} could not reach an instance in service; try again shortly.`);
          }
          throw again;
        }
      }

      metrics?.recordInvocation(name, route.name, answer.statusCode, (performance.now() - started) / 1000);
      if (answer.statusCode < 200 || answer.statusCode > 299) throw modelError(name, answer.statusCode, answer.body.toString('utf8'));
      const out: string[] = ['x-amzn-RequestId', rctx.requestId, 'x-Amzn-Invoked-Production-Variant', route.name, 'Content-Length', String(answer.body.length)];
      const ctype = answer.headers['content-type'];
      if (typeof ctype === 'string') out.push('Content-Type', ctype);
      for (const k of RETURNED) {
        const v = answer.headers[k];
        if (typeof v === 'string') out.push(k, v);
      }
      res.writeHead(200, out);
      res.end(answer.body);
    },
  };
}
