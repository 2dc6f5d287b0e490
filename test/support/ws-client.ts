import { randomUUID } from 'node:crypto';
import type { ClientRequestArgs } from 'node:http';
import net from 'node:net';
import WebSocket from 'ws';
import type { ClientCommand, ServerEvent, ServerEventOf } from '../../src/shared/events.js';
import type { MessageWire } from '../../src/shared/wire.js';
import type { UserRow } from '../../src/store/schema.js';
import type { TestApp, TestClient } from './app.js';

export interface Closed {
  code: number;
  reason: string;
}

type Predicate<E> = (event: E) => boolean;

/** Frames received so far, and waiters for frames still to come; each frame is taken at most once. */
class Inbox<E> {
  readonly all: E[] = [];
  private readonly taken = new Set<number>();
  private waiters: { pred: Predicate<E>; resolve: (e: E) => void }[] = [];
  private ended: Error | undefined;

  push(event: E): void {
    const index = this.all.push(event) - 1;
    const w = this.waiters.find((x) => x.pred(event));
    if (!w) return;
    this.taken.add(index);
    this.waiters = this.waiters.filter((x) => x !== w);
    w.resolve(event);
  }

  end(why: string): void {
    this.ended = new Error(why);
  }

  next(pred: Predicate<E>, timeoutMs: number, describe: () => string): Promise<E> {
    const index = this.all.findIndex((e, i) => !this.taken.has(i) && pred(e));
    if (index >= 0) {
      this.taken.add(index);
      return Promise.resolve(this.all[index]!);
    }
    return new Promise<E>((resolve, reject) => {
      const waiter = {
        pred,
        resolve: (e: E) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== waiter);
        reject(
          new Error(
            `no matching frame within ${timeoutMs} ms${this.ended ? ` (${this.ended.message})` : ''}; got: ${describe()}`,
          ),
        );
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }
}

const summary = (events: readonly { type: string }[]): string =>
  events
    .slice(-12)
    .map((e) => e.type)
    .join(', ') || 'nothing';

/**
 * A real WebSocket client of `/api/ws`: connects with the session cookie and an Origin,
 * keeps every frame, and lets a test wait for the next one that matches.
 */
export class WsClient {
  private readonly inbox = new Inbox<ServerEvent>();
  /** Resolves with the close code once the server (or the client) has closed the socket. */
  readonly closed: Promise<Closed>;
  private tcp: net.Socket | undefined;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: WebSocket.RawData) => {
      const text = Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.from(data as ArrayBuffer).toString('utf8');
      this.inbox.push(JSON.parse(text) as ServerEvent);
    });
    this.closed = new Promise<Closed>((resolve) => {
      socket.on('close', (code: number, reason: Buffer) => {
        this.inbox.end(`closed ${code}`);
        resolve({ code, reason: reason.toString('utf8') });
      });
    });
    // A refused or reset connection still ends in 'close'; the error itself says nothing more.
    socket.on('error', () => undefined);
  }

  /** A live socket, as the web app holds one: connected, greeted, resumed with the rooms it names. */
  static async live(
    baseUrl: string,
    cookie: string,
    rooms: Record<string, number> = {},
  ): Promise<WsClient> {
    const ws = await WsClient.connect(baseUrl, { cookie });
    await ws.nextOf('hello');
    await ws.resume(rooms);
    return ws;
  }

  /** Opens a socket; resolves once the upgrade succeeded (a refusal arrives later as a close code). */
  static connect(
    baseUrl: string,
    opts: {
      cookie?: string;
      /** Defaults to the app's own origin, as a browser on its page sends; null sends none. */
      origin?: string | null;
      headers?: Record<string, string>;
      /** false: never answer the server's pings, like a peer whose network vanished. */
      autoPong?: boolean;
    } = {},
  ): Promise<WsClient> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.cookie) headers.cookie = opts.cookie;
    if (opts.origin !== null) headers.origin = opts.origin ?? baseUrl;
    let tcp: net.Socket | undefined;
    const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/api/ws`, {
      headers,
      perMessageDeflate: false,
      autoPong: opts.autoPong ?? true,
      createConnection: (o: ClientRequestArgs) =>
        (tcp = net.connect(o as unknown as net.NetConnectOpts)),
    });
    const client = new WsClient(socket);
    client.tcp = tcp;
    return new Promise<WsClient>((resolve, reject) => {
      socket.once('open', () => resolve(client));
      socket.once('unexpected-response', (_req, res) =>
        reject(new Error(`upgrade refused with HTTP ${res.statusCode}`)),
      );
      void client.closed.then((c) => reject(new Error(`closed before open: ${c.code}`)));
    });
  }

  /** Every frame received so far, in arrival order. */
  get frames(): readonly ServerEvent[] {
    return this.inbox.all;
  }

  framesOf<T extends ServerEvent['type']>(type: T): ServerEventOf<T>[] {
    return this.inbox.all.filter((e): e is ServerEventOf<T> => e.type === type);
  }

  next(pred: Predicate<ServerEvent>, timeoutMs = 5000): Promise<ServerEvent> {
    return this.inbox.next(pred, timeoutMs, () => summary(this.inbox.all));
  }

  nextOf<T extends ServerEvent['type']>(
    type: T,
    pred: Predicate<ServerEventOf<T>> = () => true,
    timeoutMs = 5000,
  ): Promise<ServerEventOf<T>> {
    return this.next((e) => e.type === type && pred(e as ServerEventOf<T>), timeoutMs) as Promise<
      ServerEventOf<T>
    >;
  }

  send(cmd: ClientCommand): void {
    this.socket.send(JSON.stringify(cmd));
  }

  /** Stops reading from the network, like a client whose tab is frozen: the server's send buffer fills. */
  pauseReading(): void {
    this.tcp?.pause();
  }

  resumeReading(): void {
    this.tcp?.resume();
  }

  sendRaw(data: string): void {
    this.socket.send(data);
  }

  /** Sends `resume` and collects everything up to its `resumed` answer. */
  async resume(
    rooms: Record<string, number>,
    timeoutMs = 10_000,
  ): Promise<{ replayed: MessageWire[]; resumed: ServerEventOf<'resumed'> }> {
    const from = this.inbox.all.length;
    this.send({ type: 'resume', rooms });
    const resumed = await this.nextOf('resumed', () => true, timeoutMs);
    const at = this.inbox.all.indexOf(resumed);
    const replayed = this.inbox.all
      .slice(from, at)
      .flatMap((e) => (e.type === 'message' ? [e.message] : []));
    return { replayed, resumed };
  }

  async close(): Promise<Closed> {
    if (
      this.socket.readyState === WebSocket.OPEN ||
      this.socket.readyState === WebSocket.CONNECTING
    )
      this.socket.close(1000, 'bye');
    return this.closed;
  }
}

export interface SseEvent {
  id?: string;
  data: ServerEvent;
}

/**
 * A client of the `/api/events` fallback over fetch(): parses `id:`/`data:` blocks as
 * they stream in. `lastEventId` reconnects the way a browser's EventSource does.
 */
export class SseClient {
  private readonly inbox = new Inbox<SseEvent>();
  private readonly abort = new AbortController();
  readonly ended: Promise<void>;

  private constructor(
    readonly status: number,
    body: ReadableStream<Uint8Array>,
  ) {
    this.ended = this.read(body);
  }

  static async connect(
    baseUrl: string,
    opts: { cookie: string; lastEventId?: string },
  ): Promise<SseClient> {
    const abort = new AbortController();
    const res = await fetch(`${baseUrl}/api/events`, {
      headers: {
        cookie: opts.cookie,
        accept: 'text/event-stream',
        ...(opts.lastEventId ? { 'last-event-id': opts.lastEventId } : {}),
      },
      signal: abort.signal,
    });
    if (!res.body) throw new Error(`no event stream: HTTP ${res.status}`);
    const client = new SseClient(res.status, res.body);
    client.abort.signal.addEventListener('abort', () => abort.abort());
    return client;
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let id: string | undefined;
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('id:')) id = line.slice(3).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          }
          if (data.length > 0)
            this.inbox.push({
              ...(id ? { id } : {}),
              data: JSON.parse(data.join('\n')) as ServerEvent,
            });
        }
      }
      this.inbox.end('stream ended');
    } catch {
      this.inbox.end('stream aborted');
    }
  }

  get events(): readonly SseEvent[] {
    return this.inbox.all;
  }

  next(pred: Predicate<SseEvent>, timeoutMs = 5000): Promise<SseEvent> {
    return this.inbox.next(pred, timeoutMs, () => summary(this.inbox.all.map((e) => e.data)));
  }

  nextOf(type: ServerEvent['type'], timeoutMs = 5000): Promise<SseEvent> {
    return this.next((e) => e.data.type === type, timeoutMs);
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.ended;
  }
}

// ------------------------------------------------------------------ fixtures

export interface Conversation {
  patient: UserRow;
  practitioner: UserRow;
  patientClient: TestClient;
  practitionerClient: TestClient;
  roomId: string;
}

/** A patient requests an appointment, the practitioner accepts it: their room is open. */
export async function openRoom(
  t: TestApp,
  patientClient: TestClient,
  practitionerClient: TestClient,
): Promise<string> {
  const requested = await patientClient.post('/api/appointments', {
    practitionerId: practitionerClient.userId,
    startsAt: new Date(t.clock.now() + 86_400_000).toISOString(),
    reason: 'Follow-up on blood results',
  });
  if (requested.statusCode !== 201) throw new Error(`request: ${requested.body}`);
  const { id } = requested.json<{ id: string }>();
  const accepted = await practitionerClient.post(`/api/appointments/${id}/accept`, {});
  if (accepted.statusCode !== 200) throw new Error(`accept: ${accepted.body}`);
  const roomId = accepted.json<{ roomId: string | null }>().roomId;
  if (!roomId) throw new Error('accepting did not open a room');
  return roomId;
}

export async function buildConversation(
  t: TestApp,
  practitioner?: { user: UserRow; client: TestClient },
): Promise<Conversation> {
  const patient = await t.createUser('patient');
  const pract = practitioner?.user ?? (await t.createUser('practitioner'));
  const patientClient = await t.login(patient);
  const practitionerClient = practitioner?.client ?? (await t.login(pract));
  const roomId = await openRoom(t, patientClient, practitionerClient);
  return { patient, practitioner: pract, patientClient, practitionerClient, roomId };
}

/** Sends over HTTP as that participant; resolves with the stored message. */
export async function postMessage(
  client: TestClient,
  roomId: string,
  body: string,
  clientId: string = randomUUID(),
): Promise<MessageWire> {
  const res = await client.post(`/api/rooms/${roomId}/messages`, { clientId, body });
  if (res.statusCode !== 201 && res.statusCode !== 200)
    throw new Error(`send: ${res.statusCode} ${res.body}`);
  return res.json<MessageWire>();
}

/** Waits (bounded) until a condition about the server holds, e.g. a socket's close was processed. */
export async function eventually(
  check: () => boolean,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
