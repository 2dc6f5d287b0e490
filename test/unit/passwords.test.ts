import { describe, expect, it } from 'vitest';
import {
  OWASP_SCRYPT,
  PASSWORD_MAX,
  PASSWORD_MIN,
  hashPassword,
  passwordProblem,
  verifyPassword,
} from '../../src/domain/passwords.js';

const FAST = { N: 2 ** 10, r: 8, p: 1 };

describe('password rules', () => {
  it('asks for 12 to 128 characters and nothing else', () => {
    expect(PASSWORD_MIN).toBe(12);
    expect(PASSWORD_MAX).toBe(128);
    expect(passwordProblem('a'.repeat(11))).toBe('Password must be at least 12 characters');
    expect(passwordProblem('a'.repeat(12))).toBeNull();
    expect(passwordProblem('a'.repeat(128))).toBeNull();
    expect(passwordProblem('a'.repeat(129))).toBe('Password must be at most 128 characters');
    // No composition rules: a long lowercase passphrase is fine.
    expect(passwordProblem('correct horse battery staple')).toBeNull();
  });

  it('counts characters, not UTF-16 units', () => {
    // 12 emoji are 24 UTF-16 units but 12 characters.
    expect(passwordProblem('🔒'.repeat(11))).not.toBeNull();
    expect(passwordProblem('🔒'.repeat(12))).toBeNull();
    expect(passwordProblem('🔒'.repeat(128))).toBeNull();
    expect(passwordProblem('🔒'.repeat(129))).not.toBeNull();
  });
});

describe('password hashing', () => {
  it('uses scrypt with N=2^17, r=8, p=1 by default and stores the parameters with the hash', async () => {
    expect(OWASP_SCRYPT).toEqual({ N: 131072, r: 8, p: 1 });
    const hash = await hashPassword('a password for the record');
    const [scheme, n, r, p, salt, key] = hash.split('$');
    expect([scheme, n, r, p]).toEqual(['scrypt', '131072', '8', '1']);
    expect(Buffer.from(salt!, 'base64url')).toHaveLength(16);
    expect(Buffer.from(key!, 'base64url')).toHaveLength(32);
    expect(hash).not.toContain('a password for the record');
    expect(await verifyPassword('a password for the record', hash)).toBe(true);
    expect(await verifyPassword('a password for the recorD', hash)).toBe(false);
  });

  it('salts every hash', async () => {
    const a = await hashPassword('same password here', FAST);
    const b = await hashPassword('same password here', FAST);
    expect(a).not.toBe(b);
    expect(await verifyPassword('same password here', a)).toBe(true);
    expect(await verifyPassword('same password here', b)).toBe(true);
  });

  it('verifies with the parameters stored in the hash, so the cost can be raised later', async () => {
    const old = await hashPassword('an older password', FAST);
    expect(old.startsWith('scrypt$1024$8$1$')).toBe(true);
    expect(await verifyPassword('an older password', old)).toBe(true);
  });

  it('treats a composed and a decomposed accent as the same password', async () => {
    const hash = await hashPassword('caf\u00e9 au lait please', FAST);
    expect(await verifyPassword('cafe\u0301 au lait please', hash)).toBe(true);
  });

  it('rejects malformed stored hashes instead of throwing', async () => {
    for (const stored of [
      '',
      'bcrypt$x',
      'scrypt$1024$8$1$onlyfive',
      'plain text',
      'scrypt$abc$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      'scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    ]) {
      expect(await verifyPassword('whatever password', stored)).toBe(false);
    }
  });
});
