/** ARNs as SageMaker writes them: arn:aws:sagemaker:<region>:<account>:<type>/<name>. */
export type ResourceType =
  | 'training-job' | 'processing-job' | 'transform-job' | 'model' | 'endpoint-config' | 'endpoint'
  | 'algorithm' | 'model-package' | 'model-package-group';

export class Arns {
  constructor(readonly region: string, readonly accountId: string) {}
  /** Case is preserved, as SageMaker does for job ARNs since 2022 (spec 5.3). */
  of(type: ResourceType, name: string): string {
    return `arn:aws:sagemaker:${this.region}:${this.accountId}:${type}/${name}`;
  }
  /** The name in `nameOrArn` when it is an ARN of `type`, else `nameOrArn` itself. */
  nameFrom(type: ResourceType, nameOrArn: string): string {
    const prefix = `:${type}/`;
    if (nameOrArn.startsWith('arn:')) {
      const i = nameOrArn.indexOf(prefix);
      if (i >= 0) return nameOrArn.slice(i + prefix.length);
    }
    return nameOrArn;
  }
  logGroup(name: string): string {
    return `arn:aws:logs:${this.region}:${this.accountId}:log-group:${name}`;
  }
}
