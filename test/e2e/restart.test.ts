import { describe, expect, it } from 'vitest';
import { TEST_PASSWORD } from '../support/app.js';
import { signIn, useBrowser } from './browser.js';
import { buildPractice } from './fixtures.js';

describe('a graceful restart in the browser', () => {
  const { server, open } = useBrowser();

  it('an open conversation goes offline on 1001, reconnects by itself and receives live again', async () => {
    const practice = await buildPractice(server.app, {
      patient: 'Grace Miller',
      practitioner: 'Tomás Rivera',
    });
    const patient = await open();
    // Notes each socket's close code, as the web app's live client sees it.
    await patient.addInitScript(() => {
      const closes: number[] = [];
      Object.assign(window, { closeCodes: closes });
      const Native = window.WebSocket;
      window.WebSocket = class extends Native {
        constructor(url: string | URL, protocols?: string | string[]) {
          super(url, protocols);
          this.addEventListener('close', (e) => closes.push(e.code));
        }
      };
    });
    await signIn(patient, practice.patient.email, TEST_PASSWORD);
    await patient.goto(`/chat/room/${practice.roomId}/`);
    await patient.getByLabel('Message to Tomás Rivera').waitFor();

    await server.shutDownServer();
    await patient.getByText('You are offline', { exact: false }).waitFor();
    const codes = () =>
      patient.evaluate(() => (window as unknown as { closeCodes: number[] }).closeCodes);
    // 1001 from the server; then the client's own tries while nothing listens (1006).
    expect((await codes())[0]).toBe(1001);
    await server.restartServer();
    await patient
      .getByText('You are offline', { exact: false })
      .waitFor({ state: 'detached', timeout: 30_000 });

    // Sessions live in the store, so the restarted server knows the practitioner's too.
    const practitioner = await server.app.login(practice.practitioner);
    const sent = await practitioner.post(`/api/rooms/${practice.roomId}/messages`, {
      clientId: crypto.randomUUID(),
      body: 'Your results are back and look good.',
    });
    if (sent.statusCode !== 201) throw new Error(`send failed: ${sent.body}`);
    await patient.getByText('Your results are back and look good.').waitFor();
  }, 90_000);
});
