/**
 * Every capability, in start-up order. Add a feature here to switch it on.
 */
import type { AppContext, Feature } from './context';
import { logsFeature } from '../logs/feature';
import { cloudWatchMetricsFeature } from '../logs/metrics-feature';
import { processingJobsFeature } from '../api/sagemaker/processing-jobs';
import { trainingJobsFeature } from '../api/sagemaker/training-jobs';
import { s3Feature } from '../api/s3/s3-feature';
import { endpointsFeature } from '../jobs/endpoints/feature';
import { transformJobsFeature } from '../api/sagemaker/transform-jobs';
import { algorithmsFeature } from '../jobs/algorithms/feature';
import { tagsFeature } from '../api/sagemaker/tags';

export const FEATURES: ((ctx: AppContext) => Feature)[] = [s3Feature, logsFeature, cloudWatchMetricsFeature, trainingJobsFeature, processingJobsFeature, endpointsFeature, transformJobsFeature, algorithmsFeature, tagsFeature];
