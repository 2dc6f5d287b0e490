import type { AuditEntry } from '../../store/audit-repository.js';
import type { Store } from '../../store/store.js';
import { GroupCommit } from '../group-commit.js';

interface Pending {
  entry: AuditEntry;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Audit rows for reads of health information, group-committed: a read still waits until
 * its row is stored before it answers, but reads that arrive together share one append to
 * the chain (one head lock, one insert, one commit) instead of paying for one each. Rows
 * that describe a change are written inside that change's own transaction
 * (`tx.audit.record(auditEntry(…))`), not here.
 */
export class AuditWriter {
  private readonly queue: GroupCommit<Pending>;

  constructor(store: Store) {
    this.queue = new GroupCommit(async (batch) => {
      await store.audit.recordMany(batch.map((p) => p.entry));
      for (const p of batch) p.resolve();
    }, 500);
  }

  /** Rows not yet stored: each is a read still waiting to answer. */
  get pending(): number {
    return this.queue.pending;
  }

  record(entry: AuditEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => this.queue.push({ entry, resolve, reject }));
  }

  /** Resolves once every row recorded so far is stored or has failed: for shutdown. */
  drain(): Promise<void> {
    return this.queue.drain();
  }
}
