import type { Logger } from 'pino';
import type { Deps } from '../../domain/deps.js';
import { unreadForMany } from '../../domain/rooms.js';
import type { Hub } from './hub.js';

/** How long wake-ups gather before their users' counts are computed together. */
const COALESCE_MS = 25;

/**
 * Unread counts pushed to the users they changed for. A burst of messages and reads wakes
 * many users; their counts are computed shortly after, for all of them in one query.
 */
export class UnreadCounts {
  /** Users woken since the last flush. */
  private readonly due = new Set<string>();
  /** The pending flush, while one is scheduled. */
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly hub: Hub,
    private readonly deps: Pick<Deps, 'store'>,
    private readonly log: Logger,
  ) {}

  /** The user's counts may have changed; ignored when they have no connection here. */
  wake(userId: string): void {
    if (!this.hub.has(userId)) return;
    this.due.add(userId);
    this.timer ??= setTimeout(() => void this.flush(), COALESCE_MS);
  }

  shutdown(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    const users = [...this.due].filter((u) => this.hub.has(u));
    this.due.clear();
    if (users.length === 0) return;
    try {
      for (const [userId, unread] of await unreadForMany(this.deps, users))
        this.hub.broadcast([userId], { type: 'unread', ...unread });
    } catch (err) {
      this.log.warn({ err }, 'could not compute unread counts');
    }
  }
}
