/**
 * The load generator: a child process of the harness that holds the users' sockets and
 * measures. It speaks to the harness over the IPC channel, one request at a time, and
 * keeps both ends of every message in this process so that one clock times them.
 */
import { readFileSync } from 'node:fs';
import { poll, probe } from './lib/http-clients.js';
import type {
  ChurnResult,
  Endpoint,
  GeneratorRequest,
  GeneratorResponse,
  SeedFile,
  Target,
} from './lib/protocol.js';
import { ClientSet, sleep } from './lib/ws-clients.js';
import { closedLoop, openLoop } from './lib/ws-load.js';

const COOKIE = 'carechat_session';
let seed: SeedFile | undefined;
const sets = new Map<string, ClientSet>();

function setOf(target: Target, name: string = target): ClientSet {
  let set = sets.get(name);
  if (!set) {
    set = new ClientSet(target);
    sets.set(name, set);
  }
  return set;
}

/** Users who sign on, stay a while and leave, over and over, until stopped. */
class Churn {
  private stopped = false;
  private readonly done: Promise<void>;
  readonly result: ChurnResult = { cycles: 0, opened: 0, failed: 0, failures: {} };

  constructor(endpoint: Endpoint, pairs: SeedFile['pairs'], holdMs: number) {
    this.done = this.loop(endpoint, pairs, holdMs);
  }

  private async loop(endpoint: Endpoint, pairs: SeedFile['pairs'], holdMs: number) {
    // Two halves take turns, so some churning users are always online while others come and go.
    const half = Math.ceil(pairs.length / 2);
    const groups = [pairs.slice(0, half), pairs.slice(half)].filter((g) => g.length > 0);
    let turn = 0;
    while (!this.stopped) {
      const set = new ClientSet('carechat');
      const c = await set.connect(endpoint, groups[turn++ % groups.length]!, {
        concurrency: 10,
        maxFailures: 1_000,
        timeLimitMs: 60_000,
      });
      this.result.opened += c.connected;
      this.result.failed += c.failed;
      for (const [k, n] of Object.entries(c.failures))
        this.result.failures[k] = (this.result.failures[k] ?? 0) + n;
      const until = performance.now() + holdMs;
      while (!this.stopped && performance.now() < until) await sleep(100);
      await set.close();
      this.result.cycles++;
    }
  }

  async stop(): Promise<ChurnResult> {
    this.stopped = true;
    await this.done;
    return this.result;
  }
}

let churn: Churn | undefined;

function seeded(): SeedFile {
  if (!seed) throw new Error('init first');
  return seed;
}

async function handle(req: GeneratorRequest): Promise<unknown> {
  switch (req.op) {
    case 'init':
      seed = JSON.parse(readFileSync(req.seedPath, 'utf8')) as SeedFile;
      await churn?.stop();
      churn = undefined;
      for (const set of sets.values()) await set.close();
      sets.clear();
      return { pairs: seed.pairs.length };
    case 'connect': {
      const from = req.from ?? 0;
      return setOf(req.target, req.set).connect(
        req.endpoint,
        seeded().pairs.slice(from, from + req.pairs),
        req,
      );
    }
    case 'floor':
      return closedLoop(setOf(req.target), req.count, req.warmup, req);
    case 'churn-start':
      if (churn) throw new Error('already churning');
      churn = new Churn(
        req.endpoint,
        seeded().pairs.slice(req.from, req.from + req.pairs),
        req.holdMs,
      );
      return {};
    case 'churn-stop': {
      const result = await churn?.stop();
      churn = undefined;
      return result ?? { cycles: 0, opened: 0, failed: 0, failures: {} };
    }
    case 'load':
      return openLoop(setOf(req.target), req.rate, req.durationMs, req.drainMs, req.withAcks);
    case 'idle':
      return setOf(req.target).idle(req.durationMs);
    case 'disconnect': {
      const closed = await setOf(req.target, req.set).close();
      sets.delete(req.set ?? req.target);
      return { closed };
    }
    case 'poll':
      return poll(
        req.baseUrl,
        seeded().pairs.slice(0, req.pairs),
        COOKIE,
        req.intervalMs,
        req.durationMs,
      );
    case 'http':
      return probe(req.baseUrl, req.requests, COOKIE, req.warmup);
    case 'exit':
      setImmediate(() => process.exit(0));
      return {};
  }
}

process.on('message', (req: GeneratorRequest) => {
  handle(req).then(
    (result) => process.send?.({ ok: true, result } satisfies GeneratorResponse),
    (err: unknown) =>
      process.send?.({
        ok: false,
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      } satisfies GeneratorResponse),
  );
});
// The generator never outlives the harness.
process.on('disconnect', () => process.exit(0));
