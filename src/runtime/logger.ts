/**
 * The logging surface the runtime needs. A pino Logger satisfies it as is;
 * anything else with these four methods does too.
 */
export interface RuntimeLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const ignore = (): void => undefined;

export const noopLogger: RuntimeLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };
