import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import type { BenchPair, ConnectResult, Endpoint, IdleResult, Target } from './protocol.js';
import { round } from './stats.js';

/** One browser tab: an authenticated socket of one user in one room. */
interface Client {
  index: number;
  userId: string;
  roomId: string;
  peer: number;
  ws: WebSocket;
  open: boolean;
  /** The server has answered `resumed`: live delivery has begun. */
  live: boolean;
  heartbeatMs: number;
  lastPingAt: number;
}

/** The run in progress: what was planned, and what arrived where. */
export interface Run {
  tag: string;
  total: number;
  arrivals: Uint8Array;
  latency: Float64Array;
  ackLatency: Float64Array;
  delivered: number;
  duplicated: number;
  misrouted: number;
  acks: number;
  errors: Record<string, number>;
  closes: Record<string, number>;
  otherFrames: Record<string, number>;
  onArrive?: (k: number) => void;
}

const BODY_BYTES = 200;
const text = (d: WebSocket.RawData): string =>
  Buffer.isBuffer(d)
    ? d.toString()
    : Array.isArray(d)
      ? Buffer.concat(d).toString()
      : Buffer.from(d).toString();
const bump = (m: Record<string, number>, key: string) => (m[key] = (m[key] ?? 0) + 1);

/** ~200 bytes, starting with the scheduled send time so the receiver can measure from it. */
export function stampedBody(k: number, scheduledAt: number): string {
  const head = `{"k":${k},"t":${scheduledAt}}`;
  return head + ' '.repeat(Math.max(0, BODY_BYTES - head.length));
}

function scheduledOf(body: string): number {
  const end = body.indexOf('}');
  return (JSON.parse(body.slice(0, end + 1)) as { t: number }).t;
}

type Frame = {
  type?: string;
  clientId?: string;
  body?: string;
  code?: string;
  heartbeatMs?: number;
  message?: { clientId?: string; body?: string; senderId?: string };
};

/** Every socket of one target, and the bookkeeping of the run on it. */
export class ClientSet {
  readonly clients: Client[] = [];
  private run: Run | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  /** Frames that belong to no run: late arrivals of an earlier step, or idle traffic. */
  readonly stray: Record<string, number> = {};

  constructor(readonly target: Target) {}

  /**
   * Opens two sockets a pair: the patient's to `endpoint`, the practitioner's to
   * `practitionerEndpoint` when given (another process), else to `endpoint` too.
   */
  async connect(
    endpoint: Endpoint,
    pairs: readonly BenchPair[],
    opts: {
      concurrency: number;
      maxFailures: number;
      timeLimitMs: number;
      practitionerEndpoint?: Endpoint | undefined;
    },
  ): Promise<ConnectResult> {
    const specs = pairs.flatMap((p, i) => [
      {
        user: p.patient,
        roomId: p.roomId,
        lastSeq: p.lastSeq,
        index: 2 * i,
        peer: 2 * i + 1,
        endpoint,
      },
      {
        user: p.practitioner,
        roomId: p.roomId,
        lastSeq: p.lastSeq,
        index: 2 * i + 1,
        peer: 2 * i,
        endpoint: opts.practitionerEndpoint ?? endpoint,
      },
    ]);
    const failures: Record<string, number> = {};
    let failed = 0;
    let noHello = 0;
    let next = 0;
    const started = performance.now();
    const deadline = started + opts.timeLimitMs;
    const worker = async () => {
      while (next < specs.length && failed < opts.maxFailures && performance.now() < deadline) {
        const spec = specs[next++]!;
        try {
          const client = await this.open(spec.endpoint, spec);
          if (!client.live && this.target === 'carechat') noHello++;
          this.clients[spec.index] = client;
        } catch (err) {
          failed++;
          bump(failures, err instanceof Error ? err.message : String(err));
        }
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
    const seconds = (performance.now() - started) / 1000;
    const connected = this.clients.filter((c) => c?.open).length;
    this.startHeartbeat();
    return {
      attempted: next,
      connected,
      failed,
      seconds: round(seconds),
      connectsPerSecond: round(connected / seconds, 1),
      failures,
      noHello,
    };
  }

  private open(
    endpoint: Endpoint,
    spec: {
      user: { id: string; token: string };
      roomId: string;
      lastSeq: number;
      index: number;
      peer: number;
    },
  ): Promise<Client> {
    const url =
      this.target === 'relay'
        ? `${endpoint.wsUrl}?id=${spec.index}&peer=${spec.peer}`
        : endpoint.wsUrl;
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      headers: { cookie: `${endpoint.cookieName}=${spec.user.token}`, origin: endpoint.origin },
      handshakeTimeout: 10_000,
    });
    const client: Client = {
      index: spec.index,
      userId: spec.user.id,
      roomId: spec.roomId,
      peer: spec.peer,
      ws,
      open: false,
      live: false,
      heartbeatMs: 0,
      lastPingAt: 0,
    };
    return new Promise<Client>((resolve, reject) => {
      let settled = false;
      const settle = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(helloTimer);
        if (err) reject(err);
        else resolve(client);
      };
      // As the web app does: resume the room at once, live when the server says `resumed`.
      // A connection still open but not resumed 10 s later counts as connected (noHello).
      let helloTimer: NodeJS.Timeout | undefined;
      ws.on('open', () => {
        client.open = true;
        if (this.target === 'relay') return settle();
        ws.send(JSON.stringify({ type: 'resume', rooms: { [spec.roomId]: spec.lastSeq } }));
        helloTimer = setTimeout(() => settle(), 10_000);
      });
      ws.on('message', (data: WebSocket.RawData) => {
        const frame = JSON.parse(text(data)) as Frame;
        if (frame.type === 'hello') {
          client.heartbeatMs = frame.heartbeatMs ?? 0;
          client.lastPingAt = performance.now() - Math.random() * client.heartbeatMs;
          return;
        }
        if (frame.type === 'resumed') {
          client.live = true;
          settle();
          return;
        }
        this.onFrame(client, frame);
      });
      ws.on('unexpected-response', (_req, res) => {
        settle(new Error(`http ${res.statusCode ?? '?'}`));
        ws.terminate();
      });
      ws.on('close', (code: number) => {
        const wasOpen = client.open;
        client.open = false;
        if (settled && wasOpen) bump(this.run?.closes ?? this.stray, `close ${code}`);
        settle(new Error(`close ${code}`));
      });
      ws.on('error', (err: Error & { code?: string }) =>
        settle(new Error(err.code ?? err.message)),
      );
    });
  }

  /** Pings like the web app does, when the gateway asks for a heartbeat in its hello. */
  private startHeartbeat(): void {
    if (this.heartbeat || this.target === 'relay') return;
    this.heartbeat = setInterval(() => {
      const now = performance.now();
      for (const c of this.clients) {
        if (c?.open && c.heartbeatMs > 0 && now - c.lastPingAt >= c.heartbeatMs) {
          c.lastPingAt = now;
          c.ws.send('{"type":"ping"}');
        }
      }
    }, 500);
  }

  private onFrame(client: Client, frame: Frame): void {
    const run = this.run;
    const type = frame.type ?? 'untyped';
    const isDelivery = type === 'message' || (this.target === 'relay' && type === 'send');
    if (type === 'ack') {
      const k = run ? this.indexOf(run, frame.clientId) : -1;
      if (run && k >= 0) {
        run.acks++;
        run.ackLatency[k] =
          performance.now() - scheduledOf(frame.message?.body ?? frame.body ?? '');
      } else bump(this.stray, 'ack');
      return;
    }
    if (type === 'error') {
      bump(run?.errors ?? this.stray, `error ${frame.code ?? '?'}`);
      return;
    }
    if (!isDelivery) {
      bump(run?.otherFrames ?? this.stray, type);
      return;
    }
    const clientId = frame.message?.clientId ?? frame.clientId;
    const body = frame.message?.body ?? frame.body ?? '';
    // The sender's own socket may get its message too (other tabs): not a delivery.
    if (frame.message?.senderId === client.userId) {
      bump(run?.otherFrames ?? this.stray, 'message (own)');
      return;
    }
    const k = run ? this.indexOf(run, clientId) : -1;
    if (!run || k < 0) {
      bump(this.stray, 'late message');
      return;
    }
    const now = performance.now();
    const sender = this.senderOf(k);
    if (this.clients[sender]?.peer !== client.index) run.misrouted++;
    if (run.arrivals[k]! > 0) {
      run.duplicated++;
      return;
    }
    run.arrivals[k] = 1;
    run.delivered++;
    run.latency[k] = now - scheduledOf(body);
    run.onArrive?.(k);
  }

  private indexOf(run: Run, clientId: string | undefined): number {
    if (!clientId?.startsWith(run.tag)) return -1;
    const k = parseInt(clientId.slice(run.tag.length), 16);
    return Number.isInteger(k) && k >= 0 && k < run.total ? k : -1;
  }

  /** Message k goes from client k mod N to that client's peer: every user sends in turn. */
  senderOf(k: number): number {
    return k % this.clients.length;
  }

  /** Opens the books of a run of `total` messages; frames are counted against it until end(). */
  begin(total: number): Run {
    const latency = new Float64Array(total).fill(Number.NaN);
    const ackLatency = new Float64Array(total).fill(Number.NaN);
    this.run = {
      // Client ids must be UUIDs: the run in the first group, the message number in the last.
      tag: `${randomBytes(4).toString('hex')}-0000-4000-8000-`,
      total,
      arrivals: new Uint8Array(total),
      latency,
      ackLatency,
      delivered: 0,
      duplicated: 0,
      misrouted: 0,
      acks: 0,
      errors: {},
      closes: {},
      otherFrames: {},
    };
    return this.run;
  }

  end(): void {
    this.run = undefined;
  }

  /** Sends message k of the run from client `from`; false when that socket is gone. */
  send(run: Run, k: number, from: number, scheduledAt: number): boolean {
    const c = this.clients[from];
    if (!c?.open) return false;
    const clientId = run.tag + k.toString(16).padStart(12, '0');
    const body = stampedBody(k, scheduledAt);
    c.ws.send(JSON.stringify({ type: 'send', roomId: c.roomId, clientId, body }));
    return true;
  }

  async idle(durationMs: number): Promise<IdleResult> {
    const closes: Record<string, number> = {};
    const before = { ...this.stray };
    await sleep(durationMs);
    const otherFrames: Record<string, number> = {};
    for (const [key, n] of Object.entries(this.stray)) {
      const d = n - (before[key] ?? 0);
      if (d > 0) (key.startsWith('close') ? closes : otherFrames)[key] = d;
    }
    return { open: this.clients.filter((c) => c?.open).length, closes, otherFrames };
  }

  async close(): Promise<number> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    const open = this.clients.filter((c) => c?.open);
    for (const c of open) c.ws.terminate();
    this.clients.length = 0;
    await sleep(200);
    return open.length;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
