import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Processor } from '../../src/domain/events/processor.js';
import type { MessageWire } from '../../src/shared/wire.js';
import { startTestApp, type TestApp } from '../support/app.js';
import {
  SseClient,
  WsClient,
  buildConversation,
  eventually,
  postMessage,
  type Conversation,
} from '../support/ws-client.js';

/** One scrape of the metrics listener, read as Prometheus text. */
class Scrape {
  constructor(readonly text: string) {}

  static async of(t: TestApp): Promise<Scrape> {
    const res = await fetch(`${t.metricsUrl}/metrics`);
    expect(res.status).toBe(200);
    return new Scrape(await res.text());
  }

  /** The sample's value; 0 when the series has not been seen yet. */
  value(name: string, labels: Record<string, string> = {}): number {
    const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
    for (const line of this.text.split('\n')) {
      if (line.startsWith('#')) continue;
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!m || m[1] !== name) continue;
      const have = m[2] ? m[2].split(',') : [];
      if (want.every((w) => have.includes(w)) && have.length === want.length) return Number(m[3]);
    }
    return 0;
  }

  has(name: string): boolean {
    return this.text.split('\n').some((l) => l.startsWith(`# TYPE ${name} `));
  }
}

/** A processor that takes every committed message and keeps nothing: the outbox's metrics follow it. */
const messageLog: Processor = {
  name: 'message-log',
  takes: ['messages.committed'],
  handle: () => Promise.resolve(),
};

describe('metrics on their own listener', () => {
  let t: TestApp;
  let c: Conversation;
  beforeAll(async () => {
    // The outbox polls often, so its rounds happen within a test.
    t = await startTestApp({
      listen: true,
      env: { METRICS_PORT: '0' },
      outbox: { pollMs: 50 },
      processors: [messageLog],
    });
    c = await buildConversation(t);
  });
  afterAll(async () => {
    await t.stop();
  });

  it('listens on 127.0.0.1 by default, apart from the public port', () => {
    expect(t.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(new URL(t.metricsUrl!).port).not.toBe(new URL(t.url).port);
  });

  it('is not reachable on the public port: /metrics is an unknown route there', async () => {
    const res = await fetch(`${t.url}/metrics`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(((await res.json()) as { code: string }).code).toBe('not_found');
  });

  it('serves only /metrics, nothing of the app', async () => {
    expect((await fetch(`${t.metricsUrl}/api/healthz`)).status).toBe(404);
    const res = await fetch(`${t.metricsUrl}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
  });

  it('moves when messages are sent over HTTP and the WebSocket, and counts live connections', async () => {
    const before = await Scrape.of(t);
    const practitioner = await WsClient.live(t.url, c.practitionerClient.cookie);
    const patientStream = await SseClient.connect(t.url, { cookie: c.patientClient.cookie });
    await patientStream.nextOf('resumed');

    const open = await Scrape.of(t);
    const ws = { transport: 'ws' };
    const sse = { transport: 'sse' };
    expect(open.value('carechat_realtime_connections', ws)).toBe(
      before.value('carechat_realtime_connections', ws) + 1,
    );
    expect(open.value('carechat_realtime_connections', sse)).toBe(
      before.value('carechat_realtime_connections', sse) + 1,
    );

    // Over HTTP from the patient: the practitioner's socket and the patient's own stream get it.
    const res = await fetch(`${t.url}/api/rooms/${c.roomId}/messages`, {
      method: 'POST',
      headers: {
        cookie: c.patientClient.cookie,
        'x-csrf-token': c.patientClient.csrfToken,
        origin: t.url,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ clientId: randomUUID(), body: 'Is the clinic open on Friday?' }),
    });
    expect(res.status).toBe(201);
    const overHttp = (await res.json()) as MessageWire;
    await practitioner.nextOf('message', (e) => e.message.id === overHttp.id);
    await patientStream.next((e) => e.data.type === 'message');
    // Over the WebSocket from the practitioner: acked to the sender, pushed to the patient's stream.
    const clientId = randomUUID();
    practitioner.send({ type: 'send', roomId: c.roomId, clientId, body: 'Yes, until noon.' });
    await practitioner.nextOf('ack', (e) => e.clientId === clientId);
    await patientStream.next((e) => e.data.type === 'message');

    const after = await Scrape.of(t);
    const delta = (name: string, labels: Record<string, string> = {}) =>
      after.value(name, labels) - before.value(name, labels);
    expect(delta('carechat_messages_committed_total')).toBe(2);
    // Batch sizes add up to the sends, however they were grouped; each commit is timed.
    expect(delta('carechat_message_commit_batch_size_sum')).toBe(2);
    const commits = delta('carechat_message_commit_batch_size_count');
    expect(commits).toBeGreaterThanOrEqual(1);
    expect(delta('carechat_message_commit_duration_seconds_count')).toBe(commits);
    // Message frames written live: the patient's message and the ack carrying its own to the
    // practitioner's socket, both messages to the patient's stream.
    expect(delta('carechat_message_delivery_lag_seconds_count', ws)).toBe(2);
    expect(delta('carechat_message_delivery_lag_seconds_count', sse)).toBe(2);
    // The HTTP send, by its route pattern and status; the room id never becomes a label.
    expect(
      delta('carechat_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/api/rooms/:id/messages',
        status: '201',
      }),
    ).toBe(1);
    expect(after.text).not.toContain(c.roomId);

    await practitioner.close();
    await patientStream.close();
    await eventually(() => t.gateway.connectionCount === 0, 'both connections to close');
    const closed = await Scrape.of(t);
    expect(closed.value('carechat_realtime_connections', ws)).toBe(
      before.value('carechat_realtime_connections', ws),
    );
    expect(closed.value('carechat_realtime_connections', sse)).toBe(
      before.value('carechat_realtime_connections', sse),
    );
  });

  it('labels unknown paths as one series, so probing cannot add series', async () => {
    const before = await Scrape.of(t);
    const labels = { method: 'GET', route: 'unmatched', status: '404' };
    await fetch(`${t.url}/api/${randomUUID()}`);
    await fetch(`${t.url}/api/${randomUUID()}`);
    const after = await Scrape.of(t);
    expect(
      after.value('carechat_http_request_duration_seconds_count', labels) -
        before.value('carechat_http_request_duration_seconds_count', labels),
    ).toBe(2);
  });

  it('reports the outbox working through the events of sent messages', async () => {
    const processor = { processor: 'message-log' };
    // Earlier tests' messages may still be on their way through the outbox: start counting
    // once nothing is waiting and the count has stopped moving.
    let before = await Scrape.of(t);
    for (let i = 0; i < 200; i++) {
      await new Promise((r) => setTimeout(r, 60));
      const next = await Scrape.of(t);
      const settled =
        next.value('carechat_outbox_pending', processor) === 0 &&
        next.value('carechat_outbox_lag_seconds_count', processor) ===
          before.value('carechat_outbox_lag_seconds_count', processor);
      before = next;
      if (settled) break;
    }
    await postMessage(c.patientClient, c.roomId, 'Can I bring my own test results?');
    await postMessage(c.practitionerClient, c.roomId, 'Yes, please do.');
    let after = before;
    for (let i = 0; i < 200; i++) {
      after = await Scrape.of(t);
      const done =
        after.value('carechat_outbox_lag_seconds_count', processor) -
        before.value('carechat_outbox_lag_seconds_count', processor);
      if (done >= 2 && after.value('carechat_outbox_pending', processor) === 0) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    // Each message's event delivered once to the processor that re-sends its wake-up.
    expect(
      after.value('carechat_outbox_lag_seconds_count', processor) -
        before.value('carechat_outbox_lag_seconds_count', processor),
    ).toBe(2);
    // The backlog gauges come from the store: nothing waiting, nothing dead.
    expect(after.text).toMatch(/^carechat_outbox_pending\{processor="message-log"\} 0$/m);
    expect(after.text).toMatch(/^carechat_outbox_dead\{processor="message-log"\} 0$/m);
    expect(after.value('carechat_outbox_oldest_pending_age_seconds', processor)).toBe(0);
    expect(after.has('carechat_outbox_failures_total')).toBe(true);
  });

  it('reports the audit writer queue and the process metrics', async () => {
    const s = await Scrape.of(t);
    expect(s.has('carechat_audit_queue_depth')).toBe(true);
    // Nothing is waiting once every read has answered.
    expect(s.value('carechat_audit_queue_depth')).toBe(0);
    expect(s.has('process_cpu_user_seconds_total')).toBe(true);
    expect(s.has('process_resident_memory_bytes')).toBe(true);
    expect(s.has('nodejs_eventloop_lag_seconds')).toBe(true);
  });
});

describe('without METRICS_PORT', () => {
  it('opens no metrics listener, and the public port still answers /metrics with 404', async () => {
    const t = await startTestApp({ listen: true });
    try {
      expect(t.metricsUrl).toBeUndefined();
      expect((await fetch(`${t.url}/metrics`)).status).toBe(404);
    } finally {
      await t.stop();
    }
  });
});
