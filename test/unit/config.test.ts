import webpush from 'web-push';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/server/config.js';

function errorOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`configuration ${JSON.stringify(env)} was accepted`);
}

describe('loadConfig', () => {
  it('serves a single practice on one machine by default', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      // No metrics listener unless asked for.
      metricsPort: undefined,
      metricsHost: '127.0.0.1',
      databaseUrl: 'sqlite:./data/carechat.db',
      redisUrl: undefined,
      publicOrigin: 'http://127.0.0.1:3000',
      secure: false,
      demo: undefined,
      demoPassword: undefined,
      sessionIdleMs: 15 * 60_000,
      sessionAbsoluteMs: 12 * 60 * 60_000,
      trustProxy: false,
      loginMaxPerAccount: 5,
      loginMaxPerIp: 30,
      loginWindowMs: 15 * 60_000,
      sendRate: { perSecond: 50, burst: 200 },
      logLevel: 'info',
      outboxMaxAttempts: 10,
      outboxRetentionMs: 24 * 3600_000,
    });
  });

  it('reads every variable', () => {
    const vapid = webpush.generateVAPIDKeys();
    const c = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      METRICS_PORT: '9464',
      METRICS_HOST: '10.0.0.5',
      DATABASE_URL: 'postgres://carechat@db.internal:5432/carechat',
      DATABASE_POOL_SIZE: '25',
      REDIS_URL: 'redis://cache.internal:6379',
      REDIS_PREFIX: 'practice1:',
      PUBLIC_ORIGIN: 'https://chat.example.org/some/path',
      DEMO_PASSWORD: 'a demo password',
      DEMO: 'no',
      SESSION_IDLE_MINUTES: '30',
      SESSION_ABSOLUTE_MINUTES: '480',
      LOG_LEVEL: 'warn',
      TRUST_PROXY: 'true',
      LOGIN_MAX_PER_ACCOUNT: '3',
      LOGIN_MAX_PER_IP: '50',
      LOGIN_WINDOW_MINUTES: '5',
      SEND_LIMIT_PER_SECOND: '5',
      SEND_LIMIT_BURST: '20',
      WEB_ROOT: '/srv/web',
      OUTBOX_MAX_ATTEMPTS: '5',
      OUTBOX_RETENTION_HOURS: '72',
      ROOM_OPEN_DAYS: '14',
      ATTACHMENT_MAX_MB: '25',
      ATTACHMENT_DAILY_MB: '500',
      STORAGE_URL: 's3://bucket?endpoint=https://s3.internal',
      DATA_KEY: Buffer.alloc(32, 1).toString('base64'),
      DATA_KEY_PREVIOUS: `${Buffer.alloc(32, 2).toString('base64')}, ${Buffer.alloc(32, 3).toString('base64')}`,
      VAPID_PUBLIC_KEY: vapid.publicKey,
      VAPID_PRIVATE_KEY: vapid.privateKey,
      VAPID_SUBJECT: 'mailto:it@riverside.example',
      PUSH_SERVICE_HOSTS: 'push.example.org, .Notify.example.net',
      PRACTICE_NAME: 'Riverside Clinic',
      SMTP_URL: 'smtp://mailer:secret@mail.internal:587',
      MAIL_FROM: 'Riverside Clinic <noreply@riverside.example>',
      ATTACHMENT_ORIGIN: 'https://files.example.org',
      SQLITE_WRITER_THREAD: 'true',
    });
    expect(c).toEqual({
      port: 8080,
      host: '0.0.0.0',
      metricsPort: 9464,
      metricsHost: '10.0.0.5',
      databaseUrl: 'postgres://carechat@db.internal:5432/carechat',
      databasePoolSize: 25,
      redisUrl: 'redis://cache.internal:6379',
      redisPrefix: 'practice1:',
      // Only the origin counts: path dropped.
      publicOrigin: 'https://chat.example.org',
      secure: true,
      demoPassword: 'a demo password',
      demo: false,
      sessionIdleMs: 30 * 60_000,
      sessionAbsoluteMs: 480 * 60_000,
      logLevel: 'warn',
      trustProxy: true,
      sqliteWriterThread: true,
      loginMaxPerAccount: 3,
      loginMaxPerIp: 50,
      loginWindowMs: 5 * 60_000,
      sendRate: { perSecond: 5, burst: 20 },
      webRoot: '/srv/web',
      outboxMaxAttempts: 5,
      outboxRetentionMs: 72 * 3600_000,
      auditSigningKey: undefined,
      auditAnchorMs: 60 * 60_000,
      auditDeniedPerMinute: 10,
      roomOpenMs: 14 * 24 * 3_600_000,
      attachments: {
        maxBytes: 25 * 1024 * 1024,
        dailyBytes: 500 * 1024 * 1024,
        storageUrl: 's3://bucket?endpoint=https://s3.internal',
        dataKey: Buffer.alloc(32, 1),
        previousDataKeys: [Buffer.alloc(32, 2), Buffer.alloc(32, 3)],
        origin: 'https://files.example.org',
      },
      push: {
        vapidPublicKey: vapid.publicKey,
        vapidPrivateKey: vapid.privateKey,
        vapidSubject: 'mailto:it@riverside.example',
        allowHttpLoopback: false,
        serviceHosts: ['push.example.org', '.notify.example.net'],
      },
      practiceName: 'Riverside Clinic',
      mail: {
        smtpUrl: 'smtp://mailer:secret@mail.internal:587',
        from: 'Riverside Clinic <noreply@riverside.example>',
      },
    });
  });

  it('refuses a DATA_KEY that is not 32 bytes of base64, without echoing it', () => {
    const short = Buffer.alloc(16, 9).toString('base64');
    expect(() => loadConfig({ DATA_KEY: short })).toThrow(
      /^Invalid configuration: DATA_KEY must be 32 bytes in base64/,
    );
    expect(() => loadConfig({ DATA_KEY: short })).not.toThrow(short);
    expect(() => loadConfig({ STORAGE_URL: 'ftp://x' })).toThrow(/STORAGE_URL must be db or s3/);
  });

  it('takes VAPID keys only as a pair, and never echoes the private one', () => {
    const vapid = webpush.generateVAPIDKeys();
    expect(() => loadConfig({ VAPID_PUBLIC_KEY: vapid.publicKey })).toThrow(
      /^Invalid configuration: VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY must be set together$/,
    );
    const bad = vapid.privateKey.slice(0, 20);
    expect(() => loadConfig({ VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: bad })).toThrow(
      /^Invalid configuration: VAPID_PRIVATE_KEY must be a P-256 private key/,
    );
    expect(() =>
      loadConfig({ VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: bad }),
    ).not.toThrow(bad);
    expect(() => loadConfig({ VAPID_SUBJECT: 'http://example.org' })).toThrow(
      /VAPID_SUBJECT must be an https: URL or a mailto: address/,
    );
    // Without a subject, push services are pointed at the public origin when it is https.
    expect(loadConfig({ PUBLIC_ORIGIN: 'https://chat.example.org' }).push.vapidSubject).toBe(
      'https://chat.example.org',
    );
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '', DEMO: '' })).toMatchObject({ port: 3000, demo: undefined });
  });

  it('derives the public origin from HOST and PORT, bracketing IPv6', () => {
    expect(loadConfig({ HOST: '::1', PORT: '4000' }).publicOrigin).toBe('http://[::1]:4000');
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT must be a port number (got "abc")'],
    [{ PORT: '70000' }, 'PORT must be at most 65535 (got "70000")'],
    [{ METRICS_PORT: 'prometheus' }, 'METRICS_PORT must be a port number'],
    [{ SESSION_IDLE_MINUTES: 'x' }, 'SESSION_IDLE_MINUTES must be a number of minutes (got "x")'],
    [{ SESSION_IDLE_MINUTES: '0' }, 'SESSION_IDLE_MINUTES must be a positive number of minutes'],
    [{ SESSION_ABSOLUTE_MINUTES: '1.5' }, 'SESSION_ABSOLUTE_MINUTES must be a whole number'],
    [{ DATABASE_URL: 'mysql://db/x' }, 'DATABASE_URL must be sqlite:<path> or postgres://'],
    [{ REDIS_URL: 'http://cache' }, 'REDIS_URL must be redis://'],
    [{ DEMO: 'maybe' }, 'DEMO must be true or false'],
    [{ ROOM_OPEN_DAYS: '0' }, 'ROOM_OPEN_DAYS must be at least 1'],
    [{ ROOM_OPEN_DAYS: 'a month' }, 'ROOM_OPEN_DAYS must be a number of days'],
    [{ TRUST_PROXY: 'on' }, 'TRUST_PROXY must be true or false'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of fatal, error, warn, info'],
    [{ PUBLIC_ORIGIN: 'chat.example.org' }, 'PUBLIC_ORIGIN must be an http(s) origin'],
    [{ PUBLIC_ORIGIN: 'javascript:alert(1)' }, 'PUBLIC_ORIGIN must be an http(s) origin'],
    [{ LOGIN_MAX_PER_IP: '0' }, 'LOGIN_MAX_PER_IP must be at least 1'],
    [{ DATABASE_POOL_SIZE: 'many' }, 'DATABASE_POOL_SIZE must be a number of connections'],
    [{ OUTBOX_MAX_ATTEMPTS: '0' }, 'OUTBOX_MAX_ATTEMPTS must be at least 1'],
    [{ OUTBOX_RETENTION_HOURS: 'a day' }, 'OUTBOX_RETENTION_HOURS must be a number of hours'],
    [{ SEND_LIMIT_PER_SECOND: '0' }, 'SEND_LIMIT_PER_SECOND must be at least 1'],
    [{ SEND_LIMIT_BURST: 'lots' }, 'SEND_LIMIT_BURST must be a number of messages'],
    [{ SMTP_URL: 'mail.example.org:25' }, 'SMTP_URL must be smtp://… or smtps://…'],
    [{ MAIL_FROM: 'nobody' }, 'MAIL_FROM must be an address'],
    [{ PRACTICE_NAME: 'A <b>clinic</b>' }, 'PRACTICE_NAME must be one line without < or >'],
    [
      { DATABASE_URL: 'postgres://db/carechat?schema=Practice-1' },
      'DATABASE_URL must name its ?schema= in lower-case letters, digits and _',
    ],
  ])('refuses %j with one clear line', (env, expected) => {
    const message = errorOf(env);
    expect(message).toContain(`Invalid configuration: ${expected}`);
    expect(message).not.toContain('\n');
    // The variable's name appears once, not repeated by the message.
    const name = Object.keys(env)[0]!;
    expect(message.split(name)).toHaveLength(2);
  });

  it('never echoes a secret or a URL credential in the error', () => {
    const demo = errorOf({ DEMO_PASSWORD: 'hunter2' });
    expect(demo).toBe('Invalid configuration: DEMO_PASSWORD must be at least 12 characters');
    const redis = errorOf({ REDIS_URL: 'https://user:s3cret@cache:6379' });
    expect(redis).not.toContain('s3cret');
    expect(redis).toContain('***@cache');
  });

  it('takes the audit settings, and never echoes the signing key', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    expect(loadConfig({})).toMatchObject({
      auditSigningKey: undefined,
      auditAnchorMs: 60 * 60_000,
      auditDeniedPerMinute: 10,
    });
    expect(
      loadConfig({
        AUDIT_SIGNING_KEY: key,
        AUDIT_ANCHOR_MINUTES: '5',
        AUDIT_DENIED_PER_MINUTE: '3',
      }),
    ).toMatchObject({ auditSigningKey: key, auditAnchorMs: 5 * 60_000, auditDeniedPerMinute: 3 });
    const short = errorOf({ AUDIT_SIGNING_KEY: 'c2hvcnQta2V5' });
    expect(short).toBe(
      'Invalid configuration: AUDIT_SIGNING_KEY must be 32 bytes in base64 (openssl rand -base64 32)',
    );
    expect(errorOf({ AUDIT_DENIED_PER_MINUTE: '0' })).toContain('AUDIT_DENIED_PER_MINUTE');
  });

  it('keeps a value with a line break on one line', () => {
    expect(errorOf({ PORT: '80\n81' })).not.toContain('\n');
  });
});
