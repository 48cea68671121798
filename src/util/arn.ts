/** ARNs as SageMaker writes them: arn:aws:sagemaker:<region>:<account>:<type>/<name>. */
export const RESOURCE_TYPES = [
  'training-job', 'processing-job', 'transform-job', 'model', 'endpoint-config', 'endpoint',
  'algorithm', 'model-package', 'model-package-group',
] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

const isResourceType = (t: string): t is ResourceType => (RESOURCE_TYPES as readonly string[]).includes(t);

/** The parts of a SageMaker resource ARN; `name` may hold '/' (model-package/<group>/<version>). */
export interface ParsedArn {
  partition: string;
  region: string;
  accountId: string;
  type: string;
  name: string;
}

const SAGEMAKER_ARN = /^arn:(aws[a-z-]*):sagemaker:([a-z0-9-]*):(\d{12}):([a-z][a-z-]*)\/(.+)$/;

export class Arns {
  constructor(readonly region: string, readonly accountId: string) {}
  /** Case is preserved, as SageMaker does for job ARNs since 2022 (spec 5.3). */
  of(type: ResourceType, name: string): string {
    return `arn:aws:sagemaker:${this.region}:${this.accountId}:${type}/${name}`;
  }
  /** The parts of `arn` when it has the form `of` writes (any type, region or account), else undefined. */
  parse(arn: string): ParsedArn | undefined {
    const m = SAGEMAKER_ARN.exec(arn);
    return m ? { partition: m[1]!, region: m[2]!, accountId: m[3]!, type: m[4]!, name: m[5]! } : undefined;
  }
  /** Whether `p` could name a resource of this server: its partition, region and account, a type sagebox keeps. */
  isLocal(p: ParsedArn): p is ParsedArn & { type: ResourceType } {
    return p.partition === 'aws' && p.region === this.region && p.accountId === this.accountId && isResourceType(p.type);
  }
  /** The name in `nameOrArn` when it is an ARN of `type`, else `nameOrArn` itself. */
  nameFrom(type: ResourceType, nameOrArn: string): string {
    const p = this.parse(nameOrArn);
    return p?.type === type ? p.name : nameOrArn;
  }
  logGroup(name: string): string {
    return `arn:aws:logs:${this.region}:${this.accountId}:log-group:${name}`;
  }
}
