import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Store } from '../../store/store.js';
import type { Clock } from '../clock.js';
import { auditEntry } from '../context.js';
import { AppError } from '../errors.js';

/**
 * One-click unsubscribe (RFC 8058): a link that turns one user's e-mail off without a
 * session. It carries the user id and an HMAC of it under a random key kept per user, so
 * it cannot be made for anyone else, and replacing the key voids every link sent. It can
 * do nothing but turn e-mail off.
 */
const PURPOSE = 'carechat-unsubscribe:';

function sign(key: string, userId: string): string {
  return createHmac('sha256', Buffer.from(key, 'base64url'))
    .update(PURPOSE + userId)
    .digest('base64url');
}

/** The link for the user's e-mails, making their key on first use. */
export async function unsubscribeLink(
  store: Store,
  clock: Clock,
  publicOrigin: string,
  userId: string,
): Promise<string> {
  const key = await store.notifications.unsubscribeKey(
    userId,
    randomBytes(32).toString('base64url'),
    clock.now(),
  );
  const url = new URL('/api/notifications/unsubscribe', publicOrigin);
  url.searchParams.set('u', userId);
  url.searchParams.set('s', sign(key, userId));
  return url.toString();
}

const refused = () =>
  new AppError('forbidden', 'This unsubscribe link is not valid. Sign in to change your settings.');

/** Throws unless the signature is the user's; a wrong one and an unknown user look alike. */
export async function checkUnsubscribe(
  store: Store,
  userId: string,
  signature: string,
): Promise<void> {
  const row = await store.notifications.preferences(userId);
  if (!row?.unsubscribe_key) throw refused();
  const want = Buffer.from(sign(row.unsubscribe_key, userId));
  const got = Buffer.from(signature);
  if (got.length !== want.length || !timingSafeEqual(got, want)) throw refused();
}

/** Checks the link and turns the user's e-mail off, audited as the user. */
export async function unsubscribe(
  store: Store,
  clock: Clock,
  link: { userId: string; signature: string; ip: string | null },
): Promise<void> {
  await checkUnsubscribe(store, link.userId, link.signature);
  const user = await store.users.findById(link.userId);
  if (!user) throw refused();
  const now = clock.now();
  await store.transaction(async (tx) => {
    await tx.notifications.emailOff(link.userId, now);
    await tx.audit.record(
      auditEntry(
        { actor: { id: user.id, role: user.role }, ip: link.ip },
        now,
        'notification.unsubscribe',
        { type: 'user', id: user.id },
        { via: 'link' },
      ),
    );
  });
}
