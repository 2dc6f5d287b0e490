import type { Migration, MigrationProvider } from 'kysely';
import type { Dialect } from '../database.js';
import { initial } from './0001-initial.js';
import { unreadCounters } from './0002-unread-counters.js';
import { roomLifecycle } from './0003-room-lifecycle.js';
import { auditChain } from './0004-audit-chain.js';
import { outbox } from './0005-outbox.js';
import { attachments } from './0006-attachments.js';
import { notifications } from './0007-notifications.js';
import { push } from './0008-push.js';
import { attachmentLinks } from './0009-attachment-links.js';
import { leanIndexes } from './0010-lean-indexes.js';
import { blobIntents } from './0011-blob-intents.js';

/**
 * Migrations are code, listed here in order, so they run the same from `tsx` and from
 * the compiled `dist/`. Each gets the dialect only for column types that differ
 * (auto-increment ids, binary data); the schema itself is one for both stores.
 */
export function migrationProvider(dialect: Dialect): MigrationProvider {
  const all: Record<string, Migration> = {
    '0001-initial': initial(dialect),
    '0002-unread-counters': unreadCounters,
    '0003-room-lifecycle': roomLifecycle,
    '0004-audit-chain': auditChain(dialect),
    '0005-outbox': outbox(dialect),
    '0006-attachments': attachments(dialect),
    '0007-notifications': notifications,
    '0008-push': push,
    '0009-attachment-links': attachmentLinks,
    '0010-lean-indexes': leanIndexes,
    '0011-blob-intents': blobIntents,
  };
  return { getMigrations: () => Promise.resolve(all) };
}
