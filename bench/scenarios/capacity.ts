import { execFileSync } from 'node:child_process';
import {
  carechatEndpoint,
  fmt,
  relayEndpoint,
  withCarechat,
  type Harness,
  type ScenarioOutcome,
} from '../lib/harness.js';
import { openFileLimit, ProcRecorder, sampleProc, type WindowUsage } from '../lib/proc.js';
import type { ConnectResult, Endpoint, IdleResult, Target } from '../lib/protocol.js';
import { sleep } from '../lib/ws-clients.js';

// Descriptors a server needs besides its sockets: database, WAL, listener, stdio, epoll.
const RESERVED_FDS = 256;

const hardFileLimit = (): number => {
  const out = execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim();
  return out === 'unlimited' ? 1_048_576 : Number(out);
};

export interface CapacityRun {
  target: Target;
  fileLimit: number | undefined;
  connect: ConnectResult;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  bytesPerConnection: number;
  idle: IdleResult;
  idleUsage: WindowUsage;
  /** Server CPU from the moment every client drops at once until 5 s later (a network blip). */
  dropUsage: WindowUsage;
}

async function fill(
  h: Harness,
  target: Target,
  endpoint: Endpoint,
  pid: number,
  pairs: number,
): Promise<CapacityRun> {
  await sleep(h.plan.settleMs / 3);
  const before = sampleProc(pid)?.rssBytes ?? 0;
  const connect = await h.gen.request<ConnectResult>(
    {
      op: 'connect',
      target,
      endpoint,
      pairs,
      concurrency: 50,
      maxFailures: 200,
      timeLimitMs: 240_000,
    },
    300_000,
  );
  await sleep(h.plan.settleMs);
  const after = sampleProc(pid)?.rssBytes ?? 0;
  // Held idle for a while: the connections must stay up, and what they cost at rest shows.
  const rec = new ProcRecorder(pid).start();
  const idle = await h.gen.request<IdleResult>(
    { op: 'idle', target, durationMs: h.plan.quick ? 3_000 : 10_000 },
    60_000,
  );
  const run: CapacityRun = {
    target,
    fileLimit: openFileLimit(pid),
    connect,
    rssBeforeBytes: before,
    rssAfterBytes: after,
    bytesPerConnection: connect.connected > 0 ? (after - before) / connect.connected : 0,
    idle,
    idleUsage: rec.stop(),
    dropUsage: rec.stop(),
  };
  h.log(
    `capacity ${target}: ${connect.connected}/${connect.attempted} in ${connect.seconds} s (${connect.connectsPerSecond}/s), ${idle.open} still open, ${(run.bytesPerConnection / 1024).toFixed(1)} KiB/conn, failures ${JSON.stringify(connect.failures)}`,
  );
  const drop = new ProcRecorder(pid).start();
  await h.gen.request({ op: 'disconnect', target }, 120_000);
  await sleep(h.plan.quick ? 1_000 : 5_000);
  run.dropUsage = drop.stop();
  return run;
}

/** (4) Idle authenticated connections up to the process's file limit. */
export async function capacity(h: Harness): Promise<Omit<ScenarioOutcome, 'name' | 'seconds'>> {
  const hard = hardFileLimit();
  const wanted = h.plan.capacity.maxConnections ?? hard - RESERVED_FDS;
  const pairs = Math.ceil(wanted / 2);
  return withCarechat(h, 'capacity', { pairs }, async ({ server }) => {
    const carechat = await fill(h, 'carechat', carechatEndpoint(server), server.pid, pairs);
    const relay = await fill(h, 'relay', relayEndpoint(h.relay), h.relay.pid, pairs);
    const held = carechat.idle.open;
    return {
      data: { hardFileLimit: hard, wanted, carechat, relay },
      rows: [
        {
          scenario: 'capacity',
          figure: `authenticated connections held (file limit ${fmt.n(carechat.fileLimit ?? hard)}, asked ${fmt.n(pairs * 2)})`,
          carechat: fmt.n(held),
          relay: fmt.n(relay.idle.open),
          target: '≥ 15,000',
          pass: h.plan.quick ? null : held >= 15_000,
        },
        {
          scenario: 'capacity',
          figure: 'memory per idle connection',
          carechat: fmt.kib(carechat.bytesPerConnection),
          relay: fmt.kib(relay.bytesPerConnection),
          target: '',
          pass: null,
        },
        {
          scenario: 'capacity',
          figure: 'connects/s (50 at a time)',
          carechat: fmt.n(carechat.connect.connectsPerSecond),
          relay: fmt.n(relay.connect.connectsPerSecond),
          target: '',
          pass: null,
        },
        {
          scenario: 'capacity',
          figure: 'server CPU seconds when all clients drop at once',
          carechat: `${carechat.dropUsage.cpuSeconds.toFixed(2)} s`,
          relay: `${relay.dropUsage.cpuSeconds.toFixed(2)} s`,
          target: '',
          pass: null,
        },
        {
          scenario: 'capacity',
          figure: 'server CPU while all idle (cores)',
          carechat: carechat.idleUsage.cpuCores.toFixed(3),
          relay: relay.idleUsage.cpuCores.toFixed(3),
          target: '',
          pass: null,
        },
      ],
    };
  });
}
