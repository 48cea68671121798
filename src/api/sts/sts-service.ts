/**
 * The STS subset the SageMaker Python SDK's session set-up needs:
 * GetCallerIdentity (account id for the default bucket
 * `sagemaker-<region>-<account>`). Spoken over the query protocol
 * (form-encoded POST or GET, XML answers) and, for SDKs that choose it,
 * awsJson1.0 (X-Amz-Target AWSSecurityTokenServiceV20110615.*). It checks
 * SigV4 itself so that authentication failures come back as STS's XML errors.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { readBody } from '../body';
import type { SigV4Verifier } from '../auth/sigv4';
import { AwsError } from '../errors';
import type { RawService } from '../registry';
import { splitUrl } from '../server';
import { escapeXml } from '../s3/xml';

const NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const JSON_TARGET = 'AWSSecurityTokenServiceV20110615.';
const MAX_BODY = 64 * 1024;

export interface Identity {
  arn: string;
  userId: string;
}

export interface StsOptions {
  verifier: SigV4Verifier;
  accountId: string;
  /** Who an access key is (root of the account, or the container-only user). */
  identityOf(accessKeyId: string): Identity;
}

function authFailure(reason: string, service: string | undefined): AwsError {
  switch (reason) {
    case 'missing':
      return new AwsError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403);
    case 'unknown-key':
      return new AwsError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403);
    case 'bad-signature':
      return new AwsError(
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
        403,
      );
    case 'expired':
      return new AwsError('SignatureDoesNotMatch', 'Signature expired.', 403);
    case 'forbidden':
      return new AwsError('AccessDenied', `This key may not call ${service ?? 'this service'}.`, 403);
    default:
      return new AwsError('IncompleteSignature', 'The request signature does not conform to AWS standards.', 400);
  }
}

export function createStsService(opts: StsOptions): RawService {
  return {
    selfAuth: true,
    async handle(request: FastifyRequest, reply: FastifyReply, ctx: { requestId: string }): Promise<void> {
      const target = request.headers['x-amz-target'];
      const json = typeof target === 'string' && target.startsWith(JSON_TARGET);
      try {
        const { path, query } = splitUrl(request.raw.url ?? '/');
        const body = await readBody(request.raw, MAX_BODY);
        const auth = await opts.verifier.verify({ method: request.method, path, query, headers: request.headers, body });
        if (!auth.ok) throw authFailure(auth.reason, 'scope' in auth ? auth.scope.service : undefined);
        const params = new Map<string, string>(Object.entries(query).map(([k, v]) => [k, Array.isArray(v) ? v[0]! : v]));
        const ctype = String(request.headers['content-type'] ?? '');
        if (!json && ctype.startsWith('application/x-www-form-urlencoded')) for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.set(k, v);
        const action = json ? (target as string).slice(JSON_TARGET.length) : (params.get('Action') ?? '');
        if (action !== 'GetCallerIdentity') throw new AwsError('InvalidAction', `The action ${action} is not valid for this web service.`);
        const who = opts.identityOf(auth.scope.accessKeyId);
        const result = { UserId: who.userId, Account: opts.accountId, Arn: who.arn };
        if (json) {
          await reply.code(200).header('x-amzn-RequestId', ctx.requestId).header('content-type', 'application/x-amz-json-1.0').send(JSON.stringify(result));
          return;
        }
        const members = Object.entries(result).map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`).join('');
        await reply
          .code(200)
          .header('x-amzn-RequestId', ctx.requestId)
          .header('content-type', 'text/xml')
          .send(
            `<?xml version="1.0" encoding="UTF-8"?>\n<GetCallerIdentityResponse xmlns="${NS}"><GetCallerIdentityResult>${members}</GetCallerIdentityResult>` +
              `<ResponseMetadata><RequestId>${ctx.requestId}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
          );
      } catch (err) {
        const e = err instanceof AwsError ? err : new AwsError('InternalFailure', 'We encountered an internal error. Please try again.', 500);
        if (!(err instanceof AwsError)) request.log.error({ err, requestId: ctx.requestId }, 'unexpected error while serving STS');
        reply.code(e.status).header('x-amzn-RequestId', ctx.requestId);
        if (json) {
          await reply.header('x-amzn-ErrorType', e.code).header('content-type', 'application/x-amz-json-1.0').send(JSON.stringify({ __type: e.code, message: e.message }));
          return;
        }
        const type = e.status >= 500 ? 'Receiver' : 'Sender';
        await reply
          .header('content-type', 'text/xml')
          .send(
            `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${NS}"><Error><Type>${type}</Type><Code>${escapeXml(e.code)}</Code>` +
              `<Message>${escapeXml(e.message)}</Message></Error><RequestId>${ctx.requestId}</RequestId></ErrorResponse>`,
          );
      }
    },
  };
}
