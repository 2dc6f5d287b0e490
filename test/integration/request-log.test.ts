import { execFileSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp, createLogger, type App } from '../../src/server/app.js';
import { loadConfig } from '../../src/server/config.js';
import { createTestStore, type TestStore } from '../support/app.js';

interface Line {
  level: number;
  msg: string;
  req?: { method: string; path: string };
  res?: { statusCode: number };
}

let built: App | undefined;
let store: TestStore | undefined;

afterEach(async () => {
  await built?.close();
  await store?.drop();
  built = undefined;
  store = undefined;
});

/** The app with its log captured at `level`. */
async function appLoggingAt(level: 'info' | 'debug'): Promise<{ app: App; lines: Line[] }> {
  store = await createTestStore();
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Line);
      done();
    },
  });
  const config = loadConfig({
    DATABASE_URL: store.url,
    DEMO: 'false',
    PORT: '0',
    LOG_LEVEL: level,
  });
  // The server's own logger (its serializers and redaction), writing here instead of stdout.
  built = await buildApp({
    config,
    logger: createLogger(config, { pretty: false, destination: sink }),
  });
  return { app: built, lines };
}

describe('request logging', () => {
  it('prints no request lines at the default level', async () => {
    const { app, lines } = await appLoggingAt('info');
    expect((await app.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await app.app.inject({ url: '/api/rooms' })).statusCode).toBe(401);
    expect(lines.filter((l) => /request/.test(l.msg))).toEqual([]);
  });

  it('logs one line per request at debug, with the path and never the query string', async () => {
    const { app, lines } = await appLoggingAt('debug');
    await app.app.inject({ url: '/healthz?q=private+words' });
    const requests = lines.filter((l) => /request/.test(l.msg));
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      level: 20,
      msg: 'request completed',
      req: { method: 'GET', path: '/healthz' },
      res: { statusCode: 200 },
    });
    expect(JSON.stringify(lines)).not.toContain('private');
  });
});

describe('log format', () => {
  // A child process, so the format is decided as at start-up: by whether stdout is a terminal.
  const logHello = (pretty?: boolean) =>
    execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `const { createLogger } = await import('./src/server/app.ts');
         createLogger({ logLevel: 'info' }${pretty === undefined ? '' : `, { pretty: ${pretty} }`}).info({ roomId: 'r1' }, 'hello');`,
      ],
      { encoding: 'utf8' },
    );

  it('writes JSON lines when stdout is not a terminal, readable lines when asked', () => {
    const json = logHello();
    expect(JSON.parse(json.trim())).toMatchObject({ level: 30, msg: 'hello', roomId: 'r1' });
    const pretty = logHello(true);
    expect(pretty).toMatch(/INFO.*hello/);
    expect(pretty).toContain('roomId: "r1"');
    expect(() => JSON.parse(pretty.trim()) as unknown).toThrow();
  }, 60_000);
});
