import type { Clock } from '../clock.js';
import type { ErrorCode } from '../errors.js';
import { auditEntry, type AuditCtx } from '../context.js';
import type { AuditWriter } from './writer.js';

/**
 * Refusals that say someone asked for what they may not have: a resource that is not
 * theirs (indistinguishable from one that does not exist), a forged or stale request, a
 * move the rules do not allow, input the server would not take. Each is written to the
 * audit trail (throttled here), whichever transport it came by; unauthenticated,
 * rate-limited and server errors are not.
 */
export const REFUSALS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'not_found',
  'forbidden',
  'csrf_invalid',
  'origin_refused',
  'invalid_transition',
  'validation_failed',
]);

/** What a refused request asked for: never its body or query. */
export interface DeniedRequest {
  /** The error code it was refused with: not_found, csrf_invalid, invalid_transition, … */
  code: string;
  method: string;
  /** The route's pattern (`/api/rooms/:id`), not the URL, so no query string comes along. */
  route: string | null;
  targetId: string | null;
}

interface Window {
  who: AuditCtx;
  start: number;
  written: number;
  suppressed: number;
}

const WINDOW_MS = 60_000;
// Past this many callers in one window everyone shares one budget, so a flood from many
// addresses cannot grow the map (or the trail) without bound either.
const MAX_KEYS = 1_000;

/**
 * Records refused access as `access.denied`, throttled so that probing cannot flood the
 * trail: per caller (the actor, or the address when signed out) and per refusal code, at
 * most `perMinute` rows a minute. What is held back is counted, and the count is written
 * with the caller's next row, or by `flush` once its minute has passed.
 */
export class AccessDenials {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly writer: Pick<AuditWriter, 'record'>,
    private readonly clock: Clock,
    private readonly perMinute: number,
  ) {}

  async record(who: AuditCtx, asked: DeniedRequest): Promise<void> {
    const now = this.clock.now();
    const callerKey = who.actor ? `actor:${who.actor.id}` : `ip:${who.ip ?? 'unknown'}`;
    let key = `${callerKey}|${asked.code}`;
    if (!this.windows.has(key) && this.windows.size >= MAX_KEYS) key = `*|${asked.code}`;
    let w = this.windows.get(key);
    let carried = 0;
    if (w && now - w.start >= WINDOW_MS) {
      carried = w.suppressed;
      w = undefined;
    }
    if (!w) {
      w = { who, start: now, written: 0, suppressed: 0 };
      this.windows.set(key, w);
    }
    if (w.written >= this.perMinute) {
      w.suppressed += 1;
      return;
    }
    w.written += 1;
    await this.writer.record(
      auditEntry(
        who,
        now,
        'access.denied',
        { type: 'request', id: asked.targetId },
        {
          code: asked.code,
          method: asked.method,
          route: asked.route,
          ...(carried > 0 ? { suppressedBefore: carried } : {}),
          ...(key.startsWith('*|') ? { shared: true } : {}),
        },
      ),
    );
  }

  /** Writes one summary row for each caller whose minute ended with refusals held back. */
  async flush(): Promise<void> {
    const now = this.clock.now();
    const due: Promise<void>[] = [];
    for (const [key, w] of this.windows) {
      if (now - w.start < WINDOW_MS) continue;
      this.windows.delete(key);
      if (w.suppressed === 0) continue;
      const code = key.slice(key.lastIndexOf('|') + 1);
      due.push(
        this.writer.record(
          auditEntry(
            w.who,
            now,
            'access.denied',
            { type: 'request', id: null },
            {
              code,
              suppressed: w.suppressed,
              windowStart: new Date(w.start).toISOString(),
              ...(key.startsWith('*|') ? { shared: true } : {}),
            },
          ),
        ),
      );
    }
    await Promise.all(due);
  }
}
