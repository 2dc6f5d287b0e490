import { createHash, randomBytes } from 'node:crypto';
import type { SessionRow, UserRow } from '../store/schema.js';
import { auditEntry } from './context.js';
import type { Deps } from './deps.js';
import { AppError } from './errors.js';
import { hashPassword, verifyPassword } from './passwords.js';

export interface Authenticated {
  user: UserRow;
  session: SessionRow;
}

export const hashToken = (token: string): string =>
  createHash('sha256').update(token).digest('hex');

export class AuthService {
  // Verified against when the email is unknown, so a miss costs as much as a hit and
  // response time does not reveal which addresses have accounts.
  private dummyHash: Promise<string> | undefined;

  constructor(private readonly deps: Deps) {}

  async login(
    email: string,
    password: string,
    meta: {
      ip: string | null;
      userAgent: string | null;
      /** The session this browser held before, ended by the new login. */
      replaces?: SessionRow | null | undefined;
    },
  ): Promise<Authenticated & { token: string }> {
    const { store, clock, loginLimits } = this.deps;
    const now = clock.now();
    const emailKey = `login:account:${email.trim().toLowerCase()}`;
    const ipKey = `login:ip:${meta.ip ?? 'unknown'}`;
    const throttled = (resetAt: number) =>
      new AppError('rate_limited', 'Too many sign-in attempts. Please wait and try again.', {
        retryAfterSeconds: Math.max(1, Math.ceil((resetAt - now) / 1000)),
      });

    // The attempt is counted against the account before the password is checked, so
    // attempts sent all at once cannot each slip in under the limit; a correct password
    // clears the count. An account over its limit is refused even with the right password.
    const account = await store.rateLimits.hit(emailKey, now, loginLimits.windowMs);
    if (account.count > loginLimits.perAccount) {
      await store.audit.record(
        auditEntry(
          { actor: null, ip: meta.ip },
          now,
          'auth.login_throttled',
          { type: 'user', id: (await store.users.findByEmail(email))?.id ?? null },
          { limit: 'account' },
        ),
      );
      throw throttled(account.resetAt);
    }

    const user = await store.users.findByEmail(email);
    this.dummyHash ??= hashPassword('not a real password', this.deps.passwordParams);
    const ok = await verifyPassword(password, user?.password_hash ?? (await this.dummyHash));
    if (!user || !ok || user.disabled_at !== null) {
      // Only failures count against the address, and the address limit only ever refuses
      // failures: a practice's staff share one address, and neither a busy morning of
      // sign-ins nor one person's (or an intruder's) failures there may lock the office out.
      const ip = await store.rateLimits.hit(ipKey, now, loginLimits.windowMs);
      const overAddressLimit = ip.count > loginLimits.perIp;
      await store.audit.record(
        auditEntry(
          { actor: user ?? null, ip: meta.ip },
          now,
          'auth.login_failed',
          { type: 'user', id: user?.id ?? null },
          {
            reason: !user ? 'unknown_email' : !ok ? 'wrong_password' : 'disabled',
            ...(overAddressLimit ? { limit: 'address' } : {}),
          },
        ),
      );
      if (overAddressLimit) throw throttled(ip.resetAt);
      throw new AppError('invalid_credentials', 'The email or password is not right');
    }

    // A fresh token at every login: a session id planted before login is never reused.
    const token = randomBytes(32).toString('base64url');
    const session: SessionRow = {
      id_hash: hashToken(token),
      user_id: user.id,
      csrf_token: randomBytes(32).toString('base64url'),
      created_at: now,
      last_seen_at: now,
      ip: meta.ip,
      user_agent: meta.userAgent?.slice(0, 300) ?? null,
    };
    await store.transaction(async (tx) => {
      if (meta.replaces) await tx.sessions.delete(meta.replaces.id_hash);
      await tx.sessions.insert(session);
      await tx.rateLimits.clear(emailKey);
      await tx.audit.record(
        auditEntry({ actor: user, ip: meta.ip }, now, 'auth.login', {
          type: 'session',
          id: session.id_hash.slice(0, 12),
        }),
      );
    });
    return { user, session, token };
  }

  /** Resolves a session token; an expired, unknown or disabled one gives undefined. */
  async authenticate(
    token: string,
    opts: { touch: boolean } = { touch: true },
  ): Promise<Authenticated | undefined> {
    const { store, clock } = this.deps;
    const idHash = hashToken(token);
    const found = await store.sessions.findWithUser(idHash);
    if (!found) return undefined;
    const now = clock.now();
    if (found.user.disabled_at !== null) {
      await store.sessions.delete(idHash);
      return undefined;
    }
    if (this.expired(found.session, now)) {
      await this.endExpired(found, now);
      return undefined;
    }
    if (opts.touch && now - found.session.last_seen_at > this.touchEveryMs) {
      await store.sessions.touch(idHash, now);
      found.session.last_seen_at = now;
    }
    return found;
  }

  /**
   * How stale a session's activity mark may get before a request writes it again: a
   * twentieth of the idle period, at most a minute (the WebSocket's interval). Idle expiry
   * then errs by at most 5 % (45 s of the default 15 minutes), and an active user's
   * requests cost a commit about once a period instead of every 5 s: in the benchmark's
   * history runs that commit was on half the page requests and in their p99.
   */
  private get touchEveryMs(): number {
    return Math.min(60_000, this.deps.session.idleMs / 20);
  }

  expired(session: Pick<SessionRow, 'created_at' | 'last_seen_at'>, now: number): boolean {
    const { idleMs, absoluteMs } = this.deps.session;
    return now - session.last_seen_at > idleMs || now - session.created_at > absoluteMs;
  }

  /**
   * The one way an expired session ends, whoever noticed (a request, a live connection's
   * heartbeat): removed with its audit row, then every process closes its sockets.
   */
  async endExpired(auth: Authenticated, now: number): Promise<void> {
    const idHash = auth.session.id_hash;
    await this.deps.store.transaction(async (tx) => {
      await tx.sessions.delete(idHash);
      await this.deps.outbox.emit(tx, now, [
        { type: 'session.ended', userId: auth.user.id, sessionIds: [idHash], reason: 'expired' },
      ]);
      await tx.audit.record(
        auditEntry({ actor: auth.user, ip: null }, now, 'auth.session_expired', {
          type: 'session',
          id: idHash.slice(0, 12),
        }),
      );
    });
    this.deps.bus.publish({
      t: 'session.ended',
      userId: auth.user.id,
      sessionIds: [idHash],
      reason: 'expired',
    });
  }

  /**
   * A live connection's session that looks expired by its own copy: the store has the last
   * word (another tab may have kept it alive over HTTP). Answers whether it is still alive,
   * updating the copy; an expired one is ended.
   */
  async stillAlive(auth: Authenticated, now: number): Promise<boolean> {
    const fresh = await this.deps.store.sessions.findWithUser(auth.session.id_hash);
    if (fresh && !this.expired(fresh.session, now)) {
      auth.session.last_seen_at = fresh.session.last_seen_at;
      return true;
    }
    await this.endExpired(auth, now);
    return false;
  }

  /** Activity seen on live connections, written back for many sessions at once. */
  recordActivity(touches: readonly { idHash: string; at: number }[]): Promise<void> {
    return this.deps.store.sessions.touchMany(touches);
  }

  async logout(auth: Authenticated, ip: string | null): Promise<void> {
    const { store, clock } = this.deps;
    const now = clock.now();
    await store.transaction(async (tx) => {
      await tx.sessions.delete(auth.session.id_hash);
      await this.deps.outbox.emit(tx, now, [
        {
          type: 'session.ended',
          userId: auth.user.id,
          sessionIds: [auth.session.id_hash],
          reason: 'logout',
        },
      ]);
      await tx.audit.record(
        auditEntry({ actor: auth.user, ip }, now, 'auth.logout', {
          type: 'session',
          id: auth.session.id_hash.slice(0, 12),
        }),
      );
    });
    this.deps.bus.publish({
      t: 'session.ended',
      userId: auth.user.id,
      sessionIds: [auth.session.id_hash],
      reason: 'logout',
    });
  }
}
