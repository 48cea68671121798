/**
 * CreateModelPackageGroup, DescribeModelPackageGroup, ListModelPackageGroups,
 * DeleteModelPackageGroup. A group numbers its versions 1, 2, ...; a number
 * is never given twice, even after its version is deleted.
 */
import type { DescribeModelPackageGroupOutput, ModelPackageGroupSummary } from '@aws-sdk/client-sagemaker';
import type { AppContext } from '../../app/context';
import type { Wire } from '../../api/sagemaker/wire-types';
import { ConflictException, ValidationException } from '../../api/errors';
import { DuplicateResourceError, InvalidNextTokenError, ResourceRepo, type ListQuery, type ResourceRow } from '../../store/resource-repo';
import type { TagInput } from '../../store/resource-tags';
import { epochSeconds } from '../../util/clock';

export type GroupDoc = Wire<DescribeModelPackageGroupOutput>;
export interface GroupInternal {
  /** The highest version number given so far. */
  latestVersion: number;
}
export type GroupRow = ResourceRow<GroupDoc, GroupInternal>;

export interface CreateGroupRequest {
  ModelPackageGroupName?: string;
  ModelPackageGroupDescription?: string;
  Tags?: TagInput[];
}

export class ModelPackageGroups {
  readonly repo: ResourceRepo<GroupDoc, GroupInternal>;

  constructor(private readonly ctx: AppContext, private readonly versionsOf: (group: string) => number) {
    this.repo = new ResourceRepo<GroupDoc, GroupInternal>(ctx.db, 'model-package-group');
  }

  notFound(name: string): ValidationException {
    return new ValidationException(`ModelPackageGroup ${this.ctx.arns.of('model-package-group', name)} does not exist.`);
  }

  get(nameOrArn: string): GroupRow {
    const name = this.ctx.arns.nameFrom('model-package-group', nameOrArn);
    const row = this.repo.get(name);
    if (!row) throw this.notFound(name);
    return row;
  }

  create(req: CreateGroupRequest): { ModelPackageGroupArn: string } {
    const name = req.ModelPackageGroupName!;
    const arn = this.ctx.arns.of('model-package-group', name);
    const now = epochSeconds(this.ctx.clock.now());
    const doc: GroupDoc = { ModelPackageGroupName: name, ModelPackageGroupArn: arn, CreationTime: now, CreatedBy: {}, ModelPackageGroupStatus: 'Completed' };
    if (req.ModelPackageGroupDescription !== undefined) doc.ModelPackageGroupDescription = req.ModelPackageGroupDescription;
    try {
      this.repo.insert({ name, arn, status: 'Completed', creationTime: now, lastModifiedTime: now, doc, internal: { latestVersion: 0 } }, req.Tags);
    } catch (err) {
      if (err instanceof DuplicateResourceError) throw new ValidationException(`Model Package Group already exists: ${err.existing.arn}`);
      throw err;
    }
    this.ctx.logger.info({ group: name, arn }, 'model package group created');
    return { ModelPackageGroupArn: arn };
  }

  /** Reserves the next version number of a group (persisted before the version is stored). */
  nextVersion(group: string): number {
    let version = 0;
    this.repo.update(group, (r) => {
      r.internal.latestVersion = (r.internal.latestVersion ?? 0) + 1;
      version = r.internal.latestVersion;
    });
    if (!version) throw this.notFound(group);
    return version;
  }

  list(input: ListQuery & { CrossAccountFilterOption?: string }): { ModelPackageGroupSummaryList: Wire<ModelPackageGroupSummary>[]; NextToken?: string } {
    // Every group sagebox holds belongs to its one account.
    if (input.CrossAccountFilterOption === 'CrossAccount') return { ModelPackageGroupSummaryList: [] };
    try {
      const { items, nextToken } = this.repo.list({ ...input, StatusEquals: undefined }, 'Ascending');
      const list = items.map((r) => {
        const { CreatedBy, ...summary } = r.doc;
        void CreatedBy;
        return summary as Wire<ModelPackageGroupSummary>;
      });
      return nextToken ? { ModelPackageGroupSummaryList: list, NextToken: nextToken } : { ModelPackageGroupSummaryList: list };
    } catch (err) {
      if (err instanceof InvalidNextTokenError) throw new ValidationException('Invalid pagination token');
      throw err;
    }
  }

  delete(nameOrArn: string): void {
    const row = this.get(nameOrArn);
    const versions = this.versionsOf(row.name);
    if (versions > 0) throw new ConflictException(`Model Package Group ${row.arn} still has ${versions} model package version(s): delete them first.`);
    this.repo.delete(row.name);
    this.ctx.logger.info({ group: row.name }, 'model package group deleted');
  }
}
