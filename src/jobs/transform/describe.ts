/**
 * The DescribeTransformJob document built from a CreateTransformJob request:
 * every request member except Tags, with the defaults SageMaker reports
 * filled in, and the summary ListTransformJobs shows. Pure.
 */
import type { CreateTransformJobRequest, DescribeTransformJobResponse, TransformJobSummary } from '@aws-sdk/client-sagemaker';
import type { Wire } from '../../api/sagemaker/wire-types';

export type TransformRequest = Wire<CreateTransformJobRequest>;

/** Describe's members plus LastModifiedTime, which sagebox reports too (ListTransformJobs has it). */
export type TransformJobDoc = Wire<DescribeTransformJobResponse> & { LastModifiedTime?: number };

export const DEFAULT_INVOCATION_TIMEOUT_SECONDS = 600;
export const DEFAULT_INVOCATION_MAX_RETRIES = 3;

export function describeFromRequest(req: TransformRequest, arn: string, nowSeconds: number): TransformJobDoc {
  const input = req.TransformInput!;
  const doc: TransformJobDoc = {
    TransformJobName: req.TransformJobName,
    TransformJobArn: arn,
    TransformJobStatus: 'InProgress',
    ModelName: req.ModelName,
    MaxConcurrentTransforms: req.MaxConcurrentTransforms,
    ModelClientConfig: {
      InvocationsTimeoutInSeconds: req.ModelClientConfig?.InvocationsTimeoutInSeconds ?? DEFAULT_INVOCATION_TIMEOUT_SECONDS,
      InvocationsMaxRetries: req.ModelClientConfig?.InvocationsMaxRetries ?? DEFAULT_INVOCATION_MAX_RETRIES,
    },
    MaxPayloadInMB: req.MaxPayloadInMB,
    BatchStrategy: req.BatchStrategy,
    Environment: req.Environment,
    TransformInput: { ...input, CompressionType: input.CompressionType ?? 'None', SplitType: input.SplitType ?? 'None' },
    TransformOutput: req.TransformOutput && { ...req.TransformOutput, AssembleWith: req.TransformOutput.AssembleWith ?? 'None' },
    DataCaptureConfig: req.DataCaptureConfig,
    TransformResources: req.TransformResources,
    CreationTime: nowSeconds,
    LastModifiedTime: nowSeconds,
    DataProcessing: {
      InputFilter: req.DataProcessing?.InputFilter ?? '$',
      OutputFilter: req.DataProcessing?.OutputFilter ?? '$',
      JoinSource: req.DataProcessing?.JoinSource ?? 'None',
    },
    ExperimentConfig: req.ExperimentConfig,
  };
  return dropUndefined(doc);
}

export function summaryOf(doc: TransformJobDoc): Wire<TransformJobSummary> {
  return dropUndefined({
    TransformJobName: doc.TransformJobName,
    TransformJobArn: doc.TransformJobArn,
    CreationTime: doc.CreationTime,
    TransformEndTime: doc.TransformEndTime,
    LastModifiedTime: doc.LastModifiedTime,
    TransformJobStatus: doc.TransformJobStatus,
    FailureReason: doc.FailureReason,
  });
}

function dropUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}
