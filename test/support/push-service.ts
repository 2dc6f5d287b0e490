import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const require = createRequire(import.meta.url);

interface TestingModel {
  notifyUrl: string;
}
type ModelCtor = new () => TestingModel;
type ServerCtor = new (
  model: TestingModel,
  port: number,
) => {
  setRequestHandlers(): void;
  _app: { listen(port: number, host: string, cb: () => void): Server };
};

export interface TestSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
  clientHash: string;
}

/**
 * A real push service (the `web-push-testing` package) on 127.0.0.1: it checks the VAPID
 * signature and the headers as a browser vendor's would, decrypts what it receives, and
 * answers 410 for a subscription the test has expired.
 */
export class PushService {
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<PushService> {
    const { PushApiModel } = require('web-push-testing/src/PushApiModel.js') as {
      PushApiModel: ModelCtor;
    };
    const TestingServer = require('web-push-testing/src/server.js') as ServerCtor;
    const model = new PushApiModel();
    const testing = new TestingServer(model, 0);
    testing.setRequestHandlers();
    const server = await new Promise<Server>((resolve) => {
      const s = testing._app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    model.notifyUrl = `${url}/notify/`;
    return new PushService(server, url);
  }

  private async post<T>(path: string, body: unknown): Promise<T> {
    const res = await fetch(`${this.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`push service ${path}: ${res.status} ${text}`);
    return (text.startsWith('{') ? JSON.parse(text) : null) as T;
  }

  /** A browser's subscription, made with the server's VAPID public key. */
  async subscribe(applicationServerKey: string): Promise<TestSubscription> {
    const r = await this.post<{ data: TestSubscription }>('/subscribe', {
      applicationServerKey,
      userVisibleOnly: 'true',
    });
    return r.data;
  }

  /** The plaintexts it received for this subscription, decrypted. */
  async received(clientHash: string): Promise<string[]> {
    const r = await this.post<{ data: { messages: string[] } }>('/get-notifications', {
      clientHash,
    });
    return r.data.messages;
  }

  /** From now on it answers 410 Gone, as when the user revoked the permission. */
  async expire(clientHash: string): Promise<void> {
    await this.post(`/expire-subscription/${clientHash}`, {});
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
