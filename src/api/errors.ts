/**
 * One class per AWS error code. Handlers throw these; src/api/wire.ts is the
 * only place that turns any thrown error into a response. Anything that is
 * not an AwsError becomes a 500 InternalFailure without its stack.
 */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    /** Extra members for the error body (e.g. ModelError's OriginalStatusCode). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = code;
  }
}

export class ValidationException extends AwsError {
  constructor(message: string) {
    super('ValidationException', message);
  }
}
/** SageMaker answers Describe/Stop of a missing training job with this, not ResourceNotFound. */
export const notFound = (): ValidationException => new ValidationException('Requested resource not found.');

export class ResourceNotFound extends AwsError {
  constructor(message: string) {
    super('ResourceNotFound', message);
  }
}
export class ResourceInUse extends AwsError {
  constructor(message: string) {
    super('ResourceInUse', message);
  }
}
export class ResourceLimitExceeded extends AwsError {
  constructor(message: string) {
    super('ResourceLimitExceeded', message);
  }
}
export class ConflictException extends AwsError {
  constructor(message: string) {
    super('ConflictException', message);
  }
}
export class SerializationException extends AwsError {
  constructor(message: string) {
    super('SerializationException', message);
  }
}
export class UnknownOperationException extends AwsError {
  constructor(message: string) {
    super('UnknownOperationException', message);
  }
}
/** An operation of the AWS API that sagebox has not built yet (HTTP 501, as cloud emulators answer). */
export class NotImplementedException extends AwsError {
  constructor(service: string, operation: string) {
    super('NotImplementedException', `The operation ${service}.${operation} is not implemented by sagebox yet. See docs/compatibility.md.`, 501);
  }
}
export class UnsupportedMediaType extends AwsError {
  constructor(message: string) {
    super('UnsupportedMediaTypeException', message, 415);
  }
}
export class PayloadTooLarge extends AwsError {
  constructor(limit: number) {
    super('RequestEntityTooLargeException', `Request body is larger than the limit of ${limit} bytes.`, 413);
  }
}

// Authentication (403), worded as the AWS JSON services word them.
export class MissingAuthenticationToken extends AwsError {
  constructor() {
    super('MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
  }
}
export class UnrecognizedClient extends AwsError {
  constructor(code = 'UnrecognizedClientException') {
    super(code, 'The security token included in the request is invalid.', 403);
  }
}
export class InvalidSignature extends AwsError {
  constructor(message = 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.') {
    super('InvalidSignatureException', message, 403);
  }
}
export class IncompleteSignature extends AwsError {
  constructor(message: string) {
    super('IncompleteSignatureException', message, 403);
  }
}

export class InternalFailure extends AwsError {
  constructor(message = 'We encountered an internal error. Please try again.') {
    super('InternalFailure', message, 500);
  }
}

// CloudWatch Logs (awsJson1_1; codes as its model names them).
export class ResourceNotFoundException extends AwsError {
  constructor(message: string) {
    super('ResourceNotFoundException', message);
  }
}
export const logGroupNotFound = (): ResourceNotFoundException => new ResourceNotFoundException('The specified log group does not exist.');
export const logStreamNotFound = (): ResourceNotFoundException => new ResourceNotFoundException('The specified log stream does not exist.');
export class InvalidParameterException extends AwsError {
  constructor(message: string) {
    super('InvalidParameterException', message);
  }
}

// CloudWatch (awsquery / JSON 1.0; the query error codes of its model).
export class InvalidParameterValue extends AwsError {
  constructor(message: string) {
    super('InvalidParameterValue', message);
  }
}
export class MissingParameter extends AwsError {
  constructor(message: string) {
    super('MissingParameter', message);
  }
}
export class InvalidParameterCombination extends AwsError {
  constructor(message: string) {
    super('InvalidParameterCombination', message);
  }
}
export class InvalidAction extends AwsError {
  constructor(action: string) {
    super('InvalidAction', `The action ${action} is not valid for this web service.`);
  }
}

// SageMaker Runtime (rest-json; the member is `Message`, see wire.ts).
/** InvokeEndpoint's 400: bad input, or an endpoint that does not exist or does not serve. */
export class RuntimeValidationError extends AwsError {
  constructor(message: string) {
    super('ValidationError', message, 400);
  }
}
/** The container answered non-2xx or did not answer in time (HTTP 424). */
export class ModelError extends AwsError {
  constructor(message: string, extra: { OriginalStatusCode: number; OriginalMessage: string; LogStreamArn: string; ErrorCode: string }) {
    super('ModelError', message, 424, extra);
  }
}
/** No healthy instance can take the request (HTTP 503). */
export class ServiceUnavailable extends AwsError {
  constructor(message: string) {
    super('ServiceUnavailable', message, 503);
  }
}
