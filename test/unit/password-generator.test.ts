import { generatePassword, PasswordGenerationError } from '../../src/domain/password-generator';
import { parsePasswordPolicy } from '../../src/domain/policy';

const alice = { username: 'alice', email: 'alice@example.com' };

describe('generatePassword', () => {
  it.each([
    'length(8) and maxLength(128) and notCompromised and notUsername and notEmail',
    'length(12) and digits(3) and lowerCase(2) and upperCase(2) and specialChars(2)',
    'length(30) and maxLength(30)',
    'maxLength(10) and digits(4) and specialChars(4)',
    'minStrength(4)',
  ])('meets %s, every time', (source) => {
    const policy = parsePasswordPolicy(source);
    for (let i = 0; i < 20; i++) expect(policy.check(generatePassword(policy, alice), alice)).toEqual([]);
  });

  it('is at least 20 characters when the policy allows, and never the same twice', () => {
    const policy = parsePasswordPolicy('length(8)');
    const made = new Set(Array.from({ length: 200 }, () => generatePassword(policy, alice)));
    expect(made.size).toBe(200);
    for (const password of made) expect(password.length).toBe(20);
  });

  it('says why when no password can meet the policy', () => {
    expect(() => generatePassword(parsePasswordPolicy('maxLength(3) and digits(2) and upperCase(2)'), alice)).toThrow(
      new PasswordGenerationError('Cannot generate a password: the policy needs 4 characters of given kinds but allows at most 3.'),
    );
    expect(() => generatePassword(parsePasswordPolicy('regexPattern([0-9]{6})'), alice)).toThrow(PasswordGenerationError);
  });
});
