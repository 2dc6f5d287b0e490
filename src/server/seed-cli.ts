import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { ensureDemoPractice } from './demo.js';

/** `npm run seed [-- --reset]`: creates the demo practice; --reset empties the store first. */
async function seed(): Promise<void> {
  const reset = process.argv.includes('--reset');
  const config = loadConfig();
  const { services, close } = await buildApp({ config });
  try {
    if (reset) await services.store.resetAll();
    const demo = await ensureDemoPractice(services, { force: true });
    if (!demo) {
      process.stdout.write(
        'The store already holds a practice; use --reset to replace it with the demo practice.\n',
      );
      return;
    }
    for (const a of demo.accounts)
      process.stdout.write(`${a.role} ${a.name} ${a.email} ${a.password}\n`);
  } finally {
    await close();
  }
}

seed().catch((err: unknown) => {
  process.stderr.write(
    `${err instanceof ConfigError ? err.message : `seed failed: ${String(err)}`}\n`,
  );
  process.exit(1);
});
