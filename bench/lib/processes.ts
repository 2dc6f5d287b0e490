import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GeneratorRequest, GeneratorResponse } from './protocol.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Runs node under `sh` so the soft limit on open files can be raised to the hard one first. */
function spawnNode(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; stdio: ('ignore' | 'pipe' | 'ipc' | 'inherit' | number)[] },
): ChildProcess {
  return spawn(
    'sh',
    ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', process.execPath, ...args],
    { cwd: repoRoot, env: opts.env ?? process.env, stdio: opts.stdio },
  );
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if (!(await exited(child, graceMs))) {
    child.kill('SIGKILL');
    await exited(child, 5_000);
  }
}

export interface CarechatProcess {
  pid: number;
  port: number;
  origin: string;
  /** Where prom-client's metrics are served, when asked for (they cost a little per message). */
  metricsUrl: string | undefined;
  stop(): Promise<void>;
  /** kill -9: no shutdown, no drain, whatever was in flight. */
  kill(): Promise<void>;
}

/**
 * carechat in production mode in its own process, on the given SQLite file. With
 * `cpuProfDir`, V8 writes a .cpuprofile there when the server exits.
 */
export async function startCarechat(opts: {
  dbPath: string;
  /** Instead of the SQLite file: a postgres://…?schema=… URL (two-process scenario). */
  databaseUrl?: string | undefined;
  /** More environment (REDIS_URL, REDIS_PREFIX, attachment limits). */
  env?: Record<string, string> | undefined;
  /** Serve metrics on a port of their own (the soak reads event-loop delay from them). */
  metrics?: boolean | undefined;
  logPath: string;
  cpuProfDir?: string | undefined;
  /** Where bench/lib/sql-stats.ts, preloaded, writes its statement timings on exit. */
  sqlStatsPath?: string | undefined;
}): Promise<CarechatProcess> {
  const port = await freePort();
  const metricsPort = opts.metrics ? await freePort() : undefined;
  const origin = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...opts.env,
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_ORIGIN: origin,
    ...(metricsPort ? { METRICS_PORT: String(metricsPort) } : {}),
    DATABASE_URL: opts.databaseUrl ?? `sqlite:${opts.dbPath}`,
    LOG_LEVEL: 'warn',
    DEMO: 'false',
    // The SQLite writer thread and PostgreSQL's pool size, as the harness was started
    // (compare settings run against run).
    ...Object.fromEntries(
      ['SQLITE_WRITER_THREAD', 'DATABASE_POOL_SIZE'].flatMap((k) =>
        process.env[k] ? [[k, process.env[k]]] : [],
      ),
    ),
  };
  const profile = opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : [];
  // After tsx, which is what lets node load a .ts preload.
  const preload: string[] = [];
  if (opts.sqlStatsPath) {
    env.BENCH_SQL_STATS = opts.sqlStatsPath;
    preload.push('--import', join(repoRoot, 'bench', 'lib', 'sql-stats.ts'));
  }
  const log = openSync(opts.logPath, 'w');
  const child = spawnNode([...profile, '--import', 'tsx', ...preload, 'src/server/main.ts'], {
    env,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new Error('carechat did not start');
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      const tail = readFileSync(opts.logPath, 'utf8').split('\n').slice(-20).join('\n');
      throw new Error(`carechat exited with ${child.exitCode}:\n${tail}`);
    }
    const ready = await fetch(`${origin}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stopChild(child, 1_000);
      throw new Error('carechat was not ready within 60 s');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  // A profile of a big run takes a while to write on exit.
  return {
    pid,
    port,
    origin,
    metricsUrl: metricsPort ? `http://127.0.0.1:${metricsPort}/metrics` : undefined,
    stop: () => stopChild(child, 30_000),
    kill: async () => {
      child.kill('SIGKILL');
      await exited(child, 10_000);
    },
  };
}

export interface RelayProcess {
  pid: number;
  port: number;
  stop(): Promise<void>;
}

export async function startRelay(): Promise<RelayProcess> {
  const child = spawnNode(['--import', 'tsx', 'bench/relay.ts'], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('relay did not start')), 30_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /relay listening (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`relay exited with ${code}`)));
  });
  return { pid: child.pid!, port, stop: () => stopChild(child, 5_000) };
}

/** The load generator, driven request by request over IPC. */
export class Generator {
  private constructor(
    private readonly child: ChildProcess,
    readonly pid: number,
  ) {}

  static start(): Generator {
    const child = spawnNode(
      ['--max-old-space-size=4096', '--import', 'tsx', 'bench/generator.ts'],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    return new Generator(child, child.pid!);
  }

  request<T>(req: GeneratorRequest, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`generator did not answer ${req.op} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (res: GeneratorResponse) => {
        cleanup();
        if (res.ok) resolve(res.result as T);
        else reject(new Error(`generator ${req.op}: ${res.error}`));
      };
      const onExit = (code: number | null) => {
        cleanup();
        reject(new Error(`generator exited with ${code}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
      };
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
      this.child.send(req);
    });
  }

  async stop(): Promise<void> {
    if (this.child.connected) this.child.send({ op: 'exit' } satisfies GeneratorRequest);
    if (!(await exited(this.child, 5_000))) await stopChild(this.child, 2_000);
  }
}
