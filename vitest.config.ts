import { defineConfig } from 'vitest/config';

/**
 * `npm test` always runs every tier on SQLite. When TEST_DATABASE_URL names a PostgreSQL
 * database, the server-side tiers run a second time on it (each test in its own schema);
 * browser and unit tests do not touch the store dialect, so they run once.
 */
const pgUrl = process.env.TEST_DATABASE_URL?.startsWith('postgres')
  ? process.env.TEST_DATABASE_URL
  : undefined;

const include = ['test/**/*.test.ts', 'src/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // A live change crosses a socket, a coalescing timer and a render; on two busy cores
    // that can take more than the default second, and waiting longer costs nothing when it passes.
    expect: { poll: { timeout: 5000 } },
    pool: 'forks',
    // Two cores: keep parallelism modest so timing-sensitive real-time tests stay honest.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'sqlite',
          globalSetup: ['test/support/global-setup.ts'],
          include,
          // Empty, not unset: a TEST_DATABASE_URL in the shell must not turn this tier into PostgreSQL.
          env: { TEST_DATABASE_URL: '' },
        },
      },
      ...(pgUrl
        ? [
            {
              extends: true as const,
              test: {
                name: 'postgres',
                globalSetup: ['test/support/global-setup.ts'],
                include,
                exclude: ['test/e2e/**', 'test/unit/**', 'src/**/*.test.ts', '**/node_modules/**'],
                env: { TEST_DATABASE_URL: pgUrl },
              },
            },
          ]
        : []),
    ],
  },
});
