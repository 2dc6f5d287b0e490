import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from './browser.js';

/**
 * `npm start` as a person runs it: the real npm, the real launcher, the real server on a
 * fresh SQLite file. Every process it starts carries a marker in its environment, so the
 * test can tell whether anything of it outlives the npm process.
 */
interface Started {
  npm: ChildProcess;
  marker: string;
  url: string;
  output: () => string;
  exited: Promise<void>;
}

const dirs: string[] = [];

async function npmStart(opts: { ownGroup?: boolean; demo?: boolean } = {}): Promise<Started> {
  const dir = mkdtempSync(join(tmpdir(), 'carechat-start-'));
  dirs.push(dir);
  const marker = `carechat-start-test-${randomUUID()}`;
  const npm = spawn('npm', ['start'], {
    env: {
      ...process.env,
      PORT: '0',
      DATABASE_URL: `sqlite:${join(dir, 'carechat.db')}`,
      DEMO: String(opts.demo ?? true),
      DEMO_PASSWORD: 'start-test-password',
      LOG_LEVEL: 'info',
      TEST_DATABASE_URL: '',
      CARECHAT_START_MARKER: marker,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // ownGroup: a process group of its own, as a terminal gives a foreground job.
    detached: opts.ownGroup ?? false,
  });
  let out = '';
  npm.stdout.on('data', (d: Buffer) => (out += d.toString()));
  npm.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => npm.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /carechat is running at (http:\/\/\S+)/.exec(out);
      if (m) {
        clearInterval(timer);
        resolve(m[1]!);
      }
    }, 100);
    void exited.then(() => {
      clearInterval(timer);
      reject(new Error(`npm start exited before it was running:\n${out}`));
    });
  });
  return { npm, marker, url, output: () => out, exited };
}

/** Pids of live processes whose environment holds the marker (Linux's /proc). */
function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      if (/^State:\s+Z/m.test(status)) continue;
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').includes(marker)) pids.push(Number(entry));
    } catch {
      // Gone while we looked, or not ours to read.
    }
  }
  return pids;
}

async function waitUntilGone(marker: string): Promise<number[]> {
  for (let i = 0; i < 100; i++) {
    if (processesWith(marker).length === 0) return [];
    await new Promise((r) => setTimeout(r, 100));
  }
  return processesWith(marker);
}

const refuses = (url: string) =>
  new Promise<boolean>((resolve) => {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });

let leftovers: number[] = [];

afterEach(() => {
  // Whatever a failed test left running is ended here, by pid.
  for (const pid of leftovers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  leftovers = [];
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const hasProc = existsSync('/proc/self/environ');
if (!hasProc)
  process.stdout.write('npm start tests skipped: they find leftover processes in /proc (Linux)\n');

describe.runIf(hasProc)('npm start', () => {
  beforeAll(() => {
    // Built beforehand under the tests' build lock, so npm start must not build again.
    ensureBuilt(['server', 'web']);
  }, 300_000);

  it('SIGTERM to the npm start pid stops the server too, gracefully, leaving no process behind', async () => {
    const s = await npmStart();
    leftovers = processesWith(s.marker);
    expect(leftovers.length).toBeGreaterThan(0);
    const health = await fetch(`${s.url}/healthz`);
    expect(health.status).toBe(200);

    s.npm.kill('SIGTERM');
    await s.exited;
    expect(await waitUntilGone(s.marker)).toEqual([]);
    expect(await refuses(s.url)).toBe(true);

    const out = s.output();
    // Up to date: no rebuild.
    expect(out).not.toContain('building the');
    // The quick start's terminal: the address, the demo logins, real events; no request lines.
    expect(out).toMatch(/^patient Carol Anderson \S+ start-test-password$/m);
    const logs = out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; signal?: string });
    expect(logs.find((l) => l.msg === 'shutting down')?.signal).toBe('SIGTERM');
    expect(logs.filter((l) => /request/.test(l.msg))).toEqual([]);
  }, 120_000);

  it('Ctrl-C (SIGINT to the foreground process group) stops everything too', async () => {
    // No demo practice this time: its password hashing is the slow part of a start.
    const s = await npmStart({ ownGroup: true, demo: false });
    leftovers = processesWith(s.marker);
    process.kill(-s.npm.pid!, 'SIGINT');
    await s.exited;
    expect(await waitUntilGone(s.marker)).toEqual([]);
    expect(await refuses(s.url)).toBe(true);
    expect(s.output()).toContain('"msg":"shutting down"');
  }, 120_000);
});
