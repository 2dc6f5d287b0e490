import type { Store } from '../../store/store.js';
import type { KeyRing } from './file-crypto.js';

/**
 * Re-wraps every file's data key under the current master key. The files themselves are
 * not touched: only the small wrapped keys change, each in its own short update, so the
 * server can keep running (it opens files under any key it is given).
 */
export async function rotateDataKeys(
  store: Store,
  keys: KeyRing,
): Promise<{ rewrapped: number; keyId: string }> {
  const current = keys.current;
  if (!current) throw new Error('DATA_KEY is not set: it names the key to rotate to');
  let rewrapped = 0;
  for (;;) {
    const rows = await store.system().attachments.wrappedByOtherKey(current.id, 200);
    if (rows.length === 0) return { rewrapped, keyId: current.id };
    for (const row of rows) {
      // Throws, naming the key id, when the old key was not given in DATA_KEY_PREVIOUS.
      const next = keys.rewrap(row.id, row.key_id!, Buffer.from(row.wrapped_key!));
      await store.system().attachments.rewrap(row.id, row.key_id!, next.keyId, next.wrapped);
      rewrapped += 1;
    }
  }
}
