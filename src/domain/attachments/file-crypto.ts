import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Envelope encryption at rest: each file gets a random 256-bit data key; the file (and its
 * thumbnail) are sealed with AES-256-GCM under that key, and the data key is sealed under
 * the master key (DATA_KEY). Rotation re-seals only the data keys. The attachment's id is
 * the associated data of every seal, so a file or key cannot be moved onto another row.
 */
export interface MasterKey {
  id: string;
  key: Buffer;
}

export const masterKey = (key: Buffer): MasterKey => ({
  // Names the key without revealing it: the stored rows say which key wraps them.
  id: createHash('sha256').update('carechat data key id\0').update(key).digest('hex').slice(0, 16),
  key,
});

const IV = 12;
const TAG = 16;

export function seal(key: Buffer, plaintext: Buffer, aad: string): Buffer {
  const iv = randomBytes(IV);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

export function open(key: Buffer, sealed: Buffer, aad: string): Buffer {
  if (sealed.length < IV + TAG) throw new Error('sealed data is too short');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
  return Buffer.concat([
    decipher.update(sealed.subarray(IV, sealed.length - TAG)),
    decipher.final(),
  ]);
}

/** The master keys a process knows: the current one seals, every one of them opens. */
export class KeyRing {
  readonly current: MasterKey | undefined;
  private readonly byId = new Map<string, MasterKey>();

  constructor(current: Buffer | undefined, previous: readonly Buffer[] = []) {
    this.current = current ? masterKey(current) : undefined;
    for (const k of [...(current ? [current] : []), ...previous]) {
      const m = masterKey(k);
      this.byId.set(m.id, m);
    }
  }

  newDataKey(id: string): { dataKey: Buffer; keyId: string; wrapped: Buffer } | undefined {
    if (!this.current) return undefined;
    const dataKey = randomBytes(32);
    return {
      dataKey,
      keyId: this.current.id,
      wrapped: seal(this.current.key, dataKey, `key:${id}`),
    };
  }

  /** Any small secret (not only a file's data key) sealed under the current master key. */
  wrapSecret(id: string, secret: Buffer): { keyId: string; wrapped: Buffer } | undefined {
    if (!this.current) return undefined;
    return { keyId: this.current.id, wrapped: seal(this.current.key, secret, `key:${id}`) };
  }

  unwrap(id: string, keyId: string, wrapped: Buffer): Buffer {
    const master = this.byId.get(keyId);
    if (!master)
      throw new Error(`master key ${keyId} is not configured (DATA_KEY / DATA_KEY_PREVIOUS)`);
    return open(master.key, wrapped, `key:${id}`);
  }

  /** The data key sealed again under the current master key. */
  rewrap(id: string, keyId: string, wrapped: Buffer): { keyId: string; wrapped: Buffer } {
    if (!this.current) throw new Error('DATA_KEY is not set');
    const dataKey = this.unwrap(id, keyId, wrapped);
    return { keyId: this.current.id, wrapped: seal(this.current.key, dataKey, `key:${id}`) };
  }
}
