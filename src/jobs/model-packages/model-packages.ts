/**
 * Model packages as a resource (spec 6.3): unversioned ones by
 * ModelPackageName (ARN model-package/<name>), versioned ones in a group
 * (ModelPackageVersion 1, 2, ...; ARN model-package/<group>/<version>), with
 * an InferenceSpecification or a SourceAlgorithmSpecification. Completed at
 * once, or Pending until the validation runner has run the profile's
 * transform job.
 */
import type { CreateModelPackageInput, ListModelPackagesInput, ModelPackageSummary } from '@aws-sdk/client-sagemaker';
import type { AppContext } from '../../app/context';
import type { Wire } from '../../api/sagemaker/wire-types';
import { ValidationException } from '../../api/errors';
import { offsetFromToken, offsetToken, type ResourceRepo, type ResourceRow } from '../../store/resource-repo';
import { StorageError } from '../../storage/errors';
import { epochSeconds } from '../../util/clock';
import { algorithmNotFound, algorithmRepo, findAlgorithm } from '../algorithms/algorithms';
import { inferenceProblems } from '../algorithms/definition-checks';
import { initialItems, type ProductStatus, type ValidatedInternal } from '../algorithms/status';
import { ModelPackageGroups } from './model-package-groups';
import { modelPackageNotFound, modelPackageRepo, packageContainer, packageKey, type ModelPackageDoc } from './package-container';
import { applyUpdate, updateProblems, type UpdatePackageRequest } from './package-update';

export type ModelPackageRequest = Wire<CreateModelPackageInput>;
/** clientToken: CreateModelPackage's; updateToken: the last UpdateModelPackage's ClientToken. */
type PackageInternal = ValidatedInternal & { clientToken?: string; updateToken?: string };
export type PackageRow = ResourceRow<ModelPackageDoc, PackageInternal>;

/** Request members that are not part of the Describe answer. */
const NOT_ECHOED = new Set(['Tags', 'ClientToken', 'ModelPackageName', 'ModelPackageGroupName']);

export class ModelPackages {
  readonly repo: ResourceRepo<ModelPackageDoc, PackageInternal>;
  readonly groups: ModelPackageGroups;

  constructor(private readonly ctx: AppContext, private readonly validate: () => void) {
    this.repo = modelPackageRepo(ctx);
    this.groups = new ModelPackageGroups(ctx, (group) => this.repo.all().filter((r) => r.doc.ModelPackageGroupName?.toLowerCase() === group.toLowerCase()).length);
  }

  get(nameOrArn: string): PackageRow {
    const key = packageKey(this.ctx, nameOrArn);
    const row = this.repo.get(key);
    if (!row) throw modelPackageNotFound(this.ctx, key);
    return row;
  }

  async create(req: ModelPackageRequest): Promise<{ ModelPackageArn: string }> {
    if (req.ClientToken) {
      const same = this.repo.all().find((r) => r.internal.clientToken === req.ClientToken);
      if (same) return { ModelPackageArn: same.arn };
    }
    if (!!req.ModelPackageName === !!req.ModelPackageGroupName) {
      throw new ValidationException('Specify exactly one of ModelPackageName (an unversioned package) and ModelPackageGroupName (a version in a model package group).');
    }
    if (req.ModelPackageName && !req.InferenceSpecification && !req.SourceAlgorithmSpecification) {
      throw new ValidationException('An unversioned model package needs an InferenceSpecification or a SourceAlgorithmSpecification.');
    }
    const problems = [...inferenceProblems(req.InferenceSpecification, 'inferenceSpecification'), ...this.sourceProblems(req)];
    if (problems.length) throw new ValidationException(problems.join(' '));
    await this.requireModelData(req);

    const now = epochSeconds(this.ctx.clock.now());
    const profiles = req.SkipModelValidation === 'All' ? [] : (req.ValidationSpecification?.ValidationProfiles ?? []);
    const status: ProductStatus = profiles.length ? 'Pending' : 'Completed';
    const doc = {} as ModelPackageDoc;
    for (const [k, v] of Object.entries(req)) if (!NOT_ECHOED.has(k) && v !== undefined) (doc as Record<string, unknown>)[k] = structuredClone(v);
    let key: string;
    if (req.ModelPackageGroupName) {
      const group = this.groups.get(req.ModelPackageGroupName);
      const version = this.groups.nextVersion(group.name);
      key = `${group.name}/${version}`;
      Object.assign(doc, { ModelPackageName: group.name, ModelPackageGroupName: group.name, ModelPackageVersion: version });
      doc.ModelApprovalStatus = req.ModelApprovalStatus ?? 'PendingManualApproval';
    } else {
      key = req.ModelPackageName!;
      doc.ModelPackageName = key;
    }
    const arn = this.ctx.arns.of('model-package', key);
    Object.assign(doc, {
      ModelPackageArn: arn,
      CreationTime: now,
      LastModifiedTime: now,
      ModelPackageStatus: status,
      ModelPackageStatusDetails: { ValidationStatuses: initialItems(profiles), ImageScanStatuses: [] },
      CertifyForMarketplace: req.CertifyForMarketplace ?? false,
    });
    const internal: PackageInternal = {};
    if (req.ClientToken) internal.clientToken = req.ClientToken;
    if (this.repo.get(key)) throw new ValidationException(`Cannot create already existing model package "${arn}".`);
    this.repo.insert({ name: key, arn, status, creationTime: now, lastModifiedTime: now, doc, internal }, req.Tags);
    this.ctx.logger.info({ modelPackage: key, arn, status }, 'model package created');
    if (status === 'Pending') this.validate();
    return { ModelPackageArn: arn };
  }

  private sourceProblems(req: ModelPackageRequest): string[] {
    const sources = req.SourceAlgorithmSpecification?.SourceAlgorithms ?? [];
    const out: string[] = [];
    sources.forEach((s, i) => {
      const at = `sourceAlgorithmSpecification.sourceAlgorithms.${i + 1}.member`;
      const alg = findAlgorithm(this.ctx, algorithmRepo(this.ctx), s.AlgorithmName ?? '');
      if (!alg) return out.push(algorithmNotFound(this.ctx, this.ctx.arns.nameFrom('algorithm', s.AlgorithmName ?? '')).message);
      if (alg.doc.AlgorithmStatus !== 'Completed') out.push(`Algorithm ${alg.arn} ('${at}.algorithmName') is in status ${alg.doc.AlgorithmStatus}; only a Completed algorithm can be a source.`);
      if (!alg.doc.InferenceSpecification?.Containers?.[0]?.Image && !req.InferenceSpecification) out.push(`Algorithm ${alg.arn} has no InferenceSpecification, so a package made from it cannot serve.`);
      if (!s.ModelDataUrl && !s.ModelDataSource && !req.InferenceSpecification?.Containers?.[0]?.ModelDataUrl) out.push(`'${at}.modelDataUrl' is required: the artifacts of a training job of the algorithm.`);
    });
    return out;
  }

  /** Model data named by the package must be in the store, as CreateModel requires. */
  private async requireModelData(req: ModelPackageRequest): Promise<void> {
    const uris = [
      ...(req.InferenceSpecification?.Containers ?? []).map((c) => c.ModelDataUrl),
      ...(req.SourceAlgorithmSpecification?.SourceAlgorithms ?? []).map((s) => s.ModelDataUrl),
    ].filter((u): u is string => !!u);
    for (const uri of uris) {
      let found = false;
      try {
        found = await this.ctx.transfer.exists(uri);
      } catch (err) {
        if (!(err instanceof StorageError)) throw err;
        throw new ValidationException(`Could not find model data at ${uri}: ${err.message}`);
      }
      if (!found) throw new ValidationException(`Could not find model data at ${uri}.`);
    }
  }

  describe(nameOrArn: string): ModelPackageDoc {
    return this.get(nameOrArn).doc;
  }

  list(q: Wire<ListModelPackagesInput>): { ModelPackageSummaryList: Wire<ModelPackageSummary>[]; NextToken?: string } {
    const group = q.ModelPackageGroupName ? this.ctx.arns.nameFrom('model-package-group', q.ModelPackageGroupName).toLowerCase() : undefined;
    const type = group ? 'Versioned' : (q.ModelPackageType ?? 'Unversioned');
    const needle = q.NameContains?.toLowerCase();
    let rows = this.repo.all().filter((r) => {
      const d = r.doc;
      const versioned = d.ModelPackageVersion !== undefined;
      if (type === 'Versioned' && !versioned) return false;
      if (type === 'Unversioned' && versioned) return false;
      if (group && d.ModelPackageGroupName?.toLowerCase() !== group) return false;
      if (needle && !(d.ModelPackageName ?? '').toLowerCase().includes(needle)) return false;
      if (q.ModelApprovalStatus && d.ModelApprovalStatus !== q.ModelApprovalStatus) return false;
      if (q.CreationTimeAfter !== undefined && !(r.creationTime > q.CreationTimeAfter)) return false;
      if (q.CreationTimeBefore !== undefined && !(r.creationTime < q.CreationTimeBefore)) return false;
      return true;
    });
    const byName = (a: PackageRow, b: PackageRow): number => a.name.toLowerCase().localeCompare(b.name.toLowerCase(), 'en', { numeric: true }) || a.creationTime - b.creationTime;
    const byTime = (a: PackageRow, b: PackageRow): number => a.creationTime - b.creationTime || byName(a, b);
    rows.sort(q.SortBy === 'Name' ? byName : byTime);
    if ((q.SortOrder ?? 'Ascending') === 'Descending') rows.reverse();
    const offset = offsetFromToken(q.NextToken, () => new ValidationException('Invalid pagination token: pass the NextToken of a previous ListModelPackages response unchanged.'));
    const limit = q.MaxResults ?? 10;
    const more = rows.length > offset + limit;
    rows = rows.slice(offset, offset + limit);
    const list = rows.map((r) => {
      const d = r.doc;
      const s: Wire<ModelPackageSummary> = { ModelPackageName: d.ModelPackageName, ModelPackageArn: d.ModelPackageArn, CreationTime: d.CreationTime, ModelPackageStatus: d.ModelPackageStatus };
      for (const k of ['ModelPackageGroupName', 'ModelPackageVersion', 'ModelPackageDescription', 'ModelApprovalStatus', 'ModelLifeCycle', 'ModelPackageRegistrationType'] as const) {
        if (d[k] !== undefined) (s as Record<string, unknown>)[k] = d[k];
      }
      return s;
    });
    return more ? { ModelPackageSummaryList: list, NextToken: offsetToken(offset + limit) } : { ModelPackageSummaryList: list };
  }

  /**
   * UpdateModelPackage (src/jobs/model-packages/package-update.ts), checked
   * and applied in one transaction. Repeating the last update's ClientToken
   * answers again without applying the update twice.
   */
  update(req: UpdatePackageRequest): { ModelPackageArn: string } {
    const key = packageKey(this.ctx, req.ModelPackageArn!);
    const now = epochSeconds(this.ctx.clock.now());
    const row = this.repo.update(key, (r) => {
      if (req.ClientToken && r.internal.updateToken === req.ClientToken) return;
      const problems = updateProblems(r.doc, req);
      if (problems.length) throw new ValidationException(problems.join(' '));
      applyUpdate(r.doc, req, now);
      r.lastModifiedTime = now;
      if (req.ClientToken) r.internal.updateToken = req.ClientToken;
    });
    if (!row) throw modelPackageNotFound(this.ctx, key);
    this.ctx.logger.info({ modelPackage: key, approval: row.doc.ModelApprovalStatus }, 'model package updated');
    return { ModelPackageArn: row.arn };
  }

  delete(nameOrArn: string): void {
    const row = this.get(nameOrArn);
    this.repo.delete(row.name);
    this.ctx.logger.info({ modelPackage: row.name }, 'model package deleted');
  }

  /** The container a deployable package runs as (for the validation transform). */
  container(row: PackageRow) {
    return packageContainer(this.ctx, row.doc);
  }
}

