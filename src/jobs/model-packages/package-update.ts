/**
 * UpdateModelPackage on a stored package document: the approval of a
 * version (ModelApprovalStatus, ApprovalDescription), its customer metadata
 * (added, replaced, removed), AdditionalInferenceSpecifications appended to,
 * and the members that are plain records (SourceUri, ModelCard,
 * ModelLifeCycle, ModelPackageRegistrationType).
 *
 * InferenceSpecification is refused: it is what CreateModel deploys and what
 * a validation profile ran, so changing it would need CreateModelPackage's
 * checks and a new validation; sagebox does not do that yet
 * (docs/algorithms.md). A package is updated whatever its
 * ModelPackageStatus, as DescribeModelPackage and DeleteModelPackage accept
 * any status.
 */
import type { UpdateModelPackageInput } from '@aws-sdk/client-sagemaker';
import type { Wire } from '../../api/sagemaker/wire-types';
import type { ModelPackageDoc } from './package-container';

export type UpdatePackageRequest = Wire<UpdateModelPackageInput>;

/** The AWS model's maxima: CustomerMetadataMap and AdditionalInferenceSpecifications. */
const MAX_METADATA = 50;
const MAX_ADDITIONAL = 15;

/** Members whose new value replaces the stored one as given. */
const REPLACED = ['ModelApprovalStatus', 'ApprovalDescription', 'SourceUri', 'ModelLifeCycle', 'ModelPackageRegistrationType'] as const;

/** Members only a version in a group has (CreateModelPackage: "does not apply to unversioned models"). */
const APPROVAL = ['ModelApprovalStatus', 'ApprovalDescription'] as const;

/** Why the request cannot be applied to the package (empty when it can). */
export function updateProblems(doc: ModelPackageDoc, req: UpdatePackageRequest): string[] {
  return [...unsupported(req), ...approvalProblems(doc, req), ...metadataProblems(doc, req), ...additionalProblems(doc, req), ...modelCardProblems(doc, req)];
}

/** Applies a request that updateProblems accepted; the caller persists the document. */
export function applyUpdate(doc: ModelPackageDoc, req: UpdatePackageRequest, now: number): void {
  const record = doc as Record<string, unknown>;
  for (const k of REPLACED) if (req[k] !== undefined) record[k] = structuredClone(req[k]);
  const metadata = mergedMetadata(doc, req);
  if (Object.keys(metadata).length) doc.CustomerMetadataProperties = metadata;
  else delete doc.CustomerMetadataProperties;
  if (req.AdditionalInferenceSpecificationsToAdd) {
    doc.AdditionalInferenceSpecifications = [...(doc.AdditionalInferenceSpecifications ?? []), ...structuredClone(req.AdditionalInferenceSpecificationsToAdd)];
  }
  if (req.ModelCard) doc.ModelCard = { ...doc.ModelCard, ...structuredClone(req.ModelCard) };
  doc.LastModifiedTime = now;
  // sagebox records no caller identity on its resources (model package groups' CreatedBy is {} alike).
  doc.LastModifiedBy = {};
}

function unsupported(req: UpdatePackageRequest): string[] {
  if (req.InferenceSpecification === undefined) return [];
  return ['sagebox does not support updating the InferenceSpecification of a model package yet (CreateModel deploys it and validation ran it): create a new version with it instead.'];
}

function approvalProblems(doc: ModelPackageDoc, req: UpdatePackageRequest): string[] {
  if (doc.ModelPackageVersion !== undefined) return [];
  return APPROVAL.filter((k) => req[k] !== undefined).map(
    (k) => `${k} does not apply to the unversioned model package ${doc.ModelPackageArn}: only a version in a model package group has an approval status.`,
  );
}

function metadataProblems(doc: ModelPackageDoc, req: UpdatePackageRequest): string[] {
  const both = (req.CustomerMetadataPropertiesToRemove ?? []).filter((k) => req.CustomerMetadataProperties?.[k] !== undefined);
  if (both.length) return [`CustomerMetadataProperties and CustomerMetadataPropertiesToRemove both name ${both.join(', ')}: add or remove a key, not both.`];
  const count = Object.keys(mergedMetadata(doc, req)).length;
  return count > MAX_METADATA ? [`CustomerMetadataProperties would hold ${count} keys; a model package holds at most ${MAX_METADATA}.`] : [];
}

/** The stored metadata with the request's keys set, then its keys to remove removed. */
function mergedMetadata(doc: ModelPackageDoc, req: UpdatePackageRequest): Record<string, string> {
  const out: Record<string, string> = { ...doc.CustomerMetadataProperties, ...req.CustomerMetadataProperties };
  for (const k of req.CustomerMetadataPropertiesToRemove ?? []) delete out[k];
  return out;
}

function additionalProblems(doc: ModelPackageDoc, req: UpdatePackageRequest): string[] {
  const added = req.AdditionalInferenceSpecificationsToAdd ?? [];
  if (!added.length) return [];
  const names = [...(doc.AdditionalInferenceSpecifications ?? []), ...added].map((s) => s.Name ?? '');
  const repeated = [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
  const out = repeated.map((n) => `AdditionalInferenceSpecificationsToAdd: the name ${n} is already used by an additional inference specification of ${doc.ModelPackageArn}; names must be unique.`);
  if (names.length > MAX_ADDITIONAL) out.push(`AdditionalInferenceSpecificationsToAdd: ${doc.ModelPackageArn} would have ${names.length} additional inference specifications; the total can not exceed ${MAX_ADDITIONAL}.`);
  return out;
}

/** "Archived: No more updates can be made to the model card content." */
function modelCardProblems(doc: ModelPackageDoc, req: UpdatePackageRequest): string[] {
  if (doc.ModelCard?.ModelCardStatus !== 'Archived' || req.ModelCard?.ModelCardContent === undefined) return [];
  return [`Model Card is in Archived state: the ModelCardContent of ${doc.ModelPackageArn} can no longer be updated.`];
}
