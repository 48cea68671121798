import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { LocalObjectStore } from '../src/storage/local-store';
import { objectStoreConformance } from './object-store.conformance';

objectStoreConformance('local directory store', async () => {
  const root = await fsp.mkdtemp(path.join(tmpdir(), 'sagebox-local-store-'));
  return {
    store: new LocalObjectStore({ root }),
    close: () => fsp.rm(root, { recursive: true, force: true }),
  };
});
