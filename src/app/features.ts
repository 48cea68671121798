/**
 * Every capability, in start-up order. Add a feature here to switch it on.
 */
import type { AppContext, Feature } from './context';

export const FEATURES: ((ctx: AppContext) => Feature)[] = [];
