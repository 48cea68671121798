/**
 * The logs feature: serves the CloudWatch Logs subset over the LogStore the
 * job features write to, and deletes expired events on a timer (retention:
 * PutRetentionPolicy per group, else config.logRetentionDays; 0 = forever).
 */
import type { AppContext, Feature } from '../app/context';
import { logsHandlers } from '../api/logs';
import { sweepRetention } from './retention';

/** How often expired events are looked for. */
export const RETENTION_SWEEP_MS = 60 * 60 * 1000;

export function logsFeature(ctx: AppContext): Feature {
  const log = ctx.logger.child({ component: 'logs' });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = false;

  const sweep = (): void => {
    if (running || stopped) return;
    running = sweepRetention(ctx.db, { now: ctx.clock.now(), defaultDays: ctx.config.logRetentionDays, logger: log })
      .catch((err) => log.error({ err }, 'log retention sweep failed'))
      .finally(() => {
        running = undefined;
      });
  };

  return {
    name: 'logs',
    register(registry) {
      registry.logs(logsHandlers({ store: ctx.logs, arns: ctx.arns, defaultRetentionDays: ctx.config.logRetentionDays, logger: log }));
    },
    async start() {
      sweep();
      timer = setInterval(sweep, RETENTION_SWEEP_MS);
      timer.unref();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
