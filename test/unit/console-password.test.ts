import { randomFillSync } from 'node:crypto';
import { describeRule, generatePassword, GenerationError, parsePolicy } from '../../console/src/password';
import { parsePasswordPolicy } from '../../src/domain/policy';

/** The console's reading of a realm's policy, and its generator, held against the service's own policy check. */
const random = (array: Uint32Array): Uint32Array => randomFillSync(array);

describe('parsePolicy', () => {
  it('reads rules, parameters and patterns holding "and" or parentheses; hashing settings are no rules', () => {
    expect(parsePolicy('length(12) and notUsername and regexPattern(^(a|b and c).*$) and hashAlgorithm(argon2) and hashIterations(5) and digits')).toEqual([
      { policy: 'length', parameter: '12' },
      { policy: 'notUsername', parameter: undefined },
      { policy: 'regexPattern', parameter: '^(a|b and c).*$' },
      { policy: 'digits', parameter: undefined },
    ]);
  });

  it.each([[undefined], [''], ['  ']])('reads no rules from %j', (source) => {
    expect(parsePolicy(source)).toEqual([]);
  });
});

describe('describeRule', () => {
  it.each([
    ['length(12)', 'At least 12 characters.'],
    ['digits', 'At least 1 digit.'],
    ['upperCase(2)', 'At least 2 upper-case letters.'],
    ['passwordHistory(3)', 'Not one of the last 3 passwords.'],
    ['notCompromised', 'Not a common or breached password.'],
    ['regexPattern(^x)', 'Matches the pattern ^x.'],
    ['somethingNew(4)', 'somethingNew(4)'],
  ])('says what %s asks', (source, text) => {
    expect(parsePolicy(source).map(describeRule)).toEqual([text]);
  });
});

describe('generatePassword', () => {
  const context = { username: 'alice', email: 'alice@example.com' };

  it.each([
    ['length(8) and maxLength(128) and notCompromised and notUsername and notEmail'],
    ['length(30) and digits(3) and lowerCase(2) and upperCase(4) and specialChars(5) and notUsername'],
    ['maxLength(12) and digits(3) and specialChars(3) and upperCase(3) and lowerCase(3)'],
    ['length(64) and maxLength(64)'],
    [''],
  ])('meets %j as the service checks it', (source) => {
    const service = parsePasswordPolicy(source);
    for (let i = 0; i < 50; i++) {
      const password = generatePassword(parsePolicy(source), random);
      expect(service.check(password, context)).toEqual([]);
    }
  });

  it('is at least 20 characters, and what length asks beyond it', () => {
    expect(generatePassword(parsePolicy(''), random)).toHaveLength(20);
    expect(generatePassword(parsePolicy('length(33)'), random)).toHaveLength(33);
    expect(generatePassword(parsePolicy('maxLength(10)'), random)).toHaveLength(10);
  });

  it('draws from the random source it is given, uniformly over the alphabet', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) for (const c of generatePassword([], random)) seen.add(c);
    // 25 + 24 + 8 + 14 characters without look-alikes (no l, I, O, 0, 1).
    expect(seen.size).toBe(71);
    expect([...seen].filter((c) => 'lIO01'.includes(c))).toEqual([]);
  });

  it('refuses rules no password can meet, saying why', () => {
    expect(() => generatePassword(parsePolicy('maxLength(4) and digits(3) and upperCase(2)'), random)).toThrow(GenerationError);
    expect(() => generatePassword(parsePolicy('maxLength(4) and digits(3) and upperCase(2)'), random)).toThrow('The rules ask for 5 characters of given kinds but allow at most 4: set a password instead.');
  });
});
