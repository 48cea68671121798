/**
 * One class per S3 error code, worded as S3 words them. Handlers throw
 * these (or storage errors, which toS3Error maps); s3-service.ts is the one
 * place that writes them to the wire (send.ts).
 */
import {
  BucketNotEmptyError,
  EntityTooSmallError,
  InvalidBucketNameError,
  InvalidObjectKeyError,
  InvalidPartError,
  InvalidPartOrderError,
  InvalidRangeError,
  NoSuchBucketError,
  NoSuchObjectError,
  NoSuchUploadError,
  ObjectKeyConflictError,
} from '../../storage/errors';

export class S3Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    /** Extra members of the <Error> body, in order (Key, BucketName, ...). */
    readonly fields: Record<string, string | number | undefined> = {},
    /** Extra response headers. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = code;
  }
}

export class NoSuchKey extends S3Error {
  constructor(key: string) {
    super('NoSuchKey', 'The specified key does not exist.', 404, { Key: key });
  }
}
export class NoSuchBucket extends S3Error {
  constructor(bucket: string) {
    super('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: bucket });
  }
}
export class NoSuchUpload extends S3Error {
  constructor(uploadId: string) {
    super('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', 404, { UploadId: uploadId });
  }
}
export class BucketNotEmpty extends S3Error {
  constructor(bucket: string) {
    super('BucketNotEmpty', 'The bucket you tried to delete is not empty', 409, { BucketName: bucket });
  }
}
export class BucketAlreadyOwnedByYou extends S3Error {
  constructor(bucket: string) {
    super('BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', 409, { BucketName: bucket });
  }
}
export class InvalidBucketName extends S3Error {
  constructor(bucket: string, reason?: string) {
    super('InvalidBucketName', `The specified bucket is not valid.${reason ? ` (${reason})` : ''}`, 400, { BucketName: bucket });
  }
}
export class KeyTooLongError extends S3Error {
  constructor() {
    super('KeyTooLongError', 'Your key is too long', 400, { MaxSizeAllowed: 1024 });
  }
}
export class InvalidRange extends S3Error {
  constructor(range: string, size: number) {
    super('InvalidRange', 'The requested range is not satisfiable', 416, { RangeRequested: range, ActualObjectSize: size }, { 'content-range': `bytes */${size}` });
  }
}
export class InvalidPartNumber extends S3Error {
  constructor() {
    super('InvalidPartNumber', 'The requested partnumber is not satisfiable', 416);
  }
}
export class InvalidPart extends S3Error {
  constructor(detail: string) {
    super('InvalidPart', `One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag. (${detail})`);
  }
}
export class InvalidPartOrder extends S3Error {
  constructor() {
    super('InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.');
  }
}
export class EntityTooSmall extends S3Error {
  constructor(size: number, min: number) {
    super('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.', 400, { ProposedSize: size, MinSizeAllowed: min });
  }
}
export class EntityTooLarge extends S3Error {
  constructor(size: number, max: number) {
    super('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', 400, { ProposedSize: size, MaxSizeAllowed: max });
  }
}
export class MetadataTooLarge extends S3Error {
  constructor(size: number, max: number) {
    super('MetadataTooLarge', 'Your metadata headers exceed the maximum allowed metadata size.', 400, { Size: size, MaxSizeAllowed: max });
  }
}
export class InvalidArgument extends S3Error {
  constructor(message: string, name?: string, value?: string) {
    super('InvalidArgument', message, 400, { ArgumentName: name, ArgumentValue: value });
  }
}
export class InvalidRequest extends S3Error {
  constructor(message: string) {
    super('InvalidRequest', message);
  }
}
/** A path that does not percent-decode. */
export class InvalidURI extends S3Error {
  constructor() {
    super('InvalidURI', "Couldn't parse the specified URI.");
  }
}
export class MalformedXML extends S3Error {
  constructor() {
    super('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
  }
}
export class InvalidDigest extends S3Error {
  constructor() {
    super('InvalidDigest', 'The Content-MD5 you specified was invalid.');
  }
}
export class BadDigest extends S3Error {
  constructor(what = 'Content-MD5') {
    super('BadDigest', what === 'Content-MD5' ? 'The Content-MD5 you specified did not match what we received.' : `The ${what} you specified did not match the calculated checksum.`);
  }
}
export class XAmzContentSHA256Mismatch extends S3Error {
  constructor(client: string, computed: string) {
    super('XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", 400, {
      ClientComputedContentSHA256: client,
      S3ComputedContentSHA256: computed,
    });
  }
}
export class IncompleteBody extends S3Error {
  constructor() {
    super('IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header');
  }
}
export class PreconditionFailed extends S3Error {
  constructor(condition: string) {
    super('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412, { Condition: condition });
  }
}
/** 304: not an error to the client, but it ends the request the same way. */
export class NotModified extends S3Error {
  constructor(headers: Record<string, string>) {
    super('NotModified', 'Not Modified', 304, {}, headers);
  }
}
export class MethodNotAllowed extends S3Error {
  constructor(method: string, resource: string) {
    super('MethodNotAllowed', 'The specified method is not allowed against this resource.', 405, { Method: method, ResourceType: resource });
  }
}
export class NotImplemented extends S3Error {
  constructor(what: string) {
    super('NotImplemented', `A header or query you provided implies functionality that is not implemented by sagebox: ${what}`, 501);
  }
}
export class IllegalLocationConstraint extends S3Error {
  constructor(constraint: string, region: string) {
    super('IllegalLocationConstraintException', `The ${constraint} location constraint is incompatible for the region specific endpoint this request was sent to (${region}).`);
  }
}

// Authentication, as S3 words it.
export class AccessDenied extends S3Error {
  constructor(message = 'Access Denied') {
    super('AccessDenied', message, 403);
  }
}
export class InvalidAccessKeyId extends S3Error {
  constructor(accessKeyId: string) {
    super('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', 403, { AWSAccessKeyId: accessKeyId });
  }
}
export class SignatureDoesNotMatch extends S3Error {
  constructor(accessKeyId?: string) {
    super('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', 403, {
      AWSAccessKeyId: accessKeyId,
    });
  }
}
export class RequestTimeTooSkewed extends S3Error {
  constructor(requestTime: string, serverTime: string) {
    super('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', 403, {
      RequestTime: requestTime,
      ServerTime: serverTime,
      MaxAllowedSkewMilliseconds: 900000,
    });
  }
}
export class AuthorizationHeaderMalformed extends S3Error {
  constructor(message: string) {
    super('AuthorizationHeaderMalformed', message);
  }
}
export class AuthorizationQueryParametersError extends S3Error {
  constructor(message: string) {
    super('AuthorizationQueryParametersError', message);
  }
}

export class InternalError extends S3Error {
  constructor() {
    super('InternalError', 'We encountered an internal error. Please try again.', 500);
  }
}

/** Maps what storage throws to the S3 error; anything else is an InternalError (logged by the caller). */
export function toS3Error(err: unknown): S3Error | undefined {
  if (err instanceof S3Error) return err;
  if (err instanceof NoSuchBucketError) return new NoSuchBucket(err.bucket);
  if (err instanceof NoSuchObjectError) return new NoSuchKey(err.key);
  if (err instanceof NoSuchUploadError) return new NoSuchUpload(err.uploadId);
  if (err instanceof BucketNotEmptyError) return new BucketNotEmpty(err.bucket);
  if (err instanceof InvalidBucketNameError) return new InvalidBucketName(err.bucket, err.reason);
  if (err instanceof ObjectKeyConflictError) {
    return new S3Error('InvalidArgument', `sagebox's local store cannot hold this key: ${err.message}`, 409, { ArgumentName: 'key', ArgumentValue: err.key });
  }
  if (err instanceof InvalidObjectKeyError) {
    if (Buffer.byteLength(err.key) > 1024) return new KeyTooLongError();
    return new InvalidArgument(`sagebox refuses this object key: ${err.message}`, 'key', err.key);
  }
  if (err instanceof InvalidRangeError) return new InvalidRange(`bytes=${err.start}-`, err.size ?? 0);
  if (err instanceof InvalidPartOrderError) return new InvalidPartOrder();
  if (err instanceof InvalidPartError) return new InvalidPart(err.message);
  if (err instanceof EntityTooSmallError) return new EntityTooSmall(err.size, err.minSize);
  return undefined;
}
