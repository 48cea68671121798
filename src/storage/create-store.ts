import * as path from 'node:path';
import type { Config } from '../config/config';
import { LocalObjectStore } from './local-store';
import type { ObjectStore } from './object-store';
import { S3ObjectStore } from './s3-store';

/** The object store the configuration asks for: `<dataDir>/s3` by default. */
export function createObjectStore(config: Config): ObjectStore {
  const c = config.objectStore;
  if (c.type === 'local') return new LocalObjectStore({ root: path.join(config.dataDir, 's3') });
  return new S3ObjectStore({
    endpoint: c.endpoint,
    region: c.region,
    forcePathStyle: c.forcePathStyle,
    credentials: c.accessKeyId && c.secretAccessKey ? { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey } : undefined,
  });
}
