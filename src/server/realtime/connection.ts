import type { Authenticated } from '../../domain/auth.js';
import type { Ctx } from '../../domain/context.js';
import type { FeedRoom } from '../../domain/conversations/feed.js';

/** Where a connection's frames go: a WebSocket or a server-sent-events stream. */
export interface Sink {
  readonly kind: 'ws' | 'sse';
  /** Queues one serialized frame; `id` is used by SSE for Last-Event-ID resume. */
  write(frame: string, id?: string): void;
  /** Bytes queued and not yet handed to the kernel. */
  buffered(): number;
  close(code: number, reason: string): void;
  /** Heartbeat: a WebSocket ping, an SSE comment. */
  ping?(): void;
}

/**
 * One client connection's view of the world: which rooms it may hear about, and per
 * room the last seq it has been given. Everything it receives passes through here, so
 * delivery is in order, without gaps or doubles, whatever woke it up.
 */
export class Connection {
  /** Rooms this user participates in, as the feed checked them: the only ones whose events reach this connection. */
  readonly rooms = new Map<string, FeedRoom>();
  /** Each room's last seq when the connection opened: where live delivery starts without a resume. */
  readonly baseline = new Map<string, number>();
  /** Goes live from "now" if the client has not sent its own `resume` by then. */
  resumeTimer: NodeJS.Timeout | undefined;
  /** When the send buffer went over the limit (performance.now()), while it stays over. */
  overSince: number | undefined;
  /** The resume in progress: commands that arrive meanwhile wait for it rather than start their own. */
  resuming: Promise<void> | undefined;
  /** Last seq delivered per room. */
  readonly cursors = new Map<string, number>();
  /** Rooms with a store read in flight: the highest seq woken for meanwhile, and when the read ends. */
  readonly reads = new Map<string, { upTo: number; done: Promise<void> }>();
  /** Client ids sent on this connection awaiting their ack. */
  readonly inflight = new Set<string>();
  /** Users sharing a room with this one: who hears its presence. */
  contacts = new Set<string>();
  /** What the client said of its tab: `away` while hidden. */
  status: 'online' | 'away' = 'online';
  /** Counted in the presence store (and so must be uncounted when it closes). */
  joined = false;
  /** Last command a person made (send, read, typing): what keeps an idle session alive. */
  lastActivity: number;
  /** Pings sent since the last pong (WebSocket only): two in a row unanswered and the peer is gone. */
  unansweredPings = 0;
  /** Gone from the hub: nothing more is written to it. */
  closed = false;
  /** Cursors are set (by the client's resume or the grace timer): live delivery may flow. */
  resumed = false;
  private tokens: number;
  private refilledAt: number;

  constructor(
    readonly id: string,
    readonly sink: Sink,
    readonly auth: Authenticated,
    readonly ip: string | null,
    now: number,
    private readonly rate: { perSecond: number; burst: number },
  ) {
    this.lastActivity = now;
    this.tokens = rate.burst;
    this.refilledAt = now;
  }

  get userId(): string {
    return this.auth.user.id;
  }

  get ctx(): Ctx {
    const u = this.auth.user;
    return { actor: { id: u.id, role: u.role, name: u.name }, ip: this.ip };
  }

  /** Token bucket: false when the client is sending commands faster than allowed. */
  takeToken(now: number): boolean {
    this.tokens = Math.min(
      this.rate.burst,
      this.tokens + ((now - this.refilledAt) / 1000) * this.rate.perSecond,
    );
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** SSE event id: every room's cursor, so a reconnect with Last-Event-ID resumes exactly. */
  cursorId(): string {
    return Buffer.from(JSON.stringify(Object.fromEntries(this.cursors))).toString('base64url');
  }
}

export function decodeCursorId(id: string | undefined): Record<string, number> | undefined {
  if (!id) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(id, 'base64url').toString('utf8')) as unknown;
    if (!parsed || typeof parsed !== 'object') return undefined;
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(parsed))
      if (typeof v === 'number' && Number.isInteger(v) && v >= 0) out[k] = v;
    return out;
  } catch {
    return undefined;
  }
}
