/**
 * The object API feature: the S3 REST API over the embedded local store
 * (only when that is the configured store) and STS GetCallerIdentity.
 * Both accept the configured keys and the container-only key.
 */
import type { AppContext, Feature } from '../../app/context';
import { acceptedCredentials, containerCredential } from '../../app/container-env';
import { LocalMultipartUploads } from '../../storage/local-multipart';
import { LocalObjectStore } from '../../storage/local-store';
import { SigV4Verifier } from '../auth/sigv4';
import type { Registry } from '../registry';
import { createStsService } from '../sts/sts-service';
import { createS3Service } from './s3-service';

export function s3Feature(ctx: AppContext): Feature {
  const { config } = ctx;
  const credentials = acceptedCredentials(config);
  const verifier = new SigV4Verifier(credentials, () => ctx.clock.now());
  const containerKey = containerCredential(config.dataDir).accessKeyId;
  const logger = ctx.logger.child({ component: 's3' });
  return {
    name: 's3',
    register(registry: Registry): void {
      const store = ctx.objectStore;
      if (store instanceof LocalObjectStore) {
        const deps = { store, uploads: new LocalMultipartUploads(store), region: config.region, accountId: config.accountId, logger, now: () => ctx.clock.now() };
        registry.raw.set('s3', createS3Service(deps, { verifier, credentials, baseDomain: config.s3.baseDomain || undefined }));
      }
      registry.raw.set(
        'sts',
        createStsService({
          verifier,
          accountId: config.accountId,
          identityOf: (accessKeyId) =>
            accessKeyId === containerKey
              ? { arn: `arn:aws:iam::${config.accountId}:user/sagebox-container`, userId: accessKeyId }
              : { arn: `arn:aws:iam::${config.accountId}:root`, userId: config.accountId },
        }),
      );
    },
  };
}
