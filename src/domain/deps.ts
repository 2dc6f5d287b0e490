import type { Logger } from 'pino';
import type { Bus } from '../bus/bus.js';
import type { Store } from '../store/store.js';
import type { AuditWriter } from './audit-writer.js';
import type { Clock } from './clock.js';
import type { Outbox } from './events/outbox.js';
import type { ScryptParams } from './passwords.js';
import type { Telemetry } from './telemetry.js';

/** What the domain services need from the outside world. */
export interface Deps {
  store: Store;
  /** Audit rows for reads, group-committed. */
  readAudit: AuditWriter;
  /** Domain events, written in the transaction of the change that causes them. */
  outbox: Outbox;
  clock: Clock;
  bus: Bus;
  log: Logger;
  /** Where the domain reports its own work (commits, deliveries); `noTelemetry` when nobody watches. */
  telemetry: Telemetry;
  passwordParams: ScryptParams;
  session: { idleMs: number; absoluteMs: number };
  loginLimits: { perAccount: number; perIp: number; windowMs: number };
  /** How long after its appointment's time a room stays open (ROOM_OPEN_DAYS). */
  roomOpenMs: number;
}
