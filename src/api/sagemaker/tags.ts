/**
 * AddTags, ListTags, DeleteTags on every resource kind sagebox keeps
 * (src/util/arn.ts RESOURCE_TYPES). The tags live in one table
 * (src/store/resource-tags.ts): the Create* operations write their Tags
 * there, and deleting a resource deletes its tags.
 */
import type { AppContext, Feature } from '../../app/context';
import { ResourceRepo, offsetFromToken, offsetToken } from '../../store/resource-repo';
import { ResourceTags, type TagInput } from '../../store/resource-tags';
import { ValidationException } from '../errors';
import type { JsonHandler, Registry } from '../registry';
import { validationMessage, violation } from '../validation/validator';
import { page } from './hosting-shared';

/** A SageMaker resource has at most 50 tags (AddTags' TagList allows 50 per call too). */
const MAX_TAGS = 50;
/** ListTags' default page; the model's minimum MaxResults is 50 as well. */
const DEFAULT_MAX_RESULTS = 50;

interface TaggedResource {
  kind: string;
  name: string;
  arn: string;
}

/**
 * Decision: one answer for every ARN that names nothing here (another region
 * or account, a kind sagebox does not have, a resource that does not exist or
 * was deleted). SageMaker answers AddTags/ListTags/DeleteTags on a missing
 * resource with a ValidationException (the operations model no other error);
 * its reported wording is "Resource <arn> not found". The exact text was not
 * checked against AWS for each kind, so sagebox uses that one form for all
 * rather than guess a wording per kind.
 */
function notFound(arn: string): ValidationException {
  return new ValidationException(`Resource ${arn} not found.`);
}

/** The resource `arn` names; an ARN the model's pattern lets through but that has no <type>/<name> is malformed. */
function resolve(ctx: AppContext, arn: string): TaggedResource {
  const parsed = ctx.arns.parse(arn);
  if (!parsed) {
    const rule = 'Member must be the ARN of a SageMaker resource: arn:aws:sagemaker:<region>:<account-id>:<resource-type>/<resource-name>';
    throw new ValidationException(validationMessage([violation(arn, 'resourceArn', rule)]));
  }
  if (!ctx.arns.isLocal(parsed)) throw notFound(arn);
  const row = new ResourceRepo(ctx.db, parsed.type).get(parsed.name);
  if (!row) throw notFound(arn);
  return { kind: parsed.type, name: row.name, arn };
}

export function tagHandlers(ctx: AppContext): Record<string, JsonHandler> {
  const tags = new ResourceTags(ctx.db);
  return {
    AddTags(input) {
      const r = resolve(ctx, String(input.ResourceArn));
      // One transaction: a call that would pass the limit changes nothing.
      const all = ctx.db.transaction(() => {
        tags.put(r.kind, r.name, input.Tags as TagInput[]);
        const n = tags.count(r.kind, r.name);
        if (n > MAX_TAGS) {
          throw new ValidationException(`Tags: the resource ${r.arn} would have ${n} tags, more than the limit of ${MAX_TAGS} tags per resource.`);
        }
        return tags.list(r.kind, r.name);
      })();
      return { Tags: all };
    },

    ListTags(input) {
      const r = resolve(ctx, String(input.ResourceArn));
      const offset = offsetFromToken(input.NextToken as string | undefined, () => new ValidationException('Invalid pagination token: pass the NextToken of a previous ListTags response unchanged.'));
      const limit = (input.MaxResults as number | undefined) ?? DEFAULT_MAX_RESULTS;
      const items = tags.list(r.kind, r.name, offset, limit + 1);
      return page('Tags', items.slice(0, limit), items.length > limit ? offsetToken(offset + limit) : undefined);
    },

    DeleteTags(input) {
      const r = resolve(ctx, String(input.ResourceArn));
      tags.remove(r.kind, r.name, input.TagKeys as string[]);
      return {};
    },
  };
}

export function tagsFeature(ctx: AppContext): Feature {
  return {
    name: 'tags',
    register(registry: Registry) {
      registry.sagemaker(tagHandlers(ctx));
    },
  };
}
