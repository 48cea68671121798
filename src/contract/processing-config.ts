/**
 * The files sagebox writes to /opt/ml/config for a processing container
 * (spec 2.1). Pure.
 */
import type { CreateProcessingJobRequest } from '@aws-sdk/client-sagemaker';
import type { Wire } from '../api/sagemaker/wire-types';
import { sortHosts } from './paths';

export type ProcessingRequest = Wire<CreateProcessingJobRequest>;

const orNull = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

/** processingjobconfig.json: the job's description, unset optionals as null. */
export function processingJobConfig(req: ProcessingRequest, arn: string): Record<string, unknown> {
  const app = req.AppSpecification;
  const cc = req.ProcessingResources?.ClusterConfig;
  return {
    ProcessingJobArn: arn,
    ProcessingJobName: req.ProcessingJobName,
    AppSpecification: { ImageUri: app?.ImageUri, ContainerEntrypoint: orNull(app?.ContainerEntrypoint), ContainerArguments: orNull(app?.ContainerArguments) },
    Environment: orNull(req.Environment),
    NetworkConfig: orNull(req.NetworkConfig),
    ProcessingInputs: orNull(
      req.ProcessingInputs?.map((i) => ({
        InputName: i.InputName,
        AppManaged: i.AppManaged ?? false,
        S3Input: i.S3Input
          ? {
              LocalPath: orNull(i.S3Input.LocalPath),
              S3Uri: i.S3Input.S3Uri,
              S3DataDistributionType: i.S3Input.S3DataDistributionType ?? 'FullyReplicated',
              S3DataType: i.S3Input.S3DataType,
              S3InputMode: i.S3Input.S3InputMode ?? 'File',
              S3CompressionType: i.S3Input.S3CompressionType ?? 'None',
              S3DownloadMode: 'StartOfJob',
            }
          : null,
        DatasetDefinition: orNull(i.DatasetDefinition),
      })),
    ),
    ProcessingOutputConfig: req.ProcessingOutputConfig
      ? {
          Outputs: req.ProcessingOutputConfig.Outputs?.map((o) => ({
            OutputName: o.OutputName,
            AppManaged: o.AppManaged ?? false,
            S3Output: o.S3Output ? { LocalPath: o.S3Output.LocalPath, S3Uri: o.S3Output.S3Uri, S3UploadMode: o.S3Output.S3UploadMode } : null,
            FeatureStoreOutput: orNull(o.FeatureStoreOutput),
          })),
          KmsKeyId: orNull(req.ProcessingOutputConfig.KmsKeyId),
        }
      : null,
    ProcessingResources: {
      ClusterConfig: { InstanceCount: cc?.InstanceCount, InstanceType: cc?.InstanceType, VolumeSizeInGB: cc?.VolumeSizeInGB, VolumeKmsKeyId: orNull(cc?.VolumeKmsKeyId) },
    },
    RoleArn: req.RoleArn,
    StoppingCondition: { MaxRuntimeInSeconds: req.StoppingCondition?.MaxRuntimeInSeconds ?? 86400 },
  };
}

export function processingResourceConfig(hosts: string[], current: string, instanceType: string): Record<string, unknown> {
  return { current_host: current, current_instance_type: instanceType, hosts: sortHosts(hosts), network_interface_name: 'eth0' };
}
