/**
 * Group commit: work that arrives together (in one turn of the event loop) is handed to
 * `commit` as one batch; a lone item is flushed on the next check phase (setImmediate),
 * so it waits for nothing. While a batch commits, new arrivals gather for the next one.
 * `commit` settles each item itself; a rejection of the whole batch fails its items
 * one by one, so one bad item cannot fail its neighbours.
 */
export class GroupCommit<Item extends { reject: (err: unknown) => void }> {
  private queue: Item[] = [];
  private scheduled = false;
  private flushing = false;
  private current: Promise<void> | undefined;
  private committing = 0;

  constructor(
    private readonly commit: (batch: Item[]) => Promise<void>,
    private readonly maxBatch: number,
  ) {}

  /** Items waiting for a commit or inside the one under way. */
  get pending(): number {
    return this.queue.length + this.committing;
  }

  push(item: Item): void {
    this.queue.push(item);
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.current = this.flush();
    });
  }

  /** Resolves once everything pushed so far is committed (or has failed): for shutdown. */
  async drain(): Promise<void> {
    while (this.scheduled || this.flushing) {
      if (this.flushing) await this.current;
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        this.committing = batch.length;
        try {
          await this.commit(batch);
        } catch (err) {
          if (batch.length === 1) batch[0]!.reject(err);
          else
            for (const item of batch)
              await this.commit([item]).catch((e: unknown) => item.reject(e));
        }
      }
    } finally {
      this.committing = 0;
      this.flushing = false;
    }
  }
}
