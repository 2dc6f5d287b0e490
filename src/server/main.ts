import { buildApp, createLogger } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { ensureDemoPractice } from './demo.js';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config);
  const { app, services, metricsUrl, close } = await buildApp({ config, logger: log });

  const demo = await ensureDemoPractice(services);
  const address = await app.listen({ port: config.port, host: config.host });
  // PORT=0 picks a free port; the origin browsers use is only known now.
  if (config.port === 0 && !process.env.PUBLIC_ORIGIN) config.publicOrigin = address;

  const lines = [`carechat is running at ${config.publicOrigin}`];
  if (metricsUrl) lines.push(`Metrics for Prometheus at ${metricsUrl}/metrics`);
  if (demo) {
    lines.push(
      demo.created
        ? 'Demo practice created. Demo logins (role name email password):'
        : 'Demo logins (role name email password):',
    );
    for (const a of demo.accounts) lines.push(`${a.role} ${a.name} ${a.email} ${a.password}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) {
      // Ctrl-C again means now, abandoning what is still in flight; a repeated SIGTERM
      // (a process manager, or npm start losing its shell) waits for the graceful close.
      if (signal !== 'SIGINT') return;
      log.warn({ signal }, 'stopping without waiting');
      process.exit(1);
    }
    closing = true;
    log.info({ signal }, 'shutting down');
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`carechat could not start: ${message}\n`);
  process.exit(1);
});
