import { randomUUID } from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_PASSWORD } from '../support/app.js';
import { E2EServer, screenshot, signIn, useBrowser, watchErrors } from './browser.js';
import { buildPractice, messagesIn } from './fixtures.js';

interface NotificationRecord {
  title: string;
  body: string;
  tag: string;
}

interface Recorder {
  __notifications: NotificationRecord[];
  __permissionRequests: number;
  __hidden: boolean;
}

/**
 * The test's own stand-ins, installed before the app's scripts: a Notification that records
 * what the app shows and when it asks for permission, and a visibility switch so the tab can
 * be "in the background" in headless Chromium.
 */
function installNotificationRecorder(): void {
  const w = window as unknown as Recorder & { Notification: unknown };
  w.__notifications = [];
  w.__permissionRequests = 0;
  w.__hidden = false;
  class RecordingNotification {
    static permission: NotificationPermission = 'default';
    static requestPermission(): Promise<NotificationPermission> {
      w.__permissionRequests += 1;
      RecordingNotification.permission = 'granted';
      return Promise.resolve('granted');
    }
    onclick: ((e: Event) => void) | null = null;
    constructor(title: string, options?: NotificationOptions) {
      w.__notifications.push({ title, body: options?.body ?? '', tag: options?.tag ?? '' });
    }
    close(): void {}
  }
  w.Notification = RecordingNotification;
  Object.defineProperty(document, 'visibilityState', {
    configurable: true,
    get: () => (w.__hidden ? 'hidden' : 'visible'),
  });
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => w.__hidden });
}

async function setHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate((h) => {
    (window as unknown as Recorder).__hidden = h;
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

/**
 * What the seeds call "written but untested": automatic logoff, the event-stream fallback,
 * background notifications, presence and the archive, each in a real Chromium.
 */
describe('carechat in the browser, continued', () => {
  const { server, open, openContext } = useBrowser();

  it('falls back to the event stream when WebSockets are blocked, live both ways', async () => {
    const practice = await buildPractice(server.app, {
      patient: 'Grace Holloway',
      practitioner: 'Tomas Lindqvist',
    });
    const context = await openContext();
    let wsAttempts = 0;
    // Every WebSocket to the gateway is closed before it says anything, as a proxy would.
    await context.routeWebSocket('**/api/ws', (ws) => {
      wsAttempts += 1;
      void ws.close({ code: 1006, reason: 'blocked' });
    });
    const patient = await context.newPage();
    const errors = watchErrors(patient);
    const streams: string[] = [];
    patient.on('request', (r) => {
      if (new URL(r.url()).pathname === '/api/events') streams.push(r.url());
    });
    await signIn(patient, practice.patient.email, TEST_PASSWORD);
    await patient.goto(`/chat/room/${practice.roomId}/`);
    const box = patient.getByLabel('Message to Tomas Lindqvist');
    await box.waitFor();
    await expect.poll(() => streams.length, { timeout: 15_000 }).toBeGreaterThan(0);
    expect(wsAttempts).toBeGreaterThan(0);
    const loads = await patient.evaluate(() => performance.getEntriesByType('navigation').length);

    // The practitioner's message arrives live over /api/events.
    await practice.practitionerApi.post(`/api/rooms/${practice.roomId}/messages`, {
      clientId: randomUUID(),
      body: 'Your results are in; nothing to worry about.',
    });
    const log = patient.getByRole('log', { name: 'Messages' });
    await log.getByText('Your results are in; nothing to worry about.').waitFor();

    // The patient's answer goes over HTTP and is confirmed.
    const posts: string[] = [];
    patient.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith(`/api/rooms/${practice.roomId}/messages`))
        posts.push(r.url());
    });
    await box.fill('Thank you, that is a relief.');
    await box.press('Enter');
    await log.getByText('Thank you, that is a relief.').waitFor();
    await patient
      .getByText(/Sent|Delivered|Read/)
      .last()
      .waitFor();
    expect(posts).toHaveLength(1);
    await expect
      .poll(async () => (await messagesIn(practice.practitionerApi, practice.roomId)).length)
      .toBe(2);
    const stored = await messagesIn(practice.practitionerApi, practice.roomId);
    expect(stored.map((m) => m.body)).toEqual([
      'Your results are in; nothing to worry about.',
      'Thank you, that is a relief.',
    ]);

    // And a second message from the practitioner, still live, still without a reload.
    await practice.practitionerApi.post(`/api/rooms/${practice.roomId}/messages`, {
      clientId: randomUUID(),
      body: 'See you at the follow-up.',
    });
    await log.getByText('See you at the follow-up.').waitFor();
    expect(await patient.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(
      loads,
    );
    await expect.poll(() => patient.getByText('You are offline', { exact: false }).count()).toBe(0);
    expect(errors).toEqual([]);
  }, 60_000);

  it('announces a message with a notification while the tab is in the background, without its text', async () => {
    const practice = await buildPractice(server.app, {
      patient: 'Irene Castillo',
      practitioner: 'Ben Adeyemi',
    });
    const context = await openContext();
    await context.grantPermissions(['notifications'], { origin: server.origin });
    await context.addInitScript(installNotificationRecorder);
    const patient = await context.newPage();
    const recorded = () =>
      patient.evaluate(() => {
        const w = window as unknown as Recorder;
        return { notifications: w.__notifications, requests: w.__permissionRequests };
      });

    await signIn(patient, practice.patient.email, TEST_PASSWORD);
    const turnOn = patient.getByRole('button', { name: 'Turn on notifications' });
    await turnOn.waitFor();
    // Loading the page asks nothing.
    expect((await recorded()).requests).toBe(0);
    await patient.reload();
    await turnOn.waitFor();
    expect((await recorded()).requests).toBe(0);

    await turnOn.click();
    await turnOn.waitFor({ state: 'detached' });
    expect((await recorded()).requests).toBe(1);

    // While the tab is in front, a new message shows on the page and nowhere else.
    const visibleText = 'Please bring your inhaler to the appointment.';
    await practice.practitionerApi.post(`/api/rooms/${practice.roomId}/messages`, {
      clientId: randomUUID(),
      body: visibleText,
    });
    // The dashboard reloads its panel after the live message: by then any notification is made.
    await patient.getByRole('list', { name: 'Recent messages' }).getByText(visibleText).waitFor();
    expect((await recorded()).notifications).toEqual([]);

    // In the background: one notification, and nothing of the message in it.
    await setHidden(patient, true);
    const secretText = 'Your HIV test result is negative.';
    await practice.practitionerApi.post(`/api/rooms/${practice.roomId}/messages`, {
      clientId: randomUUID(),
      body: secretText,
    });
    await expect.poll(async () => (await recorded()).notifications.length).toBe(1);
    const [shown] = (await recorded()).notifications;
    const said = `${shown!.title} ${shown!.body} ${shown!.tag}`.toLowerCase();
    expect(said).toContain('new secure message');
    for (const word of ['hiv', 'result', 'negative', 'inhaler', 'ben', 'adeyemi', 'irene'])
      expect(said).not.toContain(word);
    expect(await patient.evaluate(() => JSON.stringify(localStorage))).not.toContain('HIV');
    expect(await patient.evaluate(() => JSON.stringify(sessionStorage))).not.toContain('HIV');
    expect((await recorded()).requests).toBe(1);
  });

  it("shows the other person's presence live: online, away, then offline when they leave", async () => {
    const practice = await buildPractice(server.app, {
      patient: 'Lena Fischer',
      practitioner: 'Omar Haddad',
    });
    const practitioner = await open();
    await signIn(practitioner, practice.practitioner.email, TEST_PASSWORD);
    await practitioner.goto(`/chat/room/${practice.roomId}/`);
    const room = practitioner.getByRole('region', { name: 'Conversation with Lena Fischer' });
    await room.getByRole('heading', { name: 'Lena Fischer' }).waitFor();
    const status = (word: string) => room.getByText(new RegExp(`^\\s*(· )?${word}$`));
    expect(await status('Online').count()).toBe(0);

    const patientContext = await openContext();
    // For its visibility switch: the patient's tab can go to the background and back.
    await patientContext.addInitScript(installNotificationRecorder);
    const patient = await patientContext.newPage();
    await signIn(patient, practice.patient.email, TEST_PASSWORD);
    await status('Online').waitFor();
    await screenshot(practitioner, 'chat-room-presence-online-desktop');

    await setHidden(patient, true);
    await status('Away').waitFor();
    await setHidden(patient, false);
    await status('Online').waitFor();

    await patient.close();
    await status('Offline').waitFor();
    expect(await status('Online').count()).toBe(0);
  });

  it('an archived conversation leaves the list and comes back live with a new message', async () => {
    const practice = await buildPractice(server.app, {
      patient: 'Ruth Okonkwo',
      practitioner: 'Karl Jensen',
    });
    await practice.practitionerApi.post(`/api/rooms/${practice.roomId}/messages`, {
      clientId: randomUUID(),
      body: 'Your prescription has been renewed.',
    });
    const patient = await open();
    const errors = watchErrors(patient);
    await signIn(patient, practice.patient.email, TEST_PASSWORD);
    await patient.goto(`/chat/room/${practice.roomId}/`);
    await patient.getByText('Your prescription has been renewed.').waitFor();
    await patient.getByRole('button', { name: 'Archive', exact: true }).click();
    await patient.getByRole('button', { name: 'Unarchive' }).waitFor();

    await patient.getByRole('link', { name: 'Back to all conversations' }).click();
    await patient.getByRole('heading', { name: 'Messages' }).waitFor();
    const showArchived = patient.getByRole('checkbox', { name: /Show archived/ });
    await showArchived.waitFor();
    await patient.getByLabel('Show archived (1)').waitFor();
    expect(await patient.getByRole('link', { name: 'Karl Jensen' }).count()).toBe(0);
    await patient.getByText('You have no conversations yet.').waitFor();

    await showArchived.check();
    const archivedList = patient.getByRole('list', { name: 'Archived conversations' });
    await archivedList.getByRole('link', { name: 'Karl Jensen' }).waitFor();
    await screenshot(patient, 'chat-list-archived-desktop');
    await showArchived.uncheck();
    await patient.getByText('You have no conversations yet.').waitFor();

    // The practitioner writes again: the conversation is back, without a reload.
    await practice.practitionerApi.post(`/api/rooms/${practice.roomId}/messages`, {
      clientId: randomUUID(),
      body: 'Please pick it up at the pharmacy.',
    });
    const list = patient.getByRole('list', { name: 'Conversations' });
    await list.getByRole('link', { name: 'Karl Jensen' }).waitFor();
    await list.getByText('Please pick it up at the pharmacy.').waitFor();
    await patient.getByLabel('Show archived (0)').waitFor();
    expect(errors).toEqual([]);
  });

  describe('with a one-minute idle timeout', () => {
    const idleServer = new E2EServer({ SESSION_IDLE_MINUTES: '1' });
    beforeAll(() => idleServer.start(), 60_000);
    afterAll(() => idleServer.close());

    const sessionCookie = async (context: BrowserContext): Promise<string> => {
      const cookie = (await context.cookies()).find((c) => c.name.endsWith('carechat_session'));
      if (!cookie) throw new Error('no session cookie');
      return `${cookie.name}=${cookie.value}`;
    };
    const sessionStatus = async (cookie: string): Promise<number> =>
      (
        await idleServer.app.app.inject({
          method: 'GET',
          url: '/api/auth/session',
          headers: { cookie },
        })
      ).statusCode;

    it('warns before signing out; "Stay signed in" keeps the session, "Sign out now" and time end it', async () => {
      const practice = await buildPractice(idleServer.app, {
        patient: 'Hannah Moreau',
        practitioner: 'Yusuf Demir',
      });
      const open = async () => {
        const context = await openContext(idleServer.origin);
        return { context, page: await context.newPage() };
      };

      // Someone who answers the warning, and later chooses to sign out.
      const answers = async () => {
        const { context, page } = await open();
        await signIn(page, practice.patient.email, TEST_PASSWORD);
        const cookie = await sessionCookie(context);
        const dialog = page.getByRole('alertdialog', { name: 'Are you still there?' });
        await dialog.waitFor({ timeout: 40_000 });
        await dialog.getByText(/signed out in \d+ seconds/).waitFor();
        await screenshot(page, 'idle-warning-desktop');

        await dialog.getByRole('button', { name: 'Stay signed in' }).click();
        const stayedAt = Date.now();
        await dialog.waitFor({ state: 'hidden' });
        // Still signed in, and free to use the app.
        await page
          .getByRole('navigation', { name: 'Main' })
          .getByRole('link', { name: 'Messages' })
          .click();
        await page.getByRole('heading', { name: 'Messages', level: 1 }).waitFor();
        expect(await sessionStatus(cookie)).toBe(200);

        // No more activity: the warning comes back, but not at once.
        await dialog.waitFor({ timeout: 40_000 });
        expect(Date.now() - stayedAt).toBeGreaterThan(20_000);
        await dialog.getByRole('button', { name: 'Sign out now' }).click();
        await page.getByRole('heading', { name: 'Sign in' }).waitFor();
        expect(new URL(page.url()).pathname).toBe('/login');
        expect(await sessionStatus(cookie)).toBe(401);
      };

      // Someone who walks away from the screen.
      const walksAway = async () => {
        const { context, page } = await open();
        await signIn(page, practice.patient.email, TEST_PASSWORD);
        const cookie = await sessionCookie(context);
        expect(await sessionStatus(cookie)).toBe(200);
        await page
          .getByRole('status')
          .getByText('For your privacy you were signed out after 1 minute without activity.')
          .waitFor({ timeout: 75_000 });
        expect(new URL(page.url()).pathname).toBe('/login');
        await page.getByRole('heading', { name: 'Sign in' }).waitFor();
        expect(await sessionStatus(cookie)).toBe(401);
        await screenshot(page, 'signed-out-idle-desktop');
      };

      await Promise.all([answers(), walksAway()]);
    }, 110_000);
  });
});
