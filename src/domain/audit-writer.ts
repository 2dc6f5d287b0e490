import type { AuditEntry } from '../store/audit-repository.js';
import type { Store } from '../store/store.js';

interface Pending {
  entry: AuditEntry;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Audit rows for reads of health information, group-committed: a read still waits until
 * its row is stored before it answers, but reads that arrive together share one insert
 * and one commit instead of paying for a commit each. (Rows that describe a change are
 * written inside that change's own transaction, not here.)
 */
export class AuditWriter {
  private queue: Pending[] = [];
  private scheduled = false;
  private flushing = false;

  constructor(private readonly store: Store) {}

  record(entry: AuditEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, 500);
        try {
          await this.store.audit.recordMany(batch.map((p) => p.entry));
          for (const p of batch) p.resolve();
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}
