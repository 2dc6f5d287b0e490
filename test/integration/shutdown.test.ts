import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/database.js';
import { createTestStore, type TestApp, type TestStore } from '../support/app.js';
import { buildAcceptedAppointment, startMessagingApp } from '../support/factories.js';
import { WsClient } from '../support/ws-client.js';

let t: TestApp | undefined;

let store: TestStore | undefined;

// Each test closes its app itself; the store is its own, dropped here.
afterEach(async () => {
  await store?.drop();
  store = undefined;
  t = undefined;
});

describe('graceful shutdown', () => {
  it('closes live sockets with 1001 (going away), which the web client answers by reconnecting', async () => {
    store = await createTestStore();
    t = await startMessagingApp({ listen: true, store });
    const { patientClient, practitionerClient, roomId } = await buildAcceptedAppointment(t);
    const patient = await WsClient.live(t.url, patientClient.cookie, { [roomId]: 0 });
    const practitioner = await WsClient.live(t.url, practitionerClient.cookie, { [roomId]: 0 });

    await t.close();

    for (const ws of [patient, practitioner]) {
      const closed = await ws.closed;
      expect(closed.code).toBe(1001);
      // Not the session-ended code, after which the client would stop and sign out.
      expect(closed.code).not.toBe(4401);
    }
  });

  it('commits every send already accepted before the store closes', async () => {
    store = await createTestStore();
    t = await startMessagingApp({ store });
    const { patient, roomId } = await buildAcceptedAppointment(t);
    // Sends taken in but not yet committed when shutdown starts, more than one batch's
    // worth (1,000 a batch): without waiting for the writer, the later batches find the
    // store closed under them (on PostgreSQL: the pool already ended).
    const sends = Array.from({ length: 2500 }, (_, i) =>
      t!.services.messages.send(patient.ctx, roomId, {
        clientId: randomUUID(),
        body: `in flight ${i}`,
      }),
    );
    const closing = t.close();
    const outcomes = await Promise.allSettled(sends);
    await closing;
    const failed = outcomes.flatMap((o) => (o.status === 'rejected' ? [String(o.reason)] : []));
    expect(failed.length, failed.slice(0, 3).join('; ')).toBe(0);

    const reopened = openDatabase(store.url);
    try {
      const rows = await reopened.db
        .selectFrom('messages')
        .select(['body', 'seq'])
        .where('room_id', '=', roomId)
        .orderBy('seq')
        .execute();
      expect(rows.map((r) => r.body)).toEqual(sends.map((_, i) => `in flight ${i}`));
    } finally {
      await reopened.close();
    }
  });

  it('does not wait for a connection that never sent a request (a browser opens spares)', async () => {
    store = await createTestStore();
    t = await startMessagingApp({ listen: true, store });
    const { port } = new URL(t.url);
    const spare = connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve) => spare.once('connect', () => resolve()));
    const spareClosed = new Promise<void>((resolve) => spare.once('close', () => resolve()));

    // Node counts such a socket as busy, and close() would wait for its timeout (minutes).
    await t.close();
    await spareClosed;
  });
});
