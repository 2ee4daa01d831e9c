import { createHmac } from 'node:crypto';
import bcrypt from 'bcrypt';
import { createBcryptHasher, normalizePassword } from '../../src/domain/hashing';

const hasher = createBcryptHasher({ cost: 10 });

describe('the bcrypt-sha256 hasher', () => {
  it('stores the scheme, a bcrypt hash of the configured cost, never the password', async () => {
    const credential = await hasher.hash('correct horse battery staple');
    expect(credential.algorithm).toBe('bcrypt-sha256');
    expect(credential.hash).toMatch(/^\$2b\$10\$[./A-Za-z0-9]{53}$/);
    expect(credential.hash).not.toContain('horse');
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const credential = await hasher.hash('correct horse battery staple');
    await expect(hasher.verify('correct horse battery staple', credential)).resolves.toBe(true);
    await expect(hasher.verify('correct horse battery stapl', credential)).resolves.toBe(false);
  });

  it('does not truncate at 72 bytes: passwords sharing their first 72 bytes differ', async () => {
    const prefix = 'x'.repeat(72);
    const credential = await hasher.hash(`${prefix}-one`);
    await expect(hasher.verify(`${prefix}-two`, credential)).resolves.toBe(false);
    await expect(hasher.verify(`${prefix}-one`, credential)).resolves.toBe(true);
  });

  it('does not stop at a NUL character', async () => {
    const credential = await hasher.hash('abc\u0000def');
    await expect(hasher.verify('abc\u0000xyz', credential)).resolves.toBe(false);
  });

  it('matches the construction it documents: bcrypt over base64(HMAC-SHA256(salt, NFKC(password)))', async () => {
    const credential = await hasher.hash('caf\u00e9');
    const salt = credential.hash.slice(0, 29);
    const preHash = createHmac('sha256', salt).update('caf\u00e9', 'utf8').digest('base64');
    await expect(bcrypt.compare(preHash, credential.hash)).resolves.toBe(true);
  });

  it('treats composed and decomposed forms of a password alike (NFKC)', async () => {
    expect(normalizePassword('cafe\u0301')).toBe('caf\u00e9');
    const credential = await hasher.hash('cafe\u0301 au lait');
    await expect(hasher.verify('caf\u00e9 au lait', credential)).resolves.toBe(true);
  });
});
