/**
 * Request/response types come from the AWS SDK (@aws-sdk/client-sagemaker);
 * on the wire and in our documents timestamps are epoch seconds, so Wire<T>
 * turns the SDK's Date members into numbers.
 */
export type Wire<T> = T extends Date
  ? number
  : T extends (infer U)[]
    ? Wire<U>[]
    : T extends Record<string, unknown>
      ? { [K in keyof T]: Wire<T[K]> }
      : T extends object
        ? { [K in keyof T]: Wire<T[K]> }
        : T;
