/**
 * Algorithms and model packages as a sagebox feature: their operations, and
 * the validation runner that runs their validation profiles through the
 * training, model and transform operations (so it starts after them).
 */
import type { AppContext, Feature } from '../../app/context';
import type { Registry } from '../../api/registry';
import { InternalSageMaker } from '../../api/internal-calls';
import { algorithmHandlers } from '../../api/sagemaker/algorithms';
import { modelPackageHandlers } from '../../api/sagemaker/model-packages';
import { ModelPackages } from '../model-packages/model-packages';
import { Algorithms } from './algorithms';
import { ValidationRunner } from './validation-runner';
import { algorithmSubject, modelPackageSubject } from './validation-subjects';

export class AlgorithmsFeature implements Feature {
  readonly name = 'algorithms';
  readonly algorithms: Algorithms;
  readonly packages: ModelPackages;
  runner?: ValidationRunner;
  /** How often the runner polls the jobs it waits on (tests shorten it before start). */
  readonly settings = { pollMs: 1000 };

  constructor(private readonly ctx: AppContext) {
    this.algorithms = new Algorithms(ctx, () => this.runner?.kick());
    this.packages = new ModelPackages(ctx, () => this.runner?.kick());
  }

  register(registry: Registry): void {
    registry.sagemaker({ ...algorithmHandlers(this.algorithms), ...modelPackageHandlers(this.packages) });
    const calls = new InternalSageMaker(registry, this.ctx.config.region);
    this.runner = new ValidationRunner(this.ctx, calls, [algorithmSubject(this.algorithms.repo), modelPackageSubject(this.ctx, this.packages.repo)], this.settings);
  }

  async start(): Promise<void> {
    this.runner?.kick();
  }

  async stop(): Promise<void> {
    await this.runner?.close();
  }
}

export const algorithmsFeature = (ctx: AppContext): Feature => new AlgorithmsFeature(ctx);
