import { chainHash, GENESIS_HASH } from '../../store/audit-chain.js';
import type { ChainHead } from '../../store/audit-repository.js';
import type { Store } from '../../store/store.js';
import type { Checkpoint, CheckpointSigner } from './checkpoint.js';

/** What is wrong at the first broken row. */
export type ChainProblem =
  /** The row's prev_hash is not the hash of the row before it (a row removed or inserted). */
  | 'link'
  /** The row's hash does not match its content (the row was edited). */
  | 'hash'
  /** The checkpoint names a row that is no longer there: the newest rows were cut off. */
  | 'missing'
  /** The checkpoint's row is there but holds something else than when it was signed. */
  | 'checkpoint_mismatch'
  /** The checkpoint was not signed by this server's key, or was altered. */
  | 'checkpoint_signature';

export interface ChainVerdict {
  ok: boolean;
  /** Rows checked, from the first. */
  checked: number;
  firstBrokenId?: string;
  problem?: ChainProblem;
  /** The newest row walked. */
  head: ChainHead | null;
}

const PAGE = 2_000;

/**
 * Walks the chain from its first row: each row must link to the one before and hash to
 * what it holds. Given a checkpoint, the row it names must also still be there with the
 * same hash, which is what catches the newest rows being deleted.
 */
export async function verifyChain(
  store: Store,
  opts: { checkpoint?: Checkpoint; signer?: CheckpointSigner } = {},
): Promise<ChainVerdict> {
  const { checkpoint } = opts;
  if (checkpoint && !opts.signer?.verify(checkpoint)) {
    return {
      ok: false,
      checked: 0,
      firstBrokenId: checkpoint.headId,
      problem: 'checkpoint_signature',
      head: null,
    };
  }
  const anchorId = checkpoint ? Number(checkpoint.headId) : undefined;
  let prev = GENESIS_HASH;
  let checked = 0;
  let head: ChainHead | null = null;
  let anchorSeen = false;
  const broken = (id: number, problem: ChainProblem): ChainVerdict => ({
    ok: false,
    checked,
    firstBrokenId: String(id),
    problem,
    head,
  });
  for (let after = Number.MIN_SAFE_INTEGER; ;) {
    const rows = await store.audit.chainPage(after, PAGE);
    if (rows.length === 0) break;
    for (const row of rows) {
      const id = Number(row.id);
      if (row.prev_hash !== prev) return broken(id, 'link');
      if (row.hash !== chainHash(prev, row)) return broken(id, 'hash');
      if (anchorId !== undefined && !anchorSeen && id >= anchorId) {
        if (id !== anchorId) return broken(anchorId, 'missing');
        if (row.hash !== checkpoint!.headHash) return broken(id, 'checkpoint_mismatch');
        anchorSeen = true;
      }
      prev = row.hash;
      head = { id, hash: row.hash };
      checked += 1;
    }
    after = head!.id;
  }
  if (anchorId !== undefined && !anchorSeen) return broken((head?.id ?? 0) + 1, 'missing');
  return { ok: true, checked, head };
}
