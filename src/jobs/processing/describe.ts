/**
 * The DescribeProcessingJob document built from a CreateProcessingJob
 * request: every request member except Tags, with the defaults SageMaker
 * reports filled in, and the summary ListProcessingJobs shows. Pure.
 */
import type { DescribeProcessingJobResponse, ProcessingJobSummary } from '@aws-sdk/client-sagemaker';
import type { Wire } from '../../api/sagemaker/wire-types';
import type { ProcessingRequest } from '../../contract/processing-config';

export type ProcessingJobDoc = Wire<DescribeProcessingJobResponse>;

/** SageMaker's MaxRuntimeInSeconds when the request has no StoppingCondition (1 day). */
export const DEFAULT_MAX_RUNTIME_SECONDS = 86400;

export function describeFromRequest(req: ProcessingRequest, arn: string, nowSeconds: number): ProcessingJobDoc {
  const doc: ProcessingJobDoc = {
    ProcessingJobName: req.ProcessingJobName,
    ProcessingJobArn: arn,
    ProcessingJobStatus: 'InProgress',
    ProcessingInputs: req.ProcessingInputs?.map((i) => ({
      ...i,
      AppManaged: i.AppManaged ?? false,
      S3Input: i.S3Input && {
        ...i.S3Input,
        S3InputMode: i.S3Input.S3InputMode ?? 'File',
        S3DataDistributionType: i.S3Input.S3DataDistributionType ?? 'FullyReplicated',
        S3CompressionType: i.S3Input.S3CompressionType ?? 'None',
      },
    })),
    ProcessingOutputConfig: req.ProcessingOutputConfig && {
      ...req.ProcessingOutputConfig,
      Outputs: req.ProcessingOutputConfig.Outputs?.map((o) => ({ ...o, AppManaged: o.AppManaged ?? false })),
    },
    ProcessingResources: req.ProcessingResources,
    StoppingCondition: { MaxRuntimeInSeconds: req.StoppingCondition?.MaxRuntimeInSeconds ?? DEFAULT_MAX_RUNTIME_SECONDS },
    AppSpecification: req.AppSpecification,
    Environment: req.Environment,
    NetworkConfig: req.NetworkConfig,
    RoleArn: req.RoleArn,
    ExperimentConfig: req.ExperimentConfig,
    CreationTime: nowSeconds,
    LastModifiedTime: nowSeconds,
  };
  return dropUndefined(doc);
}

export function summaryOf(doc: ProcessingJobDoc): Wire<ProcessingJobSummary> {
  return dropUndefined({
    ProcessingJobName: doc.ProcessingJobName,
    ProcessingJobArn: doc.ProcessingJobArn,
    CreationTime: doc.CreationTime,
    ProcessingEndTime: doc.ProcessingEndTime,
    LastModifiedTime: doc.LastModifiedTime,
    ProcessingJobStatus: doc.ProcessingJobStatus,
    FailureReason: doc.FailureReason,
    ExitMessage: doc.ExitMessage,
  });
}

/** The request as processingjobconfig.json needs it, rebuilt from the stored document. */
export function requestOf(doc: ProcessingJobDoc): ProcessingRequest {
  return {
    ProcessingJobName: doc.ProcessingJobName,
    ProcessingInputs: doc.ProcessingInputs,
    ProcessingOutputConfig: doc.ProcessingOutputConfig,
    ProcessingResources: doc.ProcessingResources,
    StoppingCondition: doc.StoppingCondition,
    AppSpecification: doc.AppSpecification,
    Environment: doc.Environment,
    NetworkConfig: doc.NetworkConfig,
    RoleArn: doc.RoleArn,
    ExperimentConfig: doc.ExperimentConfig,
  };
}

function dropUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}
