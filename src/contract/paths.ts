/** The /opt/ml paths of the SageMaker container contract (spec sections 1.2, 2.1, 3.3). */
export const OPT_ML = '/opt/ml';
export const TRAINING = {
  configDir: '/opt/ml/input/config',
  dataDir: '/opt/ml/input/data',
  modelDir: '/opt/ml/model',
  outputDir: '/opt/ml/output',
  outputDataDir: '/opt/ml/output/data',
  failureFile: '/opt/ml/output/failure',
  checkpointsDir: '/opt/ml/checkpoints',
  codeDir: '/opt/ml/code',
} as const;
export const PROCESSING = {
  configDir: '/opt/ml/config',
  root: '/opt/ml/processing/',
  outputDir: '/opt/ml/output',
  messageFile: '/opt/ml/output/message',
} as const;
export const SERVING = {
  modelDir: '/opt/ml/model',
  port: 8080,
} as const;

/** Host names of a cluster: algo-1 ... algo-N. */
export function hostNames(count: number, first = 1): string[] {
  return Array.from({ length: count }, (_, i) => `algo-${first + i}`);
}

/** SageMaker lists hosts sorted lexicographically (algo-10 before algo-2). */
export const sortHosts = (hosts: string[]): string[] => [...hosts].sort();
