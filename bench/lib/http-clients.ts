import http from 'node:http';
import type { BenchPair, HttpProbe, HttpResult, PollResult } from './protocol.js';
import { summarize } from './stats.js';
import { sleep } from './ws-clients.js';

interface Answer {
  /** HTTP status, or the error code when there was no answer (ECONNRESET, timeout, …). */
  status: number | string;
  body: string;
}

function get(agent: http.Agent, url: URL, cookie: string): Promise<Answer> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent, headers: { cookie }, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
      );
      res.on('error', (err: Error & { code?: string }) =>
        resolve({ status: err.code ?? err.message, body: '' }),
      );
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: Error & { code?: string }) =>
      resolve({ status: err.code ?? err.message, body: '' }),
    );
  });
}

const bump = (m: Record<string, number>, key: string) => (m[key] = (m[key] ?? 0) + 1);

/**
 * The old system's way: every user asks for new messages every few seconds. Client i
 * first polls at i/n of the interval, so the load is spread evenly, as it is in life.
 */
export async function poll(
  baseUrl: string,
  pairs: readonly BenchPair[],
  cookieName: string,
  intervalMs: number,
  durationMs: number,
): Promise<PollResult> {
  const users = pairs.flatMap((p) => [
    { token: p.patient.token, roomId: p.roomId, after: p.lastSeq },
    { token: p.practitioner.token, roomId: p.roomId, after: p.lastSeq },
  ]);
  // Browsers keep their connection alive between polls; so does this agent.
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 20_000 });
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  let inFlight = 0;
  let messagesSeen = 0;
  const started = performance.now();
  const nextAt = users.map((_, i) => started + (i / users.length) * intervalMs);
  const fire = (i: number) => {
    const u = users[i]!;
    const url = new URL(`/api/rooms/${u.roomId}/messages?after=${u.after}&limit=50`, baseUrl);
    const t = performance.now();
    inFlight++;
    void get(agent, url, `${cookieName}=${u.token}`).then((a) => {
      inFlight--;
      latencies.push(performance.now() - t);
      bump(statuses, String(a.status));
      if (a.status === 200) {
        const page = JSON.parse(a.body) as { messages: { seq: number }[] };
        messagesSeen += page.messages.length;
        for (const m of page.messages) u.after = Math.max(u.after, m.seq);
      }
    });
  };
  while (performance.now() - started < durationMs) {
    const now = performance.now();
    for (let i = 0; i < users.length; i++) {
      if (nextAt[i]! <= now) {
        nextAt[i]! += intervalMs;
        fire(i);
      }
    }
    await sleep(10);
  }
  const drainUntil = performance.now() + 10_000;
  while (inFlight > 0 && performance.now() < drainUntil) await sleep(20);
  agent.destroy();
  return {
    clients: users.length,
    requests: latencies.length,
    statuses,
    latency: summarize(latencies),
    messagesSeen,
  };
}

/** Requests one after another on one kept-alive connection: latency without queueing. */
export async function probe(
  baseUrl: string,
  requests: readonly HttpProbe[],
  cookieName: string,
  warmup: number,
): Promise<HttpResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  let bodyBytes = 0;
  for (let i = 0; i < requests.length; i++) {
    const r = requests[i]!;
    const t = performance.now();
    const a = await get(agent, new URL(r.path, baseUrl), `${cookieName}=${r.token}`);
    const ms = performance.now() - t;
    if (i < warmup) continue;
    latencies.push(ms);
    bump(statuses, String(a.status));
    bodyBytes = a.body.length;
  }
  agent.destroy();
  return { requests: latencies.length, statuses, latency: summarize(latencies), bodyBytes };
}
