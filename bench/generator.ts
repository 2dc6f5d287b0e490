/**
 * The load generator: a child process of the harness that holds the users' sockets and
 * measures. It speaks to the harness over the IPC channel, one request at a time, and
 * keeps both ends of every message in this process so that one clock times them.
 */
import { readFileSync } from 'node:fs';
import { poll, probe } from './lib/http-clients.js';
import type { GeneratorRequest, GeneratorResponse, SeedFile, Target } from './lib/protocol.js';
import { ClientSet } from './lib/ws-clients.js';
import { closedLoop, openLoop } from './lib/ws-load.js';

const COOKIE = 'carechat_session';
let seed: SeedFile | undefined;
const sets = new Map<Target, ClientSet>();

function setOf(target: Target): ClientSet {
  let set = sets.get(target);
  if (!set) {
    set = new ClientSet(target);
    sets.set(target, set);
  }
  return set;
}

function seeded(): SeedFile {
  if (!seed) throw new Error('init first');
  return seed;
}

async function handle(req: GeneratorRequest): Promise<unknown> {
  switch (req.op) {
    case 'init':
      seed = JSON.parse(readFileSync(req.seedPath, 'utf8')) as SeedFile;
      for (const set of sets.values()) await set.close();
      sets.clear();
      return { pairs: seed.pairs.length };
    case 'connect':
      return setOf(req.target).connect(req.endpoint, seeded().pairs.slice(0, req.pairs), req);
    case 'floor':
      return closedLoop(setOf(req.target), req.count, req.warmup);
    case 'load':
      return openLoop(setOf(req.target), req.rate, req.durationMs, req.drainMs);
    case 'idle':
      return setOf(req.target).idle(req.durationMs);
    case 'disconnect': {
      const closed = await setOf(req.target).close();
      sets.delete(req.target);
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
