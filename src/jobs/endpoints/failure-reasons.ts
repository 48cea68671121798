/**
 * FailureReason texts of endpoints, worded as SageMaker words them where the
 * text is known (spec 3.2 [O]); the others say what happened and where to look.
 */
import { truncate } from '../../contract/failure';
import { ContainerExitedError, HealthCheckTimeoutError, ModelDataError } from '../../serving';
import { ImageNotFoundError } from '../../runtime/errors';

export const pingFailed = (variant: string): string =>
  `The primary container for production variant ${variant} did not pass the ping health check. Please check CloudWatch logs for this endpoint.`;

export const imageMissing = (variant: string): string =>
  `Please make sure all images included in the model for the production variant ${variant} exist, and that the execution role used to create the model has permissions to access them.`;

export const modelDataFailed = (variant: string, err: ModelDataError): string =>
  `Failed to download model data for the primary container of production variant ${variant} from ${err.uri}: ${err.reason}. Please ensure that the object exists and is a valid model archive.`;

export const updateFailed = (reason: string): string => `Update rolled back: ${reason}`;

/** The FailureReason for an error met while bringing up an instance of `variant`. */
export function failureReasonFor(variant: string, err: unknown): string {
  if (err instanceof ImageNotFoundError) return imageMissing(variant);
  if (err instanceof ModelDataError) return truncate(modelDataFailed(variant, err));
  if (err instanceof HealthCheckTimeoutError || err instanceof ContainerExitedError) return pingFailed(variant);
  return truncate(`An error occurred while starting production variant ${variant}: ${(err as Error).message ?? String(err)}`);
}
