import pg from 'pg';
import { postgresClientConfig } from './database.js';

/**
 * A PostgreSQL session advisory lock on a connection of its own, outside the pool: the
 * lock is held exactly as long as this connection lives, so a process that dies (or
 * loses its connection) gives it up without anyone having to notice.
 */
export class AdvisoryLockConnection {
  private readonly client: pg.Client;

  /** `onLost` is called once the connection is gone, with the error when there was one. */
  constructor(databaseUrl: string, onLost: (err?: Error) => void) {
    this.client = new pg.Client(postgresClientConfig(databaseUrl));
    this.client.on('error', (err) => onLost(err));
    this.client.on('end', () => onLost());
  }

  async connect(): Promise<void> {
    await this.client.connect();
  }

  /**
   * Tries the lock named `name` within the current schema (two keys, so practices that
   * share a database each get their own); answers whether this connection holds it now.
   */
  async tryLock(name: string): Promise<boolean> {
    const res = await this.client.query<{ locked: boolean }>(
      'select pg_try_advisory_lock(hashtext($1), hashtext(current_schema())) as locked',
      [name],
    );
    return res.rows[0]?.locked === true;
  }

  /** Rejects when the connection, and with it the lock, is gone. */
  async check(): Promise<void> {
    await this.client.query('select 1');
  }

  /** Ending the session releases the lock. */
  async end(): Promise<void> {
    await this.client.end();
  }
}
