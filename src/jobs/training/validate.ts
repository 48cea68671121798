/**
 * CreateTrainingJob checks the AWS model cannot express (the model's own
 * constraints are checked before the handler runs). Each failure is a
 * ValidationException that names the member, in the model validator's
 * lower-camel path style, and every failure found is reported at once.
 */
import { ValidationException } from '../../api/errors';
import type { ConstraintCheck } from '../../api/validation/validator';
import { InvalidUriError } from '../../storage/errors';
import { parseUri } from '../../storage/uri';
import { validateBucketName } from '../../storage/keys';
import { channelInputMode } from '../../contract/training-config';
import { translatePythonRegex } from './metrics';
import type { TrainingRequest } from './describe';

/** 28 days (spec 1.8). */
export const MAX_RUNTIME_LIMIT_SECONDS = 2_419_200;
const RESERVED_PATHS = ['/opt/ml/input', '/opt/ml/model', '/opt/ml/output', '/opt/ml/code'];

/**
 * Ranges the model leaves open (its instance counts and volume sizes start at
 * 0, MaxRuntimeInSeconds has no maximum). Registered with the wire validator so
 * they are reported with the model's own violations, in the same words.
 */
export const trainingRangeChecks: ConstraintCheck = (input, fail) => {
  const req = input as TrainingRequest;
  const atLeastOne = 'Member must have value greater than or equal to 1';
  const rc = req.ResourceConfig;
  if (rc && !rc.InstanceGroups?.length && typeof rc.InstanceCount === 'number' && rc.InstanceCount < 1) fail(rc.InstanceCount, 'resourceConfig.instanceCount', atLeastOne);
  rc?.InstanceGroups?.forEach((g, i) => {
    if (typeof g.InstanceCount === 'number' && g.InstanceCount < 1) fail(g.InstanceCount, `resourceConfig.instanceGroups.${i + 1}.member.instanceCount`, atLeastOne);
  });
  if (typeof rc?.VolumeSizeInGB === 'number' && rc.VolumeSizeInGB < 1) fail(rc.VolumeSizeInGB, 'resourceConfig.volumeSizeInGB', atLeastOne);
  const maxRuntime = req.StoppingCondition?.MaxRuntimeInSeconds;
  if (typeof maxRuntime === 'number' && maxRuntime > MAX_RUNTIME_LIMIT_SECONDS) {
    fail(maxRuntime, 'stoppingCondition.maxRuntimeInSeconds', `Member must have value less than or equal to ${MAX_RUNTIME_LIMIT_SECONDS}`);
  }
};

export function validateTrainingRequest(req: TrainingRequest): void {
  const errors: string[] = [];
  const add = (msg: string): void => void errors.push(msg);
  // trainingRangeChecks ran with the model's constraints (addConstraintCheck), before the handler.

  const alg = req.AlgorithmSpecification;
  if (!alg) add("AlgorithmSpecification is required: give 'algorithmSpecification.trainingImage' and 'algorithmSpecification.trainingInputMode'.");
  else {
    if (alg.AlgorithmName && alg.TrainingImage) add("Only one of 'algorithmSpecification.trainingImage' and 'algorithmSpecification.algorithmName' may be given.");
    else if (!alg.TrainingImage && !alg.AlgorithmName) add("'algorithmSpecification.trainingImage' is required (or 'algorithmSpecification.algorithmName').");
    alg.MetricDefinitions?.forEach((m, i) => {
      try {
        new RegExp(translatePythonRegex(m.Regex ?? ''));
      } catch (err) {
        add(`'algorithmSpecification.metricDefinitions.${i + 1}.member.regex' of metric '${m.Name}' is not a valid regular expression: ${(err as Error).message}`);
      }
    });
    const names = new Set<string>();
    alg.MetricDefinitions?.forEach((m, i) => {
      if (m.Name && names.has(m.Name)) add(`Duplicate metric name '${m.Name}' at 'algorithmSpecification.metricDefinitions.${i + 1}.member.name'.`);
      if (m.Name) names.add(m.Name);
    });
  }

  checkResources(req, add);
  checkChannels(req, add);
  checkUri(req.OutputDataConfig?.S3OutputPath, 'outputDataConfig.s3OutputPath', add);
  if (req.CheckpointConfig) {
    checkUri(req.CheckpointConfig.S3Uri, 'checkpointConfig.s3Uri', add);
    const lp = req.CheckpointConfig.LocalPath;
    if (lp !== undefined && lp !== '') {
      if (!lp.startsWith('/')) add(`'checkpointConfig.localPath' (${lp}) must be an absolute path.`);
      else if (RESERVED_PATHS.some((p) => lp === p || lp.startsWith(`${p}/`) || p.startsWith(`${lp.replace(/\/+$/, '')}/`)) || lp.replace(/\/+$/, '') === '/opt/ml' || lp === '/') {
        add(`'checkpointConfig.localPath' (${lp}) may not be, contain or lie inside ${RESERVED_PATHS.join(', ')}.`);
      }
    }
  }

  const sc = req.StoppingCondition;
  const maxRuntime = sc?.MaxRuntimeInSeconds;
  if (req.EnableManagedSpotTraining) {
    if (sc?.MaxWaitTimeInSeconds === undefined) add("'stoppingCondition.maxWaitTimeInSeconds' is required when EnableManagedSpotTraining is true.");
    else if (sc.MaxWaitTimeInSeconds < (maxRuntime ?? 86_400)) add("'stoppingCondition.maxWaitTimeInSeconds' must be greater than or equal to 'stoppingCondition.maxRuntimeInSeconds'.");
  } else if (sc?.MaxWaitTimeInSeconds !== undefined) {
    add("'stoppingCondition.maxWaitTimeInSeconds' is only valid when EnableManagedSpotTraining is true.");
  }

  if (errors.length) throw new ValidationException(errors.join(' '));
}

function checkResources(req: TrainingRequest, add: (m: string) => void): void {
  const rc = req.ResourceConfig;
  if (!rc) return add("ResourceConfig is required: give 'resourceConfig.instanceType' and 'resourceConfig.instanceCount' (or 'resourceConfig.instanceGroups').");
  if (rc.InstanceGroups?.length) {
    if (rc.InstanceType !== undefined || rc.InstanceCount !== undefined) {
      add("'resourceConfig.instanceGroups' cannot be combined with 'resourceConfig.instanceType' or 'resourceConfig.instanceCount'.");
    }
    const seen = new Set<string>();
    rc.InstanceGroups.forEach((g, i) => {
      if (g.InstanceGroupName && seen.has(g.InstanceGroupName)) add(`Duplicate instance group name '${g.InstanceGroupName}' at 'resourceConfig.instanceGroups.${i + 1}.member.instanceGroupName'.`);
      if (g.InstanceGroupName) seen.add(g.InstanceGroupName);
    });
    return;
  }
  if (rc.InstanceType === undefined) add("'resourceConfig.instanceType' is required when 'resourceConfig.instanceGroups' is not given.");
  if (rc.InstanceCount === undefined) add("'resourceConfig.instanceCount' is required when 'resourceConfig.instanceGroups' is not given.");
}

function checkChannels(req: TrainingRequest, add: (m: string) => void): void {
  const groups = new Set((req.ResourceConfig?.InstanceGroups ?? []).map((g) => g.InstanceGroupName));
  const seen = new Set<string>();
  (req.InputDataConfig ?? []).forEach((ch, i) => {
    const at = `inputDataConfig.${i + 1}.member`;
    const name = ch.ChannelName ?? '';
    if (name === '.' || name === '..') add(`Channel name '${name}' at '${at}.channelName' is not allowed: it would not name a directory of its own under /opt/ml/input/data.`);
    if (seen.has(name)) add(`Duplicate channel name '${name}' at '${at}.channelName': channel names must be unique.`);
    seen.add(name);
    const mode = channelInputMode(req, ch);
    const modeAt = ch.InputMode ? `${at}.inputMode` : 'algorithmSpecification.trainingInputMode';
    const ds = ch.DataSource ?? {};
    const sources = (['S3DataSource', 'FileSystemDataSource', 'DatasetSource'] as const).filter((k) => ds[k] !== undefined);
    if (sources.length !== 1) return add(`'${at}.dataSource' must have exactly one of S3DataSource, FileSystemDataSource or DatasetSource.`);
    if (ds.FileSystemDataSource) return add(`FileSystemDataSource (EFS/FSx for Lustre) is not supported by sagebox ('${at}.dataSource.fileSystemDataSource'): use an S3DataSource with an s3:// or file:// URI.`);
    if (ds.DatasetSource) return add(`DatasetSource is not supported by sagebox ('${at}.dataSource.datasetSource'): use an S3DataSource.`);
    const s3 = ds.S3DataSource!;
    if (s3.S3DataType === 'AugmentedManifestFile' && mode !== 'Pipe') add(`S3DataType AugmentedManifestFile needs Pipe mode (channel '${name}' is in ${mode} mode, '${modeAt}').`);
    if (s3.S3DataType === 'AugmentedManifestFile' && !s3.AttributeNames?.length) add(`'${at}.dataSource.s3DataSource.attributeNames' is required with S3DataType AugmentedManifestFile.`);
    if (mode === 'FastFile' && s3.S3DataType !== 'S3Prefix') add(`FastFile mode supports S3DataType S3Prefix only (channel '${name}', '${at}.dataSource.s3DataSource.s3DataType').`);
    if (/_\d+$/.test(name) && seenPipeBase(req, name.replace(/_\d+$/, ''))) add(`Channel name '${name}' clashes with the Pipe-mode FIFOs of channel '${name.replace(/_\d+$/, '')}' ('${at}.channelName').`);
    if (s3.S3DataType === 'Converse') add(`S3DataType Converse is not supported by sagebox ('${at}.dataSource.s3DataSource.s3DataType').`);
    checkUri(s3.S3Uri, `${at}.dataSource.s3DataSource.s3Uri`, add);
    for (const g of s3.InstanceGroupNames ?? []) {
      if (!groups.has(g)) add(`'${at}.dataSource.s3DataSource.instanceGroupNames' names '${g}', which is not an instance group of 'resourceConfig.instanceGroups'.`);
    }
    if (ch.CompressionType === 'Gzip' && mode !== 'Pipe') add(`CompressionType Gzip is only supported in Pipe mode ('${at}.compressionType').`);
  });
}

/** Whether a Pipe-mode channel named `base` exists (its FIFOs are `<base>_0`, `<base>_1`, ...). */
function seenPipeBase(req: TrainingRequest, base: string): boolean {
  return (req.InputDataConfig ?? []).some((c) => c.ChannelName === base && channelInputMode(req, c) === 'Pipe');
}

/** s3://bucket/key, an S3 https URL, or (sagebox's local mode) file:///absolute/path. */
function checkUri(uri: string | undefined, at: string, add: (m: string) => void): void {
  if (uri === undefined) return;
  try {
    const p = parseUri(uri);
    if (p.scheme === 's3') validateBucketName(p.bucket);
  } catch (err) {
    const why = err instanceof InvalidUriError ? err.reason : (err as Error).message;
    add(`Value '${uri}' at '${at}' is not a valid S3 URI (${why}): use s3://bucket/prefix.`);
  }
}
