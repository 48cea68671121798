/**
 * CreateModelPackage, DescribeModelPackage, ListModelPackages,
 * UpdateModelPackage, DeleteModelPackage and the model package group
 * operations. Input arrives validated against the model;
 * src/jobs/model-packages does the rest.
 */
import type { ListModelPackagesInput } from '@aws-sdk/client-sagemaker';
import type { ModelPackages, ModelPackageRequest } from '../../jobs/model-packages/model-packages';
import type { CreateGroupRequest } from '../../jobs/model-packages/model-package-groups';
import type { UpdatePackageRequest } from '../../jobs/model-packages/package-update';
import type { ListQuery } from '../../store/resource-repo';
import type { JsonHandler } from '../registry';
import type { Wire } from './wire-types';

export function modelPackageHandlers(packages: ModelPackages): Record<string, JsonHandler> {
  const groups = packages.groups;
  return {
    CreateModelPackage: (input) => packages.create(input as ModelPackageRequest),
    DescribeModelPackage: (input) => packages.describe(String(input.ModelPackageName)),
    ListModelPackages: (input) => packages.list(input as Wire<ListModelPackagesInput>),
    UpdateModelPackage: (input) => packages.update(input as UpdatePackageRequest),
    DeleteModelPackage: (input) => {
      packages.delete(String(input.ModelPackageName));
      return {};
    },
    CreateModelPackageGroup: (input) => groups.create(input as CreateGroupRequest),
    DescribeModelPackageGroup: (input) => groups.get(String(input.ModelPackageGroupName)).doc,
    ListModelPackageGroups: (input) => groups.list(input as ListQuery),
    DeleteModelPackageGroup: (input) => {
      groups.delete(String(input.ModelPackageGroupName));
      return {};
    },
  };
}
