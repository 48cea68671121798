/**
 * The rules of CreateProcessingJob that the model's constraints cannot say
 * (those were checked before the handler ran). Each failure names the member
 * the way the model validator does (`processingInputs.1.member.s3Input.localPath`),
 * and all of them are reported at once.
 */
import * as path from 'node:path';
import { ValidationProblems } from '../../api/validation/validator';
import { PROCESSING } from '../../contract/paths';
import type { ProcessingRequest } from '../../contract/processing-config';


/**
 * A container path under /opt/ml/processing/, normalised, or undefined when it
 * is not one. `..` segments that would climb out are refused.
 */
export function processingLocalPath(p: string): string | undefined {
  if (!p.startsWith('/')) return undefined;
  const norm = path.posix.normalize(p).replace(/\/+$/, '');
  return norm.startsWith(PROCESSING.root) && norm.length > PROCESSING.root.length ? norm : undefined;
}

function checkLocalPath(p: ValidationProblems, value: string | undefined, at: string, required: boolean): string | undefined {
  if (value === undefined || value === '') {
    if (required) p.add(value, at, 'Member must not be null (a LocalPath is required unless AppManaged is true)');
    return undefined;
  }
  const norm = processingLocalPath(value);
  if (!norm) p.add(value, at, `Member must be an absolute path that starts with ${PROCESSING.root}`);
  return norm;
}

function checkUnique(p: ValidationProblems, items: { value: string; at: string }[], what: string): void {
  const seen = new Set<string>();
  for (const i of items) {
    if (seen.has(i.value)) p.add(i.value, i.at, `${what} must be unique within the job`);
    seen.add(i.value);
  }
}

export function checkCreateProcessingJob(req: ProcessingRequest): void {
  const p = new ValidationProblems();
  if (!req.AppSpecification?.ImageUri) p.add(req.AppSpecification?.ImageUri, 'appSpecification.imageUri', 'Member must not be empty');

  const inputNames: { value: string; at: string }[] = [];
  const inputPaths: { value: string; at: string }[] = [];
  (req.ProcessingInputs ?? []).forEach((input, idx) => {
    const at = `processingInputs.${idx + 1}.member`;
    if (input.InputName !== undefined) inputNames.push({ value: input.InputName, at: `${at}.inputName` });
    if (input.DatasetDefinition) {
      p.add('DatasetDefinition', `${at}.datasetDefinition`, 'DatasetDefinition inputs (Athena, Redshift) are not supported by sagebox; stage the query result in S3 and use S3Input');
      return;
    }
    const s3 = input.S3Input;
    if (!s3) {
      p.add(null, `${at}.s3Input`, 'Member must not be null (an input needs S3Input or DatasetDefinition)');
      return;
    }
    const mode = s3.S3InputMode ?? 'File';
    if (mode !== 'Pipe' && s3.S3CompressionType === 'Gzip') {
      p.add(s3.S3CompressionType, `${at}.s3Input.s3CompressionType`, 'Gzip compression is only valid with S3InputMode Pipe; use None with File mode');
    }
    p.uri(s3.S3Uri, `${at}.s3Input.s3Uri`);
    const local = checkLocalPath(p, s3.LocalPath, `${at}.s3Input.localPath`, input.AppManaged !== true);
    if (local) inputPaths.push({ value: local, at: `${at}.s3Input.localPath` });
  });
  checkUnique(p, inputNames, 'InputName');
  checkUnique(p, inputPaths, 'The LocalPath of each input');

  const outputNames: { value: string; at: string }[] = [];
  const outputPaths: { value: string; at: string }[] = [];
  (req.ProcessingOutputConfig?.Outputs ?? []).forEach((output, idx) => {
    const at = `processingOutputConfig.outputs.${idx + 1}.member`;
    if (output.OutputName !== undefined) outputNames.push({ value: output.OutputName, at: `${at}.outputName` });
    if (output.FeatureStoreOutput && output.AppManaged !== true) {
      p.add('FeatureStoreOutput', `${at}.featureStoreOutput`, 'FeatureStoreOutput is not supported by sagebox unless AppManaged is true (the container writes to the feature store itself)');
    }
    const s3 = output.S3Output;
    if (!s3) {
      if (!output.FeatureStoreOutput) p.add(null, `${at}.s3Output`, 'Member must not be null (an output needs S3Output or FeatureStoreOutput)');
      return;
    }
    p.uri(s3.S3Uri, `${at}.s3Output.s3Uri`);
    const local = checkLocalPath(p, s3.LocalPath, `${at}.s3Output.localPath`, output.AppManaged !== true);
    if (local) outputPaths.push({ value: local, at: `${at}.s3Output.localPath` });
  });
  checkUnique(p, outputNames, 'OutputName');
  checkUnique(p, outputPaths, 'The LocalPath of each output');

  p.throwIfAny();
}
