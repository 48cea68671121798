import { S3ObjectStore } from '../src/storage/s3-store';
import { startS3rver } from './helpers/s3rver';
import { objectStoreConformance } from './object-store.conformance';

objectStoreConformance('S3 store on s3rver', async () => {
  const server = await startS3rver();
  const store = new S3ObjectStore({
    endpoint: server.endpoint,
    region: server.region,
    credentials: server.credentials,
    forcePathStyle: true,
  });
  return {
    store,
    async close() {
      store.client.destroy();
      await server.stop();
    },
  };
});
