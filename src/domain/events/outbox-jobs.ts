import type { Logger } from 'pino';
import type { OutboxDispatcher } from './dispatcher.js';
import type { ProcessorRegistry } from './processor.js';

/** The shape of a scheduled job (server/jobs.ts runs them, in one process at a time). */
export interface OutboxJob {
  name: string;
  everyMs: number;
  run(): Promise<void>;
}

const dispatchJobName = (processor: string) => `outbox:${processor}`;
const PRUNE_JOB = 'outbox-prune';

/**
 * One job per processor, so a slow processor (an SMTP server taking its time) never
 * holds up another, and one pruning job. `active` is the scheduler's word on whether this
 * process still holds the runner lock; a round stops between handlers when it does not.
 */
export function outboxJobs(opts: {
  dispatcher: OutboxDispatcher;
  registry: ProcessorRegistry;
  log: Logger;
  active: () => boolean;
}): OutboxJob[] {
  const { dispatcher, registry, log } = opts;
  return [
    ...registry.all().map((p) => ({
      name: dispatchJobName(p.name),
      everyMs: dispatcher.settings.pollMs,
      run: async () => {
        await dispatcher.run(p.name, opts.active);
      },
    })),
    {
      name: PRUNE_JOB,
      everyMs: Math.min(10 * 60_000, dispatcher.settings.retentionMs),
      run: async () => {
        const removed = await dispatcher.prune();
        if (removed.deliveries > 0 || removed.events > 0)
          log.info(removed, 'processed outbox events past their retention removed');
      },
    },
  ];
}
