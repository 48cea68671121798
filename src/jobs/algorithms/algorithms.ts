/**
 * Algorithms as a resource: CreateAlgorithm (checked, persisted, Completed at
 * once or handed to the validation runner), DescribeAlgorithm,
 * ListAlgorithms, DeleteAlgorithm, and the lookup by name or ARN that
 * training jobs and model packages use.
 */
import type { AlgorithmSummary, DescribeAlgorithmOutput } from '@aws-sdk/client-sagemaker';
import type { AppContext } from '../../app/context';
import type { Wire } from '../../api/sagemaker/wire-types';
import { ValidationException } from '../../api/errors';
import { DuplicateResourceError, InvalidNextTokenError, ResourceRepo, type ListQuery, type ResourceRow } from '../../store/resource-repo';
import { epochSeconds } from '../../util/clock';
import { algorithmDefinitionProblems, type AlgorithmRequest } from './definition-checks';
import { initialItems, type ProductStatus, type ValidatedInternal } from './status';

export type AlgorithmDoc = Wire<DescribeAlgorithmOutput> & { AlgorithmStatus?: ProductStatus };
export type AlgorithmRow = ResourceRow<AlgorithmDoc, ValidatedInternal>;

export const ALGORITHM_KIND = 'algorithm';
/** ListAlgorithms' documented default order. */
const LIST_DEFAULT_ORDER = 'Ascending';

export function algorithmRepo(ctx: AppContext): ResourceRepo<AlgorithmDoc, ValidatedInternal> {
  return new ResourceRepo<AlgorithmDoc, ValidatedInternal>(ctx.db, ALGORITHM_KIND);
}

export const algorithmNotFound = (ctx: AppContext, name: string): ValidationException =>
  new ValidationException(`Algorithm ${ctx.arns.of('algorithm', name)} does not exist.`);

/** The stored algorithm named by `nameOrArn` (an algorithm ARN or a name). */
export function findAlgorithm(ctx: AppContext, repo: ResourceRepo<AlgorithmDoc, ValidatedInternal>, nameOrArn: string): AlgorithmRow | undefined {
  return repo.get(ctx.arns.nameFrom('algorithm', nameOrArn));
}

export class Algorithms {
  readonly repo: ResourceRepo<AlgorithmDoc, ValidatedInternal>;

  /** `validate` is called after an algorithm with a ValidationSpecification is stored. */
  constructor(private readonly ctx: AppContext, private readonly validate: () => void) {
    this.repo = algorithmRepo(ctx);
  }

  private get log() {
    return this.ctx.logger.child({ component: 'algorithms' });
  }

  create(req: AlgorithmRequest): { AlgorithmArn: string } {
    const problems = algorithmDefinitionProblems(req);
    if (problems.length) throw new ValidationException(problems.join(' '));
    const name = req.AlgorithmName!;
    const arn = this.ctx.arns.of('algorithm', name);
    const now = epochSeconds(this.ctx.clock.now());
    const profiles = req.ValidationSpecification?.ValidationProfiles ?? [];
    const status: ProductStatus = profiles.length ? 'Pending' : 'Completed';
    const doc: AlgorithmDoc = {
      AlgorithmName: name,
      AlgorithmArn: arn,
      CreationTime: now,
      TrainingSpecification: structuredClone(req.TrainingSpecification!),
      AlgorithmStatus: status,
      AlgorithmStatusDetails: { ValidationStatuses: initialItems(profiles), ImageScanStatuses: [] },
      CertifyForMarketplace: req.CertifyForMarketplace ?? false,
    };
    if (req.AlgorithmDescription !== undefined) doc.AlgorithmDescription = req.AlgorithmDescription;
    if (req.InferenceSpecification) doc.InferenceSpecification = structuredClone(req.InferenceSpecification);
    if (req.ValidationSpecification) doc.ValidationSpecification = structuredClone(req.ValidationSpecification);
    try {
      this.repo.insert({ name, arn, status, creationTime: now, lastModifiedTime: now, doc, internal: {} }, req.Tags);
    } catch (err) {
      if (err instanceof DuplicateResourceError) throw new ValidationException(`Cannot create already existing algorithm "${err.existing.arn}".`);
      throw err;
    }
    this.log.info({ algorithm: name, arn, image: req.TrainingSpecification?.TrainingImage, status }, 'algorithm created');
    if (status === 'Pending') this.validate();
    return { AlgorithmArn: arn };
  }

  get(nameOrArn: string): AlgorithmRow {
    const row = findAlgorithm(this.ctx, this.repo, nameOrArn);
    if (!row) throw algorithmNotFound(this.ctx, this.ctx.arns.nameFrom('algorithm', nameOrArn));
    return row;
  }

  describe(nameOrArn: string): AlgorithmDoc {
    return this.get(nameOrArn).doc;
  }

  list(q: ListQuery): { AlgorithmSummaryList: Wire<AlgorithmSummary>[]; NextToken?: string } {
    try {
      const { items, nextToken } = this.repo.list({ ...q, StatusEquals: undefined, LastModifiedTimeAfter: undefined, LastModifiedTimeBefore: undefined }, LIST_DEFAULT_ORDER);
      const summaries = items.map((r) => {
        const s: Wire<AlgorithmSummary> = { AlgorithmName: r.doc.AlgorithmName, AlgorithmArn: r.doc.AlgorithmArn, CreationTime: r.doc.CreationTime, AlgorithmStatus: r.doc.AlgorithmStatus };
        if (r.doc.AlgorithmDescription !== undefined) s.AlgorithmDescription = r.doc.AlgorithmDescription;
        return s;
      });
      return nextToken ? { AlgorithmSummaryList: summaries, NextToken: nextToken } : { AlgorithmSummaryList: summaries };
    } catch (err) {
      if (err instanceof InvalidNextTokenError) throw new ValidationException('Invalid pagination token: pass the NextToken of a previous ListAlgorithms response unchanged.');
      throw err;
    }
  }

  /** Jobs a validation started keep running as ordinary jobs; the runner forgets the algorithm. */
  delete(nameOrArn: string): void {
    const row = this.get(nameOrArn);
    this.repo.delete(row.name);
    this.log.info({ algorithm: row.name }, 'algorithm deleted');
  }
}
