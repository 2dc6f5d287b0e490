import { auditEntry, type Ctx } from './context.js';
import type { Deps } from './deps.js';

/** Sessions remembered here before the memory is dropped and the trail is asked again. */
const REMEMBER_MAX = 10_000;

/**
 * `realtime.connect`, once per session. A tab reconnects after every network blip, server
 * restart or sleep, and a second tab opens its own connection; a row for each would bury
 * the one that says something (this sign-in went live, from here, with these rooms).
 * Replays of history write their own read rows, so nothing a reconnect reads goes unsaid.
 */
export class ConnectAudit {
  /** Sessions (audit target ids) known to have their row already, in this process. */
  private readonly recorded = new Set<string>();

  constructor(private readonly deps: Pick<Deps, 'store' | 'readAudit' | 'clock'>) {}

  async firstConnection(
    ctx: Ctx,
    sessionIdHash: string,
    detail: { transport: 'ws' | 'sse'; rooms: number },
  ): Promise<void> {
    const targetId = sessionIdHash.slice(0, 12);
    if (this.recorded.has(targetId)) return;
    if (this.recorded.size >= REMEMBER_MAX) this.recorded.clear();
    // Claimed before the awaits, so two tabs connecting at once write one row.
    this.recorded.add(targetId);
    try {
      // Another process, or this one before a restart, may have written it already.
      const [earlier] = await this.deps.store.audit.list({
        action: 'realtime.connect',
        targetId,
        limit: 1,
      });
      if (earlier) return;
      await this.deps.readAudit.record(
        auditEntry(
          ctx,
          this.deps.clock.now(),
          'realtime.connect',
          { type: 'session', id: targetId },
          detail,
        ),
      );
    } catch (err) {
      this.recorded.delete(targetId);
      throw err;
    }
  }

  /** The session ended: nothing more will connect with it. */
  forget(sessionIdHash: string): void {
    this.recorded.delete(sessionIdHash.slice(0, 12));
  }
}
