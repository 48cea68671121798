/**
 * Every capability, in start-up order. Add a feature here to switch it on.
 */
import type { AppContext, Feature } from './context';
import { processingJobsFeature } from '../api/sagemaker/processing-jobs';

export const FEATURES: ((ctx: AppContext) => Feature)[] = [processingJobsFeature];
