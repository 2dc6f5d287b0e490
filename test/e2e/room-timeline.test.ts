import { randomUUID } from 'node:crypto';
import type { WebSocketRoute } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { TEST_PASSWORD } from '../support/app.js';
import { auditRows, detailOf } from '../support/factories.js';
import { signIn, useBrowser, watchErrors } from './browser.js';
import { buildPractice } from './fixtures.js';

/** The conversation screen after a reconnect, in a real Chromium. */
describe('the room timeline', () => {
  const { server, openContext } = useBrowser();

  it('catches up after a reconnect through the live resume, without reading history over HTTP', async () => {
    const practice = await buildPractice(server.app, {
      patient: 'Nora Quist',
      practitioner: 'Paul Ferrand',
    });
    const roomId = practice.roomId;
    const context = await openContext();
    // The browser's sockets pass through here, so the test can cut them and hold them off.
    let blocked = false;
    const open: WebSocketRoute[] = [];
    await context.routeWebSocket('**/api/ws', (ws) => {
      if (blocked) return void ws.close({ code: 1006, reason: 'cut' });
      ws.connectToServer();
      open.push(ws);
    });
    const patient = await context.newPage();
    const errors = watchErrors(patient);
    const historyReads: string[] = [];
    patient.on('request', (r) => {
      const url = new URL(r.url());
      if (r.method() === 'GET' && url.pathname === `/api/rooms/${roomId}/messages`)
        historyReads.push(url.search);
    });
    await signIn(patient, practice.patient.email, TEST_PASSWORD);
    await patient.goto(`/chat/room/${roomId}/`);
    const log = patient.getByRole('log', { name: 'Messages' });
    const say = (body: string) =>
      practice.practitionerApi.post(`/api/rooms/${roomId}/messages`, {
        clientId: randomUUID(),
        body,
      });
    await say('Your blood pressure readings look good.');
    await log.getByText('Your blood pressure readings look good.').waitFor();
    // The newest page, when the room opened (twice where React's development checks run effects twice).
    const opened = historyReads.length;
    expect(opened).toBeGreaterThan(0);
    expect(
      historyReads.every((q) => q === '?limit=50'),
      historyReads.join(' '),
    ).toBe(true);

    blocked = true;
    for (const ws of open.splice(0)) await ws.close({ code: 1006, reason: 'cut' });
    await patient.getByText('You are offline', { exact: false }).waitFor();
    await say('Keep taking the same dose.');
    await say('See you in three months.');
    blocked = false;

    await log.getByText('See you in three months.').waitFor({ timeout: 25_000 });
    await log.getByText('Keep taking the same dose.').waitFor();
    await patient
      .getByText('You are offline', { exact: false })
      .waitFor({ state: 'detached', timeout: 10_000 });
    // The resume replayed the two missed messages; the screen read no history for them.
    expect(historyReads, historyReads.join(' ')).toHaveLength(opened);
    const reads = await auditRows(server.app, {
      action: 'room.read_messages',
      actorId: practice.patient.id,
    });
    expect(reads.map(detailOf).filter((d) => d.via !== undefined)).toEqual([
      { via: 'ws', fromSeq: 2, toSeq: 3, count: 2 },
    ]);
    expect(reads).toHaveLength(opened + 1);
    expect(errors).toEqual([]);
  }, 60_000);
});
