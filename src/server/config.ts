import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const minutes = (name: string) =>
  z.coerce
    .number({ error: `${name} must be a number of minutes` })
    .int('must be a whole number of minutes')
    .positive('must be a positive number of minutes');

const envSchema = z.object({
  PORT: z.coerce.number({ error: 'must be a port number' }).int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z
    .string()
    .default('sqlite:./data/carechat.db')
    .refine((v) => /^sqlite:.+/.test(v) || /^postgres(ql)?:\/\/.+/.test(v), {
      message: 'must be sqlite:<path> or postgres://…',
    }),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/.+/, 'must be redis://… or rediss://…')
    .optional(),
  REDIS_PREFIX: z.string().default('carechat:'),
  PUBLIC_ORIGIN: z
    .string()
    .url('must be an origin such as https://chat.example.org')
    .transform((v) => new URL(v).origin)
    .optional(),
  DEMO_PASSWORD: z.string().min(12, 'must be at least 12 characters').max(128).optional(),
  DEMO: bool.optional(),
  SESSION_IDLE_MINUTES: minutes('SESSION_IDLE_MINUTES').default(15),
  SESSION_ABSOLUTE_MINUTES: minutes('SESSION_ABSOLUTE_MINUTES').default(12 * 60),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TRUST_PROXY: bool.default(false),
  LOGIN_MAX_PER_ACCOUNT: z.coerce.number().int().positive().default(5),
  LOGIN_MAX_PER_IP: z.coerce.number().int().positive().default(30),
  LOGIN_WINDOW_MINUTES: minutes('LOGIN_WINDOW_MINUTES').default(15),
  WEB_ROOT: z.string().optional(),
});

export type Config = {
  port: number;
  host: string;
  databaseUrl: string;
  databasePoolSize: number;
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
  webRoot: string | undefined;
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
    const value = issue && typeof cleaned[name] === 'string' ? ` (got "${cleaned[name]}")` : '';
    throw new ConfigError(
      `Invalid configuration: ${name} ${issue?.message ?? 'is invalid'}${value}`,
    );
  }
  const e = parsed.data;
  const publicOrigin =
    e.PUBLIC_ORIGIN ?? `http://${e.HOST.includes(':') ? `[${e.HOST}]` : e.HOST}:${e.PORT}`;
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
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
    webRoot: e.WEB_ROOT,
  };
}
