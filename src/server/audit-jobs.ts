import type { Logger } from 'pino';
import type { CheckpointSigner } from '../domain/audit/checkpoint.js';
import type { Clock } from '../domain/clock.js';
import type { Store } from '../store/store.js';
import type { Job } from './jobs.js';

/**
 * Anchors the audit chain's head outside the store at intervals: a signed checkpoint in
 * the log, which the log's own retention keeps beyond the reach of anyone who can only
 * edit the database. Saved to a file, the logged checkpoint is what `npm run audit:verify
 * -- --checkpoint FILE` takes. Only a head that moved since the last anchor is logged.
 */
export function auditAnchorJob(deps: {
  store: Store;
  signer: CheckpointSigner;
  clock: Clock;
  log: Logger;
  everyMs: number;
}): Job {
  let last: number | undefined;
  return {
    name: 'audit-anchor',
    everyMs: deps.everyMs,
    run: async () => {
      const head = await deps.store.audit.head();
      if (!head || head.id === last) return;
      const auditCheckpoint = deps.signer.sign(head, new Date(deps.clock.now()));
      deps.log.info({ auditCheckpoint }, 'audit chain head');
      last = head.id;
    },
  };
}
