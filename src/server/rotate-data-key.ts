import { pathToFileURL } from 'node:url';
import { KeyRing } from '../domain/attachments/file-crypto.js';
import { rotateDataKeys } from '../domain/attachments/rotation.js';
import { resealVapidKey } from '../domain/notifications/vapid.js';
import { migrateToLatest, openDatabase } from '../store/database.js';
import { Store } from '../store/store.js';
import { ConfigError, loadConfig } from './config.js';

/**
 * Moves every attachment to a new master key:
 *
 *   DATA_KEY=<new> DATA_KEY_PREVIOUS=<old> npm run rotate-data-key
 *
 * Run it with the same DATABASE_URL as the server. Servers given both keys keep serving
 * throughout; once it reports done, DATA_KEY_PREVIOUS can be dropped from their settings.
 */
export async function main(env: Record<string, string | undefined> = process.env): Promise<number> {
  let config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const keys = new KeyRing(config.attachments.dataKey, config.attachments.previousDataKeys);
  if (!keys.current) {
    process.stderr.write(
      'rotate-data-key: set DATA_KEY to the new key and DATA_KEY_PREVIOUS to the old one(s)\n',
    );
    return 1;
  }
  const database = openDatabase(config.databaseUrl, { poolSize: 2 });
  try {
    await migrateToLatest(database);
    const store = Store.from(database);
    const { rewrapped, keyId } = await rotateDataKeys(store, keys);
    process.stdout.write(`rotate-data-key: ${rewrapped} file key(s) now wrapped by key ${keyId}\n`);
    if (await resealVapidKey(store, keys))
      process.stdout.write(
        `rotate-data-key: the Web Push signing key is now sealed by key ${keyId}\n`,
      );
    return 0;
  } catch (err) {
    process.stderr.write(`rotate-data-key: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    await database.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main();
}
