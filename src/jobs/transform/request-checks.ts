/**
 * The rules of CreateTransformJob that the model's constraints cannot say
 * (those were checked before the handler ran). Each failure names the member
 * the way the model validator does (`transformInput.splitType`), and all of
 * them are reported at once.
 */
import { ValidationProblems } from '../../api/validation/validator';
import { formatOf } from './data-processing';
import { JsonPathError, parseJsonPath } from './jsonpath';
import type { TransformRequest } from './describe';

/** MaxPayloadInMB and MaxConcurrentTransforms x MaxPayloadInMB may not exceed this (spec 4.1). */
export const MAX_PAYLOAD_MB = 100;


function checkPath(p: ValidationProblems, value: string | undefined, at: string): boolean {
  if (value === undefined || value.trim() === '') return false;
  try {
    return parseJsonPath(value).segments.length > 0;
  } catch (err) {
    if (!(err instanceof JsonPathError)) throw err;
    p.add(value, at, `Member must be a JSONPath expression sagebox supports ($, .name, *, ['a','b'], [i,j], [start:end]): ${err.message}`);
    return false;
  }
}

export function checkCreateTransformJob(req: TransformRequest): void {
  const p = new ValidationProblems();
  const mp = req.MaxPayloadInMB;
  const mc = req.MaxConcurrentTransforms;
  if (mp !== undefined && mp > MAX_PAYLOAD_MB) p.add(mp, 'maxPayloadInMB', `Member must have value less than or equal to ${MAX_PAYLOAD_MB}`);
  else if (mp !== undefined && mc !== undefined && mc * mp > MAX_PAYLOAD_MB) {
    p.add(mc, 'maxConcurrentTransforms', `MaxConcurrentTransforms (${mc}) x MaxPayloadInMB (${mp}) must be less than or equal to ${MAX_PAYLOAD_MB}`);
  }

  const input = req.TransformInput;
  const s3 = input?.DataSource?.S3DataSource;
  const dataType = s3?.S3DataType;
  if (dataType !== undefined && dataType !== 'S3Prefix' && dataType !== 'ManifestFile') {
    p.add(dataType, 'transformInput.dataSource.s3DataSource.s3DataType', 'Member must be S3Prefix or ManifestFile for a transform job (sagebox does not read augmented manifests)');
  }
  p.uri(s3?.S3Uri, 'transformInput.dataSource.s3DataSource.s3Uri');
  p.uri(req.TransformOutput?.S3OutputPath, 'transformOutput.s3OutputPath');
  if (req.DataCaptureConfig) {
    p.add('DataCaptureConfig', 'dataCaptureConfig', 'DataCaptureConfig is not supported by sagebox (batch data capture is not implemented); remove it');
  }

  const dp = req.DataProcessing;
  const split = input?.SplitType ?? 'None';
  const assemble = req.TransformOutput?.AssembleWith ?? 'None';
  const inputFilter = checkPath(p, dp?.InputFilter, 'dataProcessing.inputFilter');
  const outputFilter = checkPath(p, dp?.OutputFilter, 'dataProcessing.outputFilter');
  const join = dp?.JoinSource === 'Input';
  if (join) {
    if (split !== 'Line') p.add(split, 'transformInput.splitType', 'Member must be Line when DataProcessing.JoinSource is Input');
    if (assemble !== 'Line') p.add(assemble, 'transformOutput.assembleWith', 'Member must be Line when DataProcessing.JoinSource is Input');
    const inFormat = formatOf(input?.ContentType);
    const outFormat = formatOf(req.TransformOutput?.Accept);
    if (inFormat && outFormat && inFormat !== outFormat) {
      p.add(req.TransformOutput?.Accept, 'transformOutput.accept', `Member must name the same format as TransformInput.ContentType (${input?.ContentType}) when DataProcessing.JoinSource is Input`);
    }
  }
  if ((inputFilter || outputFilter || join) && (split === 'RecordIO' || split === 'TFRecord')) {
    p.add(split, 'transformInput.splitType', 'DataProcessing (filters, JoinSource) works on CSV and JSON records only, not with SplitType RecordIO or TFRecord');
  }
  if (inputFilter && input?.ContentType && !formatOf(input.ContentType)) {
    p.add(input.ContentType, 'transformInput.contentType', 'Member must be a CSV or JSON content type when DataProcessing.InputFilter is set');
  }

  p.throwIfAny();
}
