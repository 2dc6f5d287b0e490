import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { createServer, Socket, type Server } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import axe from 'axe-core';
import { afterAll, beforeAll } from 'vitest';
import { systemClock } from '../../src/domain/clock.js';
import { createTestStore, startTestApp, type TestApp, type TestStore } from '../support/app.js';
import { staleParts } from '../../scripts/build-state.mjs';
import { findBrowser } from './find-browser.js';

let announced = false;

/** Launches the Chromium that findBrowser() picks, and says once which one it is. */
async function launchBrowser(): Promise<Browser> {
  const choice = await findBrowser();
  if (!announced) {
    announced = true;
    const libs = choice.env?.LD_LIBRARY_PATH ? ', with the libraries it carries' : '';
    process.stdout.write(`browser tests use ${choice.executablePath} (${choice.source}${libs})\n`);
  }
  return chromium.launch({
    executablePath: choice.executablePath,
    headless: true,
    ...(choice.env ? { env: { ...process.env, ...choice.env } } : {}),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
}

/**
 * Builds the parts of the app (`server`, `web`) that are missing or older than their
 * sources, as `npm start` would. Test files may run in parallel; a lock directory makes
 * the second one wait for the first one's build.
 */
export function ensureBuilt(parts: ReadonlyArray<'server' | 'web'> = ['web']): void {
  const lock = 'dist/.web-build-lock';
  mkdirSync('dist', { recursive: true });
  for (let waited = 0; ; waited += 200) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (waited > 120_000) rmSync(lock, { recursive: true, force: true });
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    for (const part of staleParts(process.cwd()))
      if (parts.includes(part))
        execFileSync('npm', ['run', '--silent', `build:${part}`], { stdio: 'inherit' });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * A TCP relay in front of the app. The browser always talks to the relay's fixed origin,
 * so the server can be stopped and started again (on another port) under the same address;
 * while it is "down" the relay drops every connection, as a dead server would.
 */
export class Relay {
  private server: Server = createServer((client) => this.accept(client));
  private sockets = new Set<Socket>();
  private target = 0;
  private down = true;
  port = 0;

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (!address || typeof address === 'string') throw new Error('relay has no port');
    this.port = address.port;
    return `http://127.0.0.1:${this.port}`;
  }

  point(port: number): void {
    this.target = port;
    this.down = false;
  }

  cut(): void {
    this.down = true;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.down) {
      client.destroy();
      return;
    }
    const upstream = new Socket();
    this.sockets.add(client);
    this.sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    upstream.connect(this.target, '127.0.0.1', () => {
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }
}

/** The whole server on a temporary database, reachable at a stable origin through a relay. */
export class E2EServer {
  app!: TestApp;
  origin = '';
  private relay = new Relay();
  private store!: TestStore;

  /** `env`: extra server settings for this test's server, e.g. a short idle timeout. */
  constructor(private readonly env: Record<string, string> = {}) {}

  async start(): Promise<void> {
    this.origin = await this.relay.listen();
    this.store = await createTestStore();
    await this.boot();
  }

  private async boot(): Promise<void> {
    this.app = await startTestApp({
      listen: true,
      store: this.store,
      // Real time: heartbeats, typing expiry and rate-limit refills must move as in production.
      clock: systemClock,
      env: {
        PUBLIC_ORIGIN: this.origin,
        LOGIN_MAX_PER_IP: '1000',
        LOGIN_MAX_PER_ACCOUNT: '1000',
        ...this.env,
      },
    });
    // startTestApp points the origin at its own port; the browser comes through the relay.
    this.app.config.publicOrigin = this.origin;
    this.relay.point(Number(new URL(this.app.url).port));
  }

  /** Stops the server process; the browser sees the connection die. */
  async stopServer(): Promise<void> {
    this.relay.cut();
    await this.app.stop();
  }

  /**
   * Stops the server as a deploy does (SIGTERM): it closes its sockets itself, with 1001,
   * through the relay; then the address refuses connections until the restart.
   */
  async shutDownServer(): Promise<void> {
    await this.app.stop();
    this.relay.cut();
  }

  /** The same database, a fresh process. */
  async restartServer(): Promise<void> {
    await this.boot();
  }

  async close(): Promise<void> {
    await this.relay.close();
    await this.app.stop().catch(() => undefined);
    await this.store.drop();
  }
}

export const SCREENSHOTS = 'test-results/screenshots';

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

export const DESKTOP = { width: 1280, height: 860 };
export const PHONE = { width: 375, height: 740 };

export async function newContext(
  browser: Browser,
  origin: string,
  viewport = DESKTOP,
): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL: origin, viewport, locale: 'en-GB' });
  context.setDefaultTimeout(10_000);
  return context;
}

export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/login'));
}

/** Every error the page raises or logs, so a test can say that nothing went wrong. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('dialog', (d) => {
    errors.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  return errors;
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown[] }>;
}

/** axe-core's serious and critical findings on the page as it is now. */
export async function seriousViolations(page: Page): Promise<string[]> {
  const has = await page.evaluate(() => 'axe' in window);
  if (!has) {
    // The app's CSP (script-src 'self') rightly refuses page.addScriptTag's inline script;
    // DevTools evaluation is outside the page's CSP, so axe goes in that way.
    await page.evaluate(axe.source);
  }
  const violations = await page.evaluate(async () => {
    const w = window as unknown as {
      axe: { run: (ctx: Document, opts: object) => Promise<{ violations: AxeViolation[] }> };
    };
    const result = await w.axe.run(document, { resultTypes: ['violations'] });
    return result.violations;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) => `${v.id} (${v.impact}): ${v.help} at ${JSON.stringify(v.nodes.map((n) => n.target))}`,
    );
}

export async function hasHorizontalScroll(page: Page): Promise<boolean> {
  return page.evaluate(
    () => document.documentElement.scrollWidth > document.documentElement.clientWidth + 1,
  );
}

/**
 * One server and one Chromium for a describe block: started before its tests, and closed
 * after them with every browser context the tests opened.
 */
export function useBrowser(env: Record<string, string> = {}) {
  const server = new E2EServer(env);
  const contexts: BrowserContext[] = [];
  let browser: Browser | undefined;

  beforeAll(async () => {
    ensureBuilt(['web']);
    await server.start();
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await server.close();
  });

  /** A fresh context (own cookies), for this block's server unless another origin is given. */
  const openContext = async (origin = server.origin): Promise<BrowserContext> => {
    const context = await newContext(browser!, origin);
    contexts.push(context);
    return context;
  };
  return { server, openContext, open: async (): Promise<Page> => (await openContext()).newPage() };
}
