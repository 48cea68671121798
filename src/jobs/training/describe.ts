/**
 * The DescribeTrainingJob document: every request field echoed with the
 * service's defaults filled in (spec 1.10: Estimator.attach indexes some of
 * them directly), plus the members sagebox maintains as the job runs.
 */
import type { CreateTrainingJobRequest, DescribeTrainingJobResponse, TrainingJobSummary } from '@aws-sdk/client-sagemaker';
import type { Wire } from '../../api/sagemaker/wire-types';
import { STEPS, applyStep } from './status';
import type { StatusFields } from './status';

export type TrainingRequest = Wire<CreateTrainingJobRequest>;
export type TrainingDoc = Wire<DescribeTrainingJobResponse> & StatusFields;

export const DEFAULT_MAX_RUNTIME_SECONDS = 86_400;
export const DEFAULT_VOLUME_SIZE_GB = 30;
export const DEFAULT_CHECKPOINT_PATH = '/opt/ml/checkpoints';

/** Request members that are not part of the Describe response. */
const NOT_ECHOED = new Set(['Tags', 'SessionChainingConfig']);

export function initialDoc(req: TrainingRequest, arn: string, nowSeconds: number): TrainingDoc {
  const echo: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(req)) if (!NOT_ECHOED.has(k) && v !== undefined) echo[k] = structuredClone(v);
  const doc = echo as unknown as TrainingDoc;
  doc.TrainingJobArn = arn;
  doc.CreationTime = nowSeconds;
  doc.LastModifiedTime = nowSeconds;
  doc.HyperParameters = req.HyperParameters ?? {};

  if (req.AlgorithmSpecification) {
    doc.AlgorithmSpecification = { ...doc.AlgorithmSpecification!, EnableSageMakerMetricsTimeSeries: req.AlgorithmSpecification.EnableSageMakerMetricsTimeSeries ?? false };
  }
  if (doc.InputDataConfig) {
    doc.InputDataConfig = doc.InputDataConfig.map((ch) => {
      const s3 = ch.DataSource?.S3DataSource;
      return {
        ...ch,
        DataSource: s3 ? { ...ch.DataSource, S3DataSource: { ...s3, S3DataDistributionType: s3.S3DataDistributionType ?? 'FullyReplicated' } } : ch.DataSource,
        CompressionType: ch.CompressionType ?? 'None',
        RecordWrapperType: ch.RecordWrapperType ?? 'None',
      };
    });
  }
  doc.OutputDataConfig = { KmsKeyId: '', ...doc.OutputDataConfig!, CompressionType: req.OutputDataConfig?.CompressionType ?? 'GZIP' };
  const rc = req.ResourceConfig ?? {};
  doc.ResourceConfig = rc.InstanceGroups?.length
    ? { ...rc, VolumeSizeInGB: rc.VolumeSizeInGB ?? DEFAULT_VOLUME_SIZE_GB }
    : { ...rc, InstanceCount: rc.InstanceCount, InstanceType: rc.InstanceType, VolumeSizeInGB: rc.VolumeSizeInGB ?? DEFAULT_VOLUME_SIZE_GB };
  doc.StoppingCondition = { ...req.StoppingCondition, MaxRuntimeInSeconds: req.StoppingCondition?.MaxRuntimeInSeconds ?? DEFAULT_MAX_RUNTIME_SECONDS };
  doc.EnableNetworkIsolation = req.EnableNetworkIsolation ?? false;
  doc.EnableInterContainerTrafficEncryption = req.EnableInterContainerTrafficEncryption ?? false;
  doc.EnableManagedSpotTraining = req.EnableManagedSpotTraining ?? false;
  if (req.CheckpointConfig) doc.CheckpointConfig = { ...req.CheckpointConfig, LocalPath: req.CheckpointConfig.LocalPath || DEFAULT_CHECKPOINT_PATH };
  if (req.DebugHookConfig) doc.DebugHookConfig = { LocalPath: '/opt/ml/output/tensors', ...req.DebugHookConfig };
  if (req.TensorBoardOutputConfig) doc.TensorBoardOutputConfig = { LocalPath: '/opt/ml/output/tensorboard', ...req.TensorBoardOutputConfig };
  applyStep(doc, STEPS.created, nowSeconds);
  return doc;
}

/** The request as trainingjobconfig.json shows it: the Describe shape without runtime members. */
export function jobConfigView(doc: TrainingDoc): Record<string, unknown> {
  const { TrainingJobStatus, SecondaryStatus, SecondaryStatusTransitions, LastModifiedTime, FailureReason, ModelArtifacts, FinalMetricDataList, ...rest } = doc;
  void [TrainingJobStatus, SecondaryStatus, SecondaryStatusTransitions, LastModifiedTime, FailureReason, ModelArtifacts, FinalMetricDataList];
  return rest;
}

export function summaryOf(doc: TrainingDoc): Wire<TrainingJobSummary> {
  const s: Wire<TrainingJobSummary> = {
    TrainingJobName: doc.TrainingJobName,
    TrainingJobArn: doc.TrainingJobArn,
    CreationTime: doc.CreationTime,
    LastModifiedTime: doc.LastModifiedTime,
    TrainingJobStatus: doc.TrainingJobStatus,
    SecondaryStatus: doc.SecondaryStatus,
  };
  if (doc.TrainingEndTime !== undefined) s.TrainingEndTime = doc.TrainingEndTime;
  return s;
}

/** What sagebox keeps beside the document (ResourceRow.internal.extra). */
export interface TrainingExtra {
  /** The TrainingImage of the algorithm named by AlgorithmSpecification.AlgorithmName. */
  algorithmImage?: string;
}
