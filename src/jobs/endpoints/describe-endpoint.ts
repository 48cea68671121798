/**
 * DescribeEndpoint and ListEndpoints documents: the stored part of the row
 * plus what the fleet reports now (instance counts, weights, images).
 */
import type { DescribeEndpointOutput, EndpointSummary, PendingProductionVariantSummary, ProductionVariantSummary } from '@aws-sdk/client-sagemaker';
import type { Wire } from '../../api/sagemaker/wire-types';
import type { EndpointRuntime, Fleet } from './endpoint-runtime';
import type { Deployment, EndpointRow, VariantPlan } from './types';

type VariantStatusItem = NonNullable<Wire<ProductionVariantSummary>['VariantStatus']>[number];

function deployedImages(plan: VariantPlan): Wire<ProductionVariantSummary>['DeployedImages'] {
  const image: NonNullable<Wire<ProductionVariantSummary>['DeployedImages']>[number] = { SpecifiedImage: plan.model.image };
  if (plan.resolvedImage) image.ResolvedImage = plan.resolvedImage;
  if (plan.resolutionTime !== undefined) image.ResolutionTime = plan.resolutionTime;
  return [image];
}

function readyCount(fleet: Fleet | undefined, variant: string): number {
  return fleet?.routes.variant(variant)?.ready.length ?? 0;
}

function variantStatus(status: string, startTime: number | undefined, ready: number, desired: number): VariantStatusItem[] {
  const item = (s: VariantStatusItem['Status'], msg: string): VariantStatusItem[] => [{ Status: s, StatusMessage: msg, ...(startTime !== undefined ? { StartTime: startTime } : {}) }];
  if (status === 'Creating') return item('Creating', `${ready} of ${desired} instances passed the ping health check`);
  if (status === 'Updating' && ready !== desired) return item('Updating', `${ready} of ${desired} instances in service`);
  if (status === 'Deleting') return item('Deleting', 'Stopping instances');
  return [];
}

function summaries(dep: Deployment, fleet: Fleet | undefined, status: string, startTime: number | undefined): Wire<ProductionVariantSummary>[] {
  return dep.variants.map((plan) => {
    const ready = readyCount(fleet, plan.variantName);
    const current = fleet?.routes.variant(plan.variantName)?.weight ?? plan.weight;
    return {
      VariantName: plan.variantName,
      DeployedImages: deployedImages(plan),
      CurrentWeight: current,
      DesiredWeight: plan.weight,
      CurrentInstanceCount: ready,
      DesiredInstanceCount: plan.desiredCount,
      VariantStatus: variantStatus(status, startTime, ready, plan.desiredCount),
    };
  });
}

export function describeEndpoint(row: EndpointRow, ep: EndpointRuntime | undefined): Wire<DescribeEndpointOutput> {
  const d = row.doc;
  const out: Wire<DescribeEndpointOutput> = {
    EndpointName: d.EndpointName,
    EndpointArn: d.EndpointArn,
    EndpointConfigName: d.EndpointConfigName,
    EndpointStatus: d.EndpointStatus,
    CreationTime: d.CreationTime,
    LastModifiedTime: d.LastModifiedTime,
  };
  const { active, pending, operationStartedAt } = row.internal;
  if (active) {
    const fleet = ep?.fleets.get(active.generation);
    const activeStatus = d.EndpointStatus === 'Updating' && pending ? 'InService' : d.EndpointStatus;
    out.ProductionVariants = summaries(active, fleet, activeStatus, operationStartedAt);
  }
  if (d.FailureReason) out.FailureReason = d.FailureReason;
  if (d.LastDeploymentConfig) out.LastDeploymentConfig = d.LastDeploymentConfig;
  if (pending) {
    const fleet = ep?.fleets.get(pending.generation);
    out.PendingDeploymentSummary = {
      EndpointConfigName: pending.configName,
      StartTime: pending.startedAt,
      ProductionVariants: pending.variants.map((plan): Wire<PendingProductionVariantSummary> => {
        const ready = readyCount(fleet, plan.variantName);
        const summary: Wire<PendingProductionVariantSummary> = {
          VariantName: plan.variantName,
          DeployedImages: deployedImages(plan),
          CurrentWeight: plan.weight,
          DesiredWeight: plan.weight,
          CurrentInstanceCount: ready,
          DesiredInstanceCount: plan.desiredCount,
          VariantStatus: variantStatus('Creating', pending.startedAt, ready, plan.desiredCount),
        };
        if (plan.instanceType) summary.InstanceType = plan.instanceType as Wire<PendingProductionVariantSummary>['InstanceType'];
        return summary;
      }),
    };
  }
  return out;
}

export function endpointSummary(row: EndpointRow): Wire<EndpointSummary> {
  return {
    EndpointName: row.doc.EndpointName,
    EndpointArn: row.doc.EndpointArn,
    CreationTime: row.doc.CreationTime,
    LastModifiedTime: row.doc.LastModifiedTime,
    EndpointStatus: row.doc.EndpointStatus,
  };
}
