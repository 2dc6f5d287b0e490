import { createHash } from 'node:crypto';

/** The `prev_hash` of the first row of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** The columns a row's hash covers: all of them but the hashes themselves. */
export interface ChainedFields {
  id: number;
  at: number;
  actor_id: string | null;
  actor_role: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  detail: string | null;
}

/**
 * One fixed serialization of a row: a JSON array in column order, so neither key order
 * nor a driver's types (both stores read ids and times back as numbers) change it.
 */
export function canonicalRow(r: ChainedFields): string {
  return JSON.stringify([
    Number(r.id),
    Number(r.at),
    r.actor_id,
    r.actor_role,
    r.action,
    r.target_type,
    r.target_id,
    r.ip,
    r.detail,
  ]);
}

/** SHA-256(prev_hash ‖ canonical row), hex. prev_hash is fixed-length, so plain concatenation is unambiguous. */
export function chainHash(prevHash: string, row: ChainedFields): string {
  return createHash('sha256').update(prevHash).update(canonicalRow(row)).digest('hex');
}
