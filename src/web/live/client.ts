import type {
  ClientCommand,
  PresenceStatus,
  ServerEvent,
  ServerEventOf,
  ServerEventType,
} from '../../shared/events.js';
import { CloseCode } from '../../shared/events.js';
import type { MessageWire, UnreadWire } from '../../shared/wire.js';
import { api, ApiError } from '../lib/api.js';
import { Store } from '../lib/store.js';
import { reportReadToWorker } from '../lib/push.js';

export type ConnectionStatus = 'connecting' | 'online' | 'offline';
export type Transport = 'websocket' | 'sse';

type Handler<T extends ServerEventType> = (event: ServerEventOf<T>) => void;
type AnyHandler = (event: ServerEvent) => void;

const MAX_BACKOFF_MS = 15_000;
/** A WebSocket that has never opened after this many tries is probably blocked on the way. */
const FALLBACK_AFTER_FAILURES = 3;

/**
 * One real-time connection per tab. It resumes each room from the last sequence number it
 * saw, so a reconnect replays exactly what was missed; it backs off exponentially while the
 * server is away; and where WebSockets never get through it falls back to server-sent events
 * (sending then goes over HTTP).
 */
export class LiveClient {
  readonly status = new Store<ConnectionStatus>('connecting');
  readonly unread = new Store<UnreadWire>({ total: 0, rooms: {} });
  readonly presence = new Store<Record<string, PresenceStatus>>({});
  transport: Transport = 'websocket';

  private readonly handlers = new Map<ServerEventType | '*', Set<AnyHandler>>();
  private readonly lastSeq: Record<string, number> = {};
  private ws: WebSocket | null = null;
  private es: EventSource | null = null;
  private attempts = 0;
  private failuresWithoutOpen = 0;
  private wsEverOpened = false;
  private stopped = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private lastFrameAt = Date.now();
  private heartbeatMs = 25_000;
  /** Counts live 'unread' frames, so a slower HTTP answer never overwrites a newer frame. */
  private unreadFrames = 0;

  constructor(
    readonly userId: string,
    private readonly onSessionEnded: (reason: string) => void,
  ) {}

  start(): void {
    this.stopped = false;
    document.addEventListener('visibilitychange', this.onVisibility);
    window.addEventListener('online', this.onBrowserOnline);
    this.connect();
    void this.refreshUnread();
  }

  stop(): void {
    this.stopped = true;
    document.removeEventListener('visibilitychange', this.onVisibility);
    window.removeEventListener('online', this.onBrowserOnline);
    clearTimeout(this.reconnectTimer);
    clearInterval(this.heartbeatTimer);
    this.ws?.close(1000, 'signed out');
    this.ws = null;
    this.es?.close();
    this.es = null;
  }

  get online(): boolean {
    return this.status.get() === 'online';
  }

  on<T extends ServerEventType>(type: T | '*', handler: Handler<T>): () => void {
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    set.add(handler as AnyHandler);
    return () => set.delete(handler as AnyHandler);
  }

  /** Rooms the screens have loaded: a reconnect resumes them from here. */
  noteSeq(roomId: string, seq: number): void {
    if (seq > (this.lastSeq[roomId] ?? -1)) this.lastSeq[roomId] = seq;
  }

  sendMessage(roomId: string, clientId: string, body: string, attachmentIds: string[] = []): void {
    const files = attachmentIds.length > 0 ? { attachmentIds } : {};
    if (this.transport === 'websocket') {
      this.command({ type: 'send', roomId, clientId, body, ...files });
      return;
    }
    api<MessageWire>(`/api/rooms/${encodeURIComponent(roomId)}/messages`, {
      method: 'POST',
      body: { clientId, body, ...files },
    }).then(
      (message) => this.dispatch({ type: 'ack', clientId, message }),
      (err: unknown) => {
        // Without an answer the outcome is unknown: leave it to the outbox's timeout and retry.
        if (err instanceof ApiError && err.status !== 0)
          this.dispatch({ type: 'error', clientId, code: err.code, title: err.message });
      },
    );
  }

  read(roomId: string, seq: number): void {
    reportReadToWorker(roomId, seq);
    if (this.transport === 'websocket' && this.command({ type: 'read', roomId, seq })) return;
    void api(`/api/rooms/${encodeURIComponent(roomId)}/read`, {
      method: 'POST',
      body: { seq },
    }).catch(() => undefined);
  }

  typing(roomId: string, typing: boolean): void {
    if (this.transport === 'websocket') this.command({ type: 'typing', roomId, typing });
  }

  async refreshUnread(): Promise<void> {
    const framesBefore = this.unreadFrames;
    try {
      const answer = await api<UnreadWire>('/api/me/unread');
      if (this.unreadFrames === framesBefore) this.unread.set(answer);
    } catch {
      // The live 'unread' frames keep it current; a failed refresh is not worth a message.
    }
  }

  private command(cmd: ClientCommand): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(cmd));
    return true;
  }

  private connect(): void {
    if (this.stopped) return;
    this.status.set(this.attempts === 0 ? 'connecting' : 'offline');
    if (this.transport === 'sse') this.connectEventSource();
    else this.connectWebSocket();
  }

  private connectWebSocket(): void {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    let ws: WebSocket;
    try {
      ws = new WebSocket(`${scheme}://${location.host}/api/ws`);
    } catch {
      this.failuresWithoutOpen += 1;
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.wsEverOpened = true;
      this.attempts = 0;
      this.failuresWithoutOpen = 0;
      this.lastFrameAt = Date.now();
      this.command({ type: 'resume', rooms: { ...this.lastSeq } });
      if (document.visibilityState === 'hidden') this.command({ type: 'presence', status: 'away' });
      this.startHeartbeat();
      this.setOnline();
    };
    ws.onmessage = (e: MessageEvent<string>) => this.receive(e.data);
    ws.onclose = (e: CloseEvent) => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearInterval(this.heartbeatTimer);
      if (e.code === CloseCode.unauthenticated) {
        this.stopped = true;
        this.onSessionEnded('ended');
        return;
      }
      if (!opened) this.failuresWithoutOpen += 1;
      this.status.set('offline');
      this.dispatchLocal('disconnected');
      if (
        !this.wsEverOpened &&
        this.failuresWithoutOpen >= FALLBACK_AFTER_FAILURES &&
        typeof EventSource !== 'undefined'
      ) {
        this.transport = 'sse';
        this.attempts = 0;
      }
      this.scheduleReconnect();
    };
  }

  private connectEventSource(): void {
    const es = new EventSource('/api/events', { withCredentials: true });
    this.es = es;
    es.onopen = () => {
      this.attempts = 0;
      this.setOnline();
    };
    es.onmessage = (e: MessageEvent<string>) => this.receive(e.data);
    es.onerror = () => {
      if (this.es !== es) return;
      this.status.set('offline');
      this.dispatchLocal('disconnected');
      if (es.readyState === EventSource.CLOSED) {
        // Refused outright (no session, or no such route): start over with WebSockets.
        this.es = null;
        this.transport = 'websocket';
        this.failuresWithoutOpen = 0;
        void api('/api/auth/session', { expectUnauthenticated: true }).then(
          () => this.scheduleReconnect(),
          (err: unknown) => {
            if (err instanceof ApiError && err.status === 401) {
              this.stopped = true;
              this.onSessionEnded('ended');
            } else this.scheduleReconnect();
          },
        );
      }
    };
  }

  private setOnline(): void {
    this.status.set('online');
    void this.refreshUnread();
    this.dispatchLocal('connected');
  }

  private startHeartbeat(): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => {
      // A connection that has gone quiet for two heartbeats is dead even if the OS has not noticed.
      if (Date.now() - this.lastFrameAt > this.heartbeatMs * 2 + 5000) {
        this.ws?.close(4000, 'heartbeat timeout');
        return;
      }
      this.command({ type: 'ping' });
    }, this.heartbeatMs);
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    clearTimeout(this.reconnectTimer);
    const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempts);
    const delay = base / 2 + Math.random() * (base / 2);
    this.attempts += 1;
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private onBrowserOnline = (): void => {
    if (this.status.get() === 'online' || this.stopped) return;
    this.attempts = 0;
    clearTimeout(this.reconnectTimer);
    this.connect();
  };

  private onVisibility = (): void => {
    this.command({
      type: 'presence',
      status: document.visibilityState === 'hidden' ? 'away' : 'online',
    });
  };

  private receive(data: string): void {
    this.lastFrameAt = Date.now();
    let event: ServerEvent;
    try {
      event = JSON.parse(data) as ServerEvent;
    } catch {
      return;
    }
    if (!event || typeof event !== 'object' || typeof event.type !== 'string') return;
    this.dispatch(event);
  }

  private dispatch(event: ServerEvent): void {
    switch (event.type) {
      case 'hello':
        if (event.heartbeatMs > 1000) {
          this.heartbeatMs = event.heartbeatMs;
          this.startHeartbeat();
        }
        break;
      case 'message':
      case 'message.updated':
        this.noteSeq(event.message.roomId, event.message.seq);
        break;
      case 'ack':
        this.noteSeq(event.message.roomId, event.message.seq);
        break;
      case 'unread':
        this.unreadFrames += 1;
        this.unread.set({ total: event.total, rooms: event.rooms });
        break;
      case 'presence':
        this.presence.update((p) => ({ ...p, [event.userId]: event.status }));
        break;
      case 'room':
        this.noteSeq(event.room.id, event.room.lastSeq);
        break;
      case 'session.ended':
        this.stopped = true;
        this.onSessionEnded(event.reason);
        break;
      case 'error':
      case 'receipt':
      case 'typing':
      case 'appointment':
      case 'resumed':
        break;
      default: {
        // Newer servers may add event types; this client ignores what it does not know.
        break;
      }
    }
    for (const h of this.handlers.get(event.type) ?? []) h(event);
    for (const h of this.handlers.get('*') ?? []) h(event);
  }

  /** Connection changes are told to listeners as pseudo-events on the same channel. */
  private readonly connectionListeners = new Set<(up: boolean) => void>();

  onConnection(listener: (up: boolean) => void): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  private dispatchLocal(kind: 'connected' | 'disconnected'): void {
    for (const l of this.connectionListeners) l(kind === 'connected');
  }
}
