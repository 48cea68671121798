/**
 * The files sagebox writes to /opt/ml/input/config for a training container
 * (spec 1.3). Pure: request in, JSON documents out.
 */
import type { Channel, CreateTrainingJobRequest } from '@aws-sdk/client-sagemaker';
import type { Wire } from '../api/sagemaker/wire-types';
import { sortHosts } from './paths';

export type TrainingRequest = Wire<CreateTrainingJobRequest>;

export interface ClusterHost {
  host: string;
  groupName: string;
  instanceType: string;
}

/** Hosts of the job: one homogeneous group, or one group per InstanceGroups entry, numbered across groups. */
export function clusterOf(req: TrainingRequest): ClusterHost[] {
  const rc = req.ResourceConfig;
  const groups = rc?.InstanceGroups?.length
    ? rc.InstanceGroups.map((g) => ({ name: g.InstanceGroupName ?? 'group', type: g.InstanceType ?? 'ml.m5.large', count: g.InstanceCount ?? 1 }))
    : [{ name: 'homogeneousCluster', type: rc?.InstanceType ?? 'ml.m5.large', count: rc?.InstanceCount ?? 1 }];
  const hosts: ClusterHost[] = [];
  let k = 1;
  for (const g of groups) for (let i = 0; i < g.count; i++) hosts.push({ host: `algo-${k++}`, groupName: g.name, instanceType: g.type });
  return hosts;
}

export function resourceConfig(cluster: ClusterHost[], current: ClusterHost): Record<string, unknown> {
  const groups = new Map<string, ClusterHost[]>();
  for (const h of cluster) groups.set(h.groupName, [...(groups.get(h.groupName) ?? []), h]);
  return {
    current_host: current.host,
    current_instance_type: current.instanceType,
    current_group_name: current.groupName,
    hosts: sortHosts(cluster.map((h) => h.host)),
    instance_groups: [...groups.entries()].map(([name, hs]) => ({
      instance_group_name: name,
      instance_type: hs[0]!.instanceType,
      hosts: sortHosts(hs.map((h) => h.host)),
    })),
    network_interface_name: 'eth0',
    topology: null,
  };
}

export function channelInputMode(req: TrainingRequest, ch: Wire<Channel>): string {
  return ch.InputMode ?? req.AlgorithmSpecification?.TrainingInputMode ?? 'File';
}

export function inputDataConfig(req: TrainingRequest): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const ch of req.InputDataConfig ?? []) {
    const entry: Record<string, string> = {};
    if (ch.ContentType) entry.ContentType = ch.ContentType;
    entry.TrainingInputMode = channelInputMode(req, ch);
    entry.S3DistributionType = ch.DataSource?.FileSystemDataSource ? 'FullyReplicated' : (ch.DataSource?.S3DataSource?.S3DataDistributionType ?? 'FullyReplicated');
    entry.RecordWrapperType = ch.RecordWrapperType ?? 'None';
    if (ch.CompressionType) entry.CompressionType = ch.CompressionType;
    out[ch.ChannelName!] = entry;
  }
  return out;
}

/** Everything written to /opt/ml/input/config for one host, file name -> JSON value. */
export function trainingConfigFiles(req: TrainingRequest, describe: Record<string, unknown>, cluster: ClusterHost[], current: ClusterHost): Record<string, unknown> {
  const files: Record<string, unknown> = {
    'hyperparameters.json': req.HyperParameters ?? {},
    'resourceconfig.json': resourceConfig(cluster, current),
    'inputdataconfig.json': inputDataConfig(req),
    'trainingjobconfig.json': describe,
    'metric-definition-regex.json': req.AlgorithmSpecification?.MetricDefinitions ?? [],
  };
  if (req.CheckpointConfig) files['checkpointconfig.json'] = { LocalPath: req.CheckpointConfig.LocalPath ?? '/opt/ml/checkpoints', S3Uri: req.CheckpointConfig.S3Uri };
  if (req.DebugHookConfig) files['debughookconfig.json'] = req.DebugHookConfig;
  if (req.TensorBoardOutputConfig) files['tensorboardoutputconfig.json'] = req.TensorBoardOutputConfig;
  return files;
}
