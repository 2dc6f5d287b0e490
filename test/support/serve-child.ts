import { buildApp, createLogger, type AppOptions } from '../../src/server/app.js';
import { loadConfig } from '../../src/server/config.js';

/**
 * Runs a real carechat server in a test's child process, as `npm start` would but with the
 * test's own options (a clock, extra processors): prints the address line the parent waits
 * for and closes gracefully on SIGTERM.
 */
export function serveChild(name: string, opts: Omit<AppOptions, 'config' | 'logger'>): void {
  const run = async () => {
    const config = loadConfig();
    const built = await buildApp({ ...opts, config, logger: createLogger(config) });
    const address = await built.app.listen({ port: config.port, host: config.host });
    process.stdout.write(`carechat is running at ${address}\n`);
    process.on('SIGTERM', () => {
      built.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  };
  run().catch((err: unknown) => {
    process.stderr.write(`${name} could not start: ${String(err)}\n`);
    process.exit(1);
  });
}
