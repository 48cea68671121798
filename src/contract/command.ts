/**
 * The effective command of a container, as Docker's --entrypoint and
 * arguments combine (spec 1.1): training appends `train`, serving `serve`,
 * processing nothing.
 */
export interface EffectiveCommand {
  /** undefined keeps the image ENTRYPOINT. */
  entrypoint?: string[];
  /** undefined keeps the image CMD. */
  cmd?: string[];
}

export function resolveCommand(defaultArg: 'train' | 'serve' | undefined, containerEntrypoint?: string[], containerArguments?: string[]): EffectiveCommand {
  if (containerEntrypoint?.length) {
    // --entrypoint replaces ENTRYPOINT and drops the image CMD; no train/serve argument.
    return { entrypoint: containerEntrypoint, cmd: containerArguments?.length ? containerArguments : [] };
  }
  if (containerArguments?.length) return { cmd: containerArguments };
  return defaultArg ? { cmd: [defaultArg] } : {};
}
