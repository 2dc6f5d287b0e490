import { z } from 'zod';
import { SCHEMA_NAME } from '../store/database.js';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const wholeNumber = (what: string, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number({ error: `must be ${what}` })
    .int(`must be ${what}`)
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

const minutes = () =>
  z.coerce
    .number({ error: 'must be a number of minutes' })
    .int('must be a whole number of minutes')
    .positive('must be a positive number of minutes');

function validSchemaParameter(url: string): boolean {
  try {
    const schema = new URL(url).searchParams.get('schema');
    return schema === null || SCHEMA_NAME.test(schema);
  } catch {
    // Not a URL we can read: the connection will say what is wrong with it.
    return true;
  }
}

const envSchema = z.object({
  PORT: wholeNumber('a port number', 0, 65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_PORT: wholeNumber('a port number', 0, 65535).optional(),
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z
    .string()
    .default('sqlite:./data/carechat.db')
    .refine((v) => /^sqlite:.+/.test(v) || /^postgres(ql)?:\/\/.+/.test(v), {
      message: 'must be sqlite:<path> or postgres://…',
    })
    .refine((v) => !/^postgres/.test(v) || validSchemaParameter(v), {
      message: 'must name its ?schema= in lower-case letters, digits and _',
    }),
  DATABASE_POOL_SIZE: wholeNumber('a number of connections', 1, 200).default(10),
  SQLITE_WRITER_THREAD: bool.default(false),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/.+/, 'must be redis://… or rediss://…')
    .optional(),
  REDIS_PREFIX: z.string().default('carechat:'),
  PUBLIC_ORIGIN: z
    .url({
      protocol: /^https?$/,
      error: 'must be an http(s) origin such as https://chat.example.org',
    })
    .transform((v) => new URL(v).origin)
    .optional(),
  DEMO_PASSWORD: z
    .string()
    .min(12, 'must be at least 12 characters')
    .max(128, 'must be at most 128 characters')
    .optional(),
  DEMO: bool.optional(),
  SESSION_IDLE_MINUTES: minutes().default(15),
  SESSION_ABSOLUTE_MINUTES: minutes().default(12 * 60),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  TRUST_PROXY: bool.default(false),
  LOGIN_MAX_PER_ACCOUNT: wholeNumber('a number of attempts', 1).default(5),
  LOGIN_MAX_PER_IP: wholeNumber('a number of attempts', 1).default(30),
  LOGIN_WINDOW_MINUTES: minutes().default(15),
  SEND_LIMIT_PER_SECOND: wholeNumber('a number of messages', 1, 10_000).default(50),
  SEND_LIMIT_BURST: wholeNumber('a number of messages', 1, 100_000).default(200),
  WEB_ROOT: z.string().optional(),
  OUTBOX_MAX_ATTEMPTS: wholeNumber('a number of attempts', 1, 100).default(10),
  OUTBOX_RETENTION_HOURS: wholeNumber('a number of hours', 1, 24 * 366).default(24),
  AUDIT_SIGNING_KEY: z
    .string()
    .refine((v) => /^[A-Za-z0-9+/]{43}=?$/.test(v) && Buffer.from(v, 'base64').length === 32, {
      message: 'must be 32 bytes in base64 (openssl rand -base64 32)',
    })
    .optional(),
  AUDIT_ANCHOR_MINUTES: minutes().default(60),
  AUDIT_DENIED_PER_MINUTE: wholeNumber('a number of rows', 1, 10_000).default(10),
  ROOM_OPEN_DAYS: wholeNumber('a number of days', 1, 3650).default(30),
  ATTACHMENT_MAX_MB: wholeNumber('a number of megabytes', 1, 1024).default(10),
  ATTACHMENT_DAILY_MB: wholeNumber('a number of megabytes', 1).default(200),
  ATTACHMENT_ORIGIN: z
    .url({
      protocol: /^https?$/,
      error: 'must be an http(s) origin such as https://files.practice.example',
    })
    .refine((v) => /^https?:\/\/[^/?#]+\/?$/.test(v), {
      message: 'must be an origin, without a path',
    })
    .transform((v) => new URL(v).origin)
    .optional(),
  STORAGE_URL: z
    .string()
    .default('db')
    .refine((v) => v === 'db' || /^s3:\/\/[^/?#]+/.test(v), {
      message: 'must be db or s3://bucket?endpoint=…',
    }),
  DATA_KEY: z
    .string()
    .refine(isDataKey, { message: 'must be 32 bytes in base64 (openssl rand -base64 32)' })
    .optional(),
  DATA_KEY_PREVIOUS: z
    .string()
    .refine((v) => v.split(',').every((k) => isDataKey(k.trim())), {
      message: 'must be comma-separated base64 keys of 32 bytes',
    })
    .optional(),
  VAPID_PUBLIC_KEY: z
    .string()
    .refine((v) => isBase64Url(v, 65), {
      message: 'must be a P-256 public key in base64url (npx web-push generate-vapid-keys)',
    })
    .optional(),
  VAPID_PRIVATE_KEY: z
    .string()
    .refine((v) => isBase64Url(v, 32), {
      message: 'must be a P-256 private key in base64url (npx web-push generate-vapid-keys)',
    })
    .optional(),
  VAPID_SUBJECT: z
    .string()
    .refine((v) => /^(https:\/\/[^/\s]+|mailto:[^@\s]+@[^@\s]+)/.test(v), {
      message: 'must be an https: URL or a mailto: address',
    })
    .optional(),
  PUSH_ALLOW_HTTP_LOOPBACK: bool.default(false),
  PUSH_SERVICE_HOSTS: z
    .string()
    .refine(
      (v) => v.trim() === '*' || v.split(',').every((h) => /^\.?[a-z0-9.-]+$/i.test(h.trim())),
      {
        message: 'must be * or comma-separated host names (.example.com takes its subdomains)',
      },
    )
    .optional(),
  PRACTICE_NAME: z
    .string()
    .trim()
    .min(1)
    .max(100, 'must be at most 100 characters')
    .refine((v) => !/[\r\n<>]/.test(v), { message: 'must be one line without < or >' })
    .default('your practice'),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/.+/, 'must be smtp://… or smtps://…')
    .optional(),
  MAIL_FROM: z
    .string()
    .max(200)
    .refine((v) => !/[\r\n]/.test(v) && /@[^@\s>]+>?$/.test(v), {
      message: 'must be an address such as "Practice <noreply@example.org>"',
    })
    .optional(),
});

function isBase64Url(v: string, bytes: number): boolean {
  return /^[A-Za-z0-9_-]+$/.test(v) && Buffer.from(v, 'base64url').length === bytes;
}

function isDataKey(v: string): boolean {
  return /^[A-Za-z0-9+/]{43}=$/.test(v) && Buffer.from(v, 'base64').length === 32;
}

/** Variables whose values must never be echoed, even in an error message. */
const SECRET_VARIABLES = new Set([
  'SMTP_URL',
  'DEMO_PASSWORD',
  'AUDIT_SIGNING_KEY',
  'DATA_KEY',
  'DATA_KEY_PREVIOUS',
  'VAPID_PRIVATE_KEY',
]);

/** The value as it may be shown: secrets hidden, credentials in URLs masked. */
function shownValue(name: string, value: string): string {
  if (SECRET_VARIABLES.has(name)) return '';
  const masked = value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1***@');
  // JSON quoting keeps a value with a line break on the one line the operator reads.
  return ` (got ${JSON.stringify(masked.length > 80 ? `${masked.slice(0, 77)}...` : masked)})`;
}

export type Config = {
  port: number;
  host: string;
  /** The metrics listener's port; undefined: no metrics listener (and no metrics kept). */
  metricsPort: number | undefined;
  metricsHost: string;
  databaseUrl: string;
  databasePoolSize: number;
  /** SQLite: the write connection in a worker thread. */
  sqliteWriterThread: boolean;
  redisUrl: string | undefined;
  redisPrefix: string;
  publicOrigin: string;
  secure: boolean;
  demoPassword: string | undefined;
  demo: boolean | undefined;
  sessionIdleMs: number;
  sessionAbsoluteMs: number;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  trustProxy: boolean;
  loginMaxPerAccount: number;
  loginMaxPerIp: number;
  loginWindowMs: number;
  /** Messages per user: sustained rate and burst, over HTTP and WebSocket together. */
  sendRate: { perSecond: number; burst: number };
  webRoot: string | undefined;
  outboxMaxAttempts: number;
  outboxRetentionMs: number;
  /** Ed25519 seed for audit checkpoints; unset: a key file (see domain/audit/checkpoint.ts). */
  auditSigningKey: string | undefined;
  auditAnchorMs: number;
  auditDeniedPerMinute: number;
  /** How long after its appointment's time a room stays open for new messages. */
  roomOpenMs: number;
  attachments: {
    maxBytes: number;
    dailyBytes: number;
    storageUrl: string;
    /** Where files are served from, when not from the app's own origin (ATTACHMENT_ORIGIN). */
    origin: string | undefined;
    /** The master key that wraps new files' data keys, and older ones still accepted. */
    dataKey: Buffer | undefined;
    previousDataKeys: Buffer[];
  };
  push: {
    /** Both or neither; unset: a pair generated on first start and kept in the store. */
    vapidPublicKey: string | undefined;
    vapidPrivateKey: string | undefined;
    vapidSubject: string;
    /** Accept http://127.0.0.1 endpoints (tests run their push service there). */
    allowHttpLoopback: boolean;
    /** Push service hosts subscriptions may point at; undefined: the browsers' known ones. */
    serviceHosts: readonly string[] | '*' | undefined;
  };
  /** Named in notifications ("a new secure message from …"); never anything else about it. */
  practiceName: string;
  mail: {
    /** Unset: no e-mail notifications. */
    smtpUrl: string | undefined;
    from: string;
  };
};

export class ConfigError extends Error {}

/** Reads the configuration from environment variables; throws ConfigError with one clear line. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty variables count as unset, as in most process managers.
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = issue?.path.join('.') ?? 'environment';
    const raw = cleaned[name];
    const value = typeof raw === 'string' ? shownValue(name, raw) : '';
    throw new ConfigError(
      `Invalid configuration: ${name} ${issue?.message ?? 'is invalid'}${value}`,
    );
  }
  const e = parsed.data;
  if ((e.VAPID_PUBLIC_KEY === undefined) !== (e.VAPID_PRIVATE_KEY === undefined))
    throw new ConfigError(
      'Invalid configuration: VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY must be set together',
    );
  const publicOrigin =
    e.PUBLIC_ORIGIN ?? `http://${e.HOST.includes(':') ? `[${e.HOST}]` : e.HOST}:${e.PORT}`;
  // The point of a separate origin is that a file never runs in the app's: the same one is a mistake.
  if (e.ATTACHMENT_ORIGIN !== undefined && e.ATTACHMENT_ORIGIN === publicOrigin) {
    throw new ConfigError(
      'Invalid configuration: ATTACHMENT_ORIGIN must differ from PUBLIC_ORIGIN (or be left unset)',
    );
  }
  return {
    port: e.PORT,
    host: e.HOST,
    metricsPort: e.METRICS_PORT,
    metricsHost: e.METRICS_HOST,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    sqliteWriterThread: e.SQLITE_WRITER_THREAD,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX,
    publicOrigin,
    secure: publicOrigin.startsWith('https:'),
    demoPassword: e.DEMO_PASSWORD,
    demo: e.DEMO,
    sessionIdleMs: e.SESSION_IDLE_MINUTES * 60_000,
    sessionAbsoluteMs: e.SESSION_ABSOLUTE_MINUTES * 60_000,
    logLevel: e.LOG_LEVEL,
    trustProxy: e.TRUST_PROXY,
    loginMaxPerAccount: e.LOGIN_MAX_PER_ACCOUNT,
    loginMaxPerIp: e.LOGIN_MAX_PER_IP,
    loginWindowMs: e.LOGIN_WINDOW_MINUTES * 60_000,
    sendRate: { perSecond: e.SEND_LIMIT_PER_SECOND, burst: e.SEND_LIMIT_BURST },
    webRoot: e.WEB_ROOT,
    outboxMaxAttempts: e.OUTBOX_MAX_ATTEMPTS,
    outboxRetentionMs: e.OUTBOX_RETENTION_HOURS * 3600_000,
    auditSigningKey: e.AUDIT_SIGNING_KEY,
    auditAnchorMs: e.AUDIT_ANCHOR_MINUTES * 60_000,
    auditDeniedPerMinute: e.AUDIT_DENIED_PER_MINUTE,
    roomOpenMs: e.ROOM_OPEN_DAYS * 24 * 3_600_000,
    attachments: {
      maxBytes: e.ATTACHMENT_MAX_MB * 1024 * 1024,
      dailyBytes: e.ATTACHMENT_DAILY_MB * 1024 * 1024,
      storageUrl: e.STORAGE_URL,
      origin: e.ATTACHMENT_ORIGIN,
      dataKey: e.DATA_KEY === undefined ? undefined : Buffer.from(e.DATA_KEY, 'base64'),
      previousDataKeys: (e.DATA_KEY_PREVIOUS ?? '')
        .split(',')
        .map((k) => k.trim())
        .filter(Boolean)
        .map((k) => Buffer.from(k, 'base64')),
    },
    practiceName: e.PRACTICE_NAME,
    push: {
      vapidPublicKey: e.VAPID_PUBLIC_KEY,
      vapidPrivateKey: e.VAPID_PRIVATE_KEY,
      // Push services want a way to reach whoever runs the server; the origin is one.
      vapidSubject:
        e.VAPID_SUBJECT ??
        (publicOrigin.startsWith('https:') ? publicOrigin : 'mailto:webmaster@localhost.invalid'),
      allowHttpLoopback: e.PUSH_ALLOW_HTTP_LOOPBACK,
      serviceHosts:
        e.PUSH_SERVICE_HOSTS === undefined
          ? undefined
          : e.PUSH_SERVICE_HOSTS.trim() === '*'
            ? '*'
            : e.PUSH_SERVICE_HOSTS.split(',')
                .map((h) => h.trim().toLowerCase())
                .filter(Boolean),
    },
    mail: {
      smtpUrl: e.SMTP_URL,
      from: e.MAIL_FROM ?? `carechat <noreply@${new URL(publicOrigin).hostname}>`,
    },
  };
}
