import {
  createHash,
  createPrivateKey,
  createPublicKey,
  randomBytes,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import type { ChainHead } from '../../store/audit-repository.js';

/**
 * A signed statement of the chain's head (id and hash) at a moment. The chain alone
 * cannot show that its newest rows were cut off; a checkpoint kept outside the store can:
 * the row it names must still be there, with that hash.
 *
 * Signed with Ed25519 rather than an HMAC: checking a signature needs only the public
 * key, so whoever verifies a checkpoint (an auditor, a second machine) never holds what
 * it takes to forge one.
 */
export const checkpointSchema = z.object({
  format: z.literal('carechat-audit-checkpoint/1'),
  headId: z.string().regex(/^\d+$/),
  headHash: z.string().regex(/^[0-9a-f]{64}$/),
  at: z.iso.datetime(),
  alg: z.literal('Ed25519'),
  /** SHA-256 of the public key (DER), hex: which key signed it. */
  keyId: z.string().regex(/^[0-9a-f]{64}$/),
  publicKey: z.string().describe('the signing public key, SPKI DER in base64'),
  signature: z.string().describe('Ed25519 signature of the fields above, base64'),
});

export type Checkpoint = z.infer<typeof checkpointSchema>;

const signedText = (c: Pick<Checkpoint, 'format' | 'headId' | 'headHash' | 'at' | 'keyId'>) =>
  [c.format, c.headId, c.headHash, c.at, c.keyId].join('\n');

// PKCS#8 wrapping of a raw 32-byte Ed25519 seed (RFC 8410).
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** Where the key came from: the environment, a key file, or (neither usable) this process only. */
export type KeySource = 'env' | 'file' | 'ephemeral';

export class CheckpointSigner {
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  readonly keyId: string;
  readonly publicKeyBase64: string;

  constructor(
    seed: Buffer,
    readonly source: KeySource = 'env',
  ) {
    if (seed.length !== 32) throw new Error('the audit signing key must be 32 bytes');
    this.privateKey = createPrivateKey({
      key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
      format: 'der',
      type: 'pkcs8',
    });
    this.publicKey = createPublicKey(this.privateKey);
    const der = this.publicKey.export({ format: 'der', type: 'spki' });
    this.keyId = createHash('sha256').update(der).digest('hex');
    this.publicKeyBase64 = der.toString('base64');
  }

  sign(head: ChainHead, at: Date): Checkpoint {
    const body = {
      format: 'carechat-audit-checkpoint/1' as const,
      headId: String(head.id),
      headHash: head.hash,
      at: at.toISOString(),
      alg: 'Ed25519' as const,
      keyId: this.keyId,
      publicKey: this.publicKeyBase64,
    };
    const signature = sign(null, Buffer.from(signedText(body)), this.privateKey);
    return { ...body, signature: signature.toString('base64') };
  }

  /** True when this server's key signed the checkpoint, as it stands. */
  verify(c: Checkpoint): boolean {
    if (c.keyId !== this.keyId) return false;
    try {
      return verify(
        null,
        Buffer.from(signedText(c)),
        this.publicKey,
        Buffer.from(c.signature, 'base64'),
      );
    } catch {
      return false;
    }
  }
}

/** Where the key lives when AUDIT_SIGNING_KEY is not set: beside an SQLite store, else ./data. */
export function defaultKeyFile(databaseUrl: string): string {
  const path = databaseUrl.startsWith('sqlite:') ? databaseUrl.slice('sqlite:'.length) : '';
  const dir = path && path !== ':memory:' ? dirname(resolve(path)) : resolve('data');
  return join(dir, 'audit-signing.key');
}

/**
 * The server's signing key: AUDIT_SIGNING_KEY (base64 of 32 random bytes) when set, which
 * every process of a deployment must share; otherwise a key file made on first use,
 * readable by the server's user only. Where no file can be written (a read-only install)
 * the key lives in this process alone, and the caller warns: the trail itself is
 * unaffected, but its checkpoints stop verifying at the next restart.
 */
export function loadCheckpointSigner(opts: {
  signingKey: string | undefined;
  databaseUrl: string;
}): CheckpointSigner {
  if (opts.signingKey) return new CheckpointSigner(Buffer.from(opts.signingKey, 'base64'));
  const file = defaultKeyFile(opts.databaseUrl);
  const fromFile = () =>
    new CheckpointSigner(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64'), 'file');
  try {
    return fromFile();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  try {
    mkdirSync(dirname(file), { recursive: true });
    // 'wx': two processes starting together agree on whichever key was written first.
    writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST') return new CheckpointSigner(randomBytes(32), 'ephemeral');
  }
  return fromFile();
}
