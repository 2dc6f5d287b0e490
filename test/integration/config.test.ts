import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'carechat-config-'));
  dirs.push(d);
  return d;
}

/** The environment a start-up sees: nothing of carechat's inherited from the test runner. */
function cleanEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) =>
        !/^(PORT|HOST|METRICS_|DATABASE_|REDIS_|PUBLIC_ORIGIN|DEMO|SESSION_|LOG_LEVEL|TRUST_PROXY|LOGIN_|WEB_ROOT)/.test(
          k,
        ),
    ),
  );
  return { ...base, ...env };
}

function runServer(env: Record<string, string>) {
  return spawn(process.execPath, ['--import', 'tsx', 'src/server/main.ts'], {
    cwd: ROOT,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function runToExit(
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = runServer(env);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, stderr };
}

describe('start-up with a bad configuration', () => {
  it.each([
    ['PORT', 'not-a-port', 'PORT must be a port number'],
    ['SESSION_IDLE_MINUTES', '-5', 'SESSION_IDLE_MINUTES must be a positive number of minutes'],
    ['DATABASE_URL', 'mysql://localhost/carechat', 'DATABASE_URL must be sqlite:<path>'],
  ])('%s=%s stops with exit code 1 and one line naming the variable', async (name, value, text) => {
    const dir = tempDir();
    const result = await runToExit({
      DATABASE_URL: `sqlite:${join(dir, 'c.db')}`,
      [name]: value,
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toEqual([expect.stringContaining(`Invalid configuration: ${text}`)]);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stderr).not.toContain('ZodError');
  });
});

describe('start-up with a good configuration', () => {
  it('creates the demo practice, prints the URL and demo logins, and serves sign-in', async () => {
    const dir = tempDir();
    const child = runServer({
      DATABASE_URL: `sqlite:${join(dir, 'carechat.db')}`,
      PORT: '0',
      DEMO_PASSWORD: 'demo password for tests',
      LOG_LEVEL: 'warn',
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          if (/^admin .+$/m.test(stdout)) resolve();
        });
        child.on('close', () => reject(new Error(`server exited early: ${stderr}`)));
      });
      const url = /carechat is running at (http:\/\/\S+)/.exec(stdout)?.[1];
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(url).not.toMatch(/:0$/);
      const logins = stdout
        .split('\n')
        .filter((l) => /^(patient|practitioner|admin) /.test(l))
        .map((l) => l.split(' '));
      expect(logins.length).toBeGreaterThanOrEqual(9);
      expect(stdout).toContain(
        'patient Carol Anderson carol.anderson@example.com demo password for tests',
      );
      expect(stdout).toContain('practitioner Emily Davis emily.davis@example.com');

      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      const login = await fetch(`${url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: url! },
        body: JSON.stringify({
          email: 'emily.davis@example.com',
          password: 'demo password for tests',
        }),
      });
      expect(login.status).toBe(200);
      expect(((await login.json()) as { user: { name: string } }).user.name).toBe('Emily Davis');
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});
