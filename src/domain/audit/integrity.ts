import { auditEntry, type Ctx } from '../context.js';
import type { Deps } from '../deps.js';
import { PRACTICE, require } from '../access/policy.js';
import type { Checkpoint, CheckpointSigner } from './checkpoint.js';
import { verifyChain, type ChainVerdict } from './verify.js';

/**
 * The trail's integrity as admins see it: verify the chain, and download a signed
 * checkpoint of its head to keep somewhere the store cannot reach. Both are admin-only
 * and both are themselves written to the trail.
 */
export class AuditIntegrityService {
  constructor(
    private readonly deps: Deps,
    private readonly signer: CheckpointSigner,
  ) {}

  async verify(ctx: Ctx): Promise<ChainVerdict> {
    require(ctx.actor, 'audit.read', PRACTICE);
    const verdict = await verifyChain(this.deps.store, { signer: this.signer });
    await this.deps.readAudit.record(
      auditEntry(
        ctx,
        this.deps.clock.now(),
        'audit.verify',
        { type: 'audit', id: verdict.head ? String(verdict.head.id) : null },
        {
          ok: verdict.ok,
          checked: verdict.checked,
          firstBrokenId: verdict.firstBrokenId ?? null,
        },
      ),
    );
    return verdict;
  }

  /**
   * The download is written to the trail first, in the same transaction that reads the
   * head, so the checkpoint covers its own row and nothing can slip in between.
   */
  async checkpoint(ctx: Ctx): Promise<Checkpoint> {
    require(ctx.actor, 'audit.read', PRACTICE);
    const { store, clock } = this.deps;
    const now = clock.now();
    const checkpoint = await store.transaction(async (tx) => {
      await tx.audit.record(auditEntry(ctx, now, 'audit.checkpoint', { type: 'audit', id: null }));
      const head = await tx.audit.head();
      return this.signer.sign(head!, new Date(now));
    });
    this.deps.log.info(
      { auditHead: { id: checkpoint.headId, hash: checkpoint.headHash } },
      'audit checkpoint downloaded',
    );
    return checkpoint;
  }
}
