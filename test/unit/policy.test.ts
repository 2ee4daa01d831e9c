import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PASSWORD_POLICY, parsePasswordPolicy, PASSWORD_HARD_CAP, passwordExpired, PolicySyntaxError } from '../../src/domain/policy';

const context = { username: 'alice', email: 'alice@example.com' };

describe('parsePasswordPolicy', () => {
  it.each([
    ['length(12)', 'length(12)'],
    ['length(12) and maxLength(64)', 'length(12) and maxLength(64)'],
    ['  length(10)   and   maxLength( 20 ) ', 'length(10) and maxLength(20)'],
    ['length', 'length(8)'],
    ['maxLength', 'maxLength(64)'],
    ['', ''],
  ])('reads %j as %j', (source, normalised) => {
    expect(parsePasswordPolicy(source).source).toBe(normalised);
  });

  it.each([
    ['lenght(12)', /unknown policy "lenght" \(did you mean "length"\?\); known policies: length, maxLength, digits/],
    ['length(twelve)', /length\(twelve\): the parameter must be an integer/],
    ['length(-1)', /the parameter must be an integer from 0 to 1024/],
    ['digits(-1)', /the parameter must be an integer from 0 to 4096/],
    ['length(1.5)', /the parameter must be an integer/],
    ['length(12) and length(10)', /policy "length" is given twice/],
    ['length(12) or maxLength(20)', /is not a policy term/],
    ['length(20) and maxLength(10)', /length\(20\) is more than maxLength\(10\)/],
    // The hard cap on a new password holds for every realm.
    ['maxLength(1025)', /maxLength\(1025\): the parameter must be an integer from 0 to 1024/],
    ['length(2000)', /length\(2000\): the parameter must be an integer from 0 to 1024/],
  ])('refuses %j, saying what is wrong', (source, message) => {
    expect(() => parsePasswordPolicy(source)).toThrow(PolicySyntaxError);
    expect(() => parsePasswordPolicy(source)).toThrow(message);
  });

  it('has a NIST SP 800-63B default: at least 8, at least 64 allowed, no composition rules, not compromised, not the username or email', () => {
    const policy = parsePasswordPolicy(DEFAULT_PASSWORD_POLICY);
    const broken = (password: string): string[] => policy.check(password, context).map((v) => v.policy);
    expect(broken('plum tree kite')).toEqual([]);
    expect(broken('b'.repeat(64))).toEqual([]);
    expect(broken('k7#mq2')).toEqual(['length']);
    expect(broken('iloveyou')).toEqual(['notCompromised']);
    expect(broken('alice@example.com')).toEqual(['notEmail']);
  });
});

describe('policy checks', () => {
  const policy = parsePasswordPolicy('length(4) and maxLength(6)');

  it.each([
    ['abcd', []],
    ['abcdef', []],
    ['abc', ['length']],
    ['abcdefg', ['maxLength']],
    ['😀😀😀😀', []], // four characters, eight UTF-16 units
    ['e\u0301e\u0301', ['length']], // NFKC composes to two characters
  ])('%j breaks %j', (password, broken) => {
    expect(policy.check(password, context).map((v) => v.policy)).toEqual(broken);
  });

  it('reports every broken rule with its parameter and a readable message', () => {
    const both = parsePasswordPolicy('length(10) and maxLength(10)');
    expect(both.check('short', context)).toEqual([
      { policy: 'length', parameter: 10, message: 'The password must have at least 10 characters.' },
    ]);
    expect(both.check('much too long', context)).toEqual([
      { policy: 'maxLength', parameter: 10, message: 'The password must have at most 10 characters.' },
    ]);
  });
});

describe('the hard cap of 1024 characters', () => {
  const cap = { policy: 'maxLength', parameter: PASSWORD_HARD_CAP, message: 'The password must have at most 1024 characters.' };

  it.each([
    ['1024 characters', 'a'.repeat(1024), []],
    ['1025 characters', 'a'.repeat(1025), [cap]],
    ['1024 emoji (2048 UTF-16 units)', '\u{1F600}'.repeat(1024), []],
    ['1025 emoji', '\u{1F600}'.repeat(1025), [cap]],
  ])('a realm without maxLength: %s break %j', (_name, password, violations) => {
    expect(parsePasswordPolicy('length(8)').check(password, context)).toEqual(violations);
  });

  it("is reported beside the other broken rules, and once: a realm's own maxLength speaks for it", () => {
    expect(parsePasswordPolicy('digits(1)').check('a'.repeat(2000), context)).toEqual([
      { policy: 'digits', parameter: 1, message: 'The password must contain at least 1 digit.' },
      cap,
    ]);
    expect(parsePasswordPolicy('maxLength(20)').check('a'.repeat(2000), context)).toEqual([
      { policy: 'maxLength', parameter: 20, message: 'The password must have at most 20 characters.' },
    ]);
  });
});

describe("Keycloak's rules", () => {
  const alice = { username: 'Alice', email: 'alice@example.com' };
  it.each([
    ['digits(2)', 'abc1', ['digits']],
    ['digits(2)', 'a1b2', []],
    ['digits', 'abc\u0661', []], // an Arabic-Indic digit counts
    ['lowerCase(2)', 'ABc', ['lowerCase']],
    ['lowerCase(2)', 'AbC\u00e9', []],
    ['upperCase', 'abc', ['upperCase']],
    ['upperCase', 'abC', []],
    ['specialChars(2)', 'abc!', ['specialChars']],
    ['specialChars(2)', 'a b!', []], // a space is special, as in Keycloak
    ['notUsername', 'ALICE', ['notUsername']],
    ['notUsername', 'alice1', []],
    ['notContainsUsername', 'my-alice-pw', ['notContainsUsername']],
    ['notContainsUsername', 'my-al1ce-pw', []],
    ['notEmail', 'Alice@Example.com', ['notEmail']],
    ['notEmail', 'alice@example.org', []],
    ['regexPattern([a-z]+[0-9])', 'abc1', []],
    ['regexPattern([a-z]+[0-9])', 'abc1x', ['regexPattern']], // the whole password must match, as Java's matches()
    ['regexPattern((ab)+)', 'abab', []],
    ['regexPattern(^(ab)+$) and regexPattern(.*b)', 'abab', []],
    ['length(4) and digits and upperCase and notUsername', 'alice', ['digits', 'upperCase', 'notUsername']],
  ])('%s: %j breaks %j', (source, password, broken) => {
    expect(parsePasswordPolicy(source).check(password, alice).map((v) => v.policy)).toEqual(broken);
  });

  it.each([
    ['passwordHistory', 3],
    ['passwordHistory(5)', 5],
    ['length(8)', 0],
  ])('reads %j as a history of %i passwords, which check() leaves to the account service', (source, history) => {
    const policy = parsePasswordPolicy(source);
    expect(policy.history).toBe(history);
    expect(policy.check('whatever it is', { username: 'x', email: undefined }).map((v) => v.policy)).toEqual([]);
  });

  it('treats a user without email as having none to match', () => {
    expect(parsePasswordPolicy('notEmail').check('anything', { username: 'bob', email: undefined })).toEqual([]);
  });

  it.each([
    ['digits(x)', /digits\(x\): the parameter must be an integer/],
    ['notUsername(3)', /notUsername takes no parameter, got "3"/],
    ['regexPattern', /regexPattern needs a pattern/],
    ['regexPattern([a-z)', /regexPattern\(\[a-z\): not a valid regular expression/],
    ['minStrength(5)', /minStrength\(5\): the parameter must be an integer from 0 to 4/],
    ['passwordAge(0)', /passwordAge\(0\): the parameter must be an integer from 1 to 36500/],
    ['forceExpiredPasswordChange(x)', /forceExpiredPasswordChange\(x\): the parameter must be an integer from 1 to 36500/],
    ['passwordBlacklist', /passwordBlacklist needs a file/],
    ['passwordBlacklist(/nonexistent/list.txt)', /passwordBlacklist\(\/nonexistent\/list.txt\): cannot read \/nonexistent\/list.txt: ENOENT/],
    ['notCompromised(1)', /notCompromised takes no parameter, got "1"/],
    ['hashAlgorithm(scrypt)', /hashAlgorithm\(scrypt\): unknown algorithm; known: argon2, bcrypt, pbkdf2-sha512, pbkdf2-sha256, pbkdf2/],
    ['hashIterations(0)', /hashIterations\(0\): the parameter must be a positive integer \(or -1 for the algorithm's default\)/],
    ['hashIterations(many)', /hashIterations\(many\): the parameter must be a positive integer/],
    ['hashIterations(5) and hashIterations(6)', /policy "hashIterations" is given twice/],
    ['maxAuthAge(300)', /policy "maxAuthAge" is not supported: set the realm's maxAuthAge option/],
    ['digits(1) and digits(2)', /policy "digits" is given twice/],
    ['uppercase(1)', /unknown policy "uppercase" \(did you mean "upperCase"\?\)/],
  ])('refuses %j', (source, message) => {
    expect(() => parsePasswordPolicy(source)).toThrow(message);
  });

  it('describes its rules for account pages, in order, with parameters where they have one', () => {
    expect(parsePasswordPolicy('length(12) and notUsername and regexPattern(.*[0-9].*)').describe()).toEqual([
      { policy: 'length', parameter: 12, message: 'The password must have at least 12 characters.' },
      { policy: 'notUsername', message: 'The password must not be the username.' },
      { policy: 'regexPattern', parameter: '.*[0-9].*', message: 'The password must match the pattern .*[0-9].*.' },
    ]);
  });
});

describe("Keycloak's hashing rules", () => {
  it.each([
    ['length(8)', undefined, undefined],
    ['hashAlgorithm(pbkdf2-sha256) and hashIterations(27500)', 'pbkdf2-sha256', 27_500],
    // Keycloak's defaults: argon2 for the algorithm, -1 ("the algorithm's own") for the iterations.
    ['hashAlgorithm and hashIterations', 'argon2', undefined],
    ['hashAlgorithm(bcrypt) and hashIterations(-1)', 'bcrypt', undefined],
  ])('reads %j as algorithm %j with iterations %j', (source, algorithm, iterations) => {
    expect(parsePasswordPolicy(source).hashing).toEqual({ algorithm, iterations });
  });

  it('says how passwords are stored, never what they may be: not checked, not described', () => {
    const policy = parsePasswordPolicy('length(8) and hashAlgorithm(argon2) and hashIterations(3)');
    expect(policy.source).toBe('length(8) and hashAlgorithm(argon2) and hashIterations(3)');
    expect(policy.check('long enough', { username: 'alice', email: undefined })).toEqual([]);
    expect(policy.describe()).toEqual([{ policy: 'length', parameter: 8, message: 'The password must have at least 8 characters.' }]);
  });
});

describe('the rules that need more than the password', () => {
  const alice = { username: 'alice', email: 'alice@example.com' };

  it("reads Keycloak's admin-console quirk notUsername(undefined) as the flag", () => {
    const policy = parsePasswordPolicy('length(8) and notUsername(undefined) and notEmail()');
    expect(policy.source).toBe('length(8) and notUsername and notEmail');
    expect(policy.check('alice', alice).map((v) => v.policy)).toEqual(['length', 'notUsername']);
  });

  it.each([
    ['passwordAge', 365, 0],
    ['passwordAge(30) and forceExpiredPasswordChange(90)', 30, 90],
    ['forceExpiredPasswordChange', 0, 365],
  ])('reads %j as reuse in %i days and expiry after %i days, which check() leaves to others', (source, reuseDays, expiresAfterDays) => {
    const policy = parsePasswordPolicy(source);
    expect([policy.reuseDays, policy.expiresAfterDays]).toEqual([reuseDays, expiresAfterDays]);
    expect(policy.check('anything at all', alice)).toEqual([]);
  });

  it('counts a password as expired from the day it was set, at exactly the given number of days', () => {
    const setAt = new Date('2026-01-01T00:00:00Z');
    expect(passwordExpired(setAt, 90, new Date('2026-03-31T23:59:59Z'))).toBe(false);
    expect(passwordExpired(setAt, 90, new Date('2026-04-01T00:00:00Z'))).toBe(true);
    expect(passwordExpired(setAt, 0, new Date('2099-01-01T00:00:00Z'))).toBe(false);
  });

  it('passwordBlacklist(file): refuses every line of the file, case-insensitively and after NFKC, and nothing else', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'policy-')), 'forbidden.txt');
    writeFileSync(file, 'Summer2026\r\nacme-corp\n\n  caf\u0065\u0301-latte  \n');
    const policy = parsePasswordPolicy(`passwordBlacklist(${file})`);
    const broken = (password: string): string[] => policy.check(password, alice).map((v) => v.policy);
    expect(broken('summer2026')).toEqual(['passwordBlacklist']);
    expect(broken('ACME-CORP')).toEqual(['passwordBlacklist']);
    expect(broken('caf\u00e9-latte')).toEqual(['passwordBlacklist']);
    expect(broken('summer2027')).toEqual([]);
    expect(broken('')).toEqual([]);
    expect(policy.describe()).toEqual([{ policy: 'passwordBlacklist', parameter: file, message: 'The password must not be on the list of forbidden passwords.' }]);
  });

  it.each([
    ['password', true],
    ['P@ssw0rd', true], // compared case-insensitively
    ['Passw0rd!2', false], // a variant, not on the list: minStrength is what catches these
    ['Qwerty123', true],
    ['trustno1', true],
    ['violet stapler gravel', false],
  ])('notCompromised: %j is on the offline list: %s', (password, listed) => {
    const broken = parsePasswordPolicy('notCompromised').check(password, alice).map((v) => v.policy);
    expect(broken).toEqual(listed ? ['notCompromised'] : []);
  });

  it.each([
    ['minStrength(3)', 'Passw0rd!2', true],
    ['minStrength(3)', 'alice2026', true], // the username makes it guessable
    ['minStrength(3)', 'violet stapler gravel', false],
    ['minStrength(1)', 'Passw0rd!2', false],
    ['minStrength(2)', 'Passw0rd!2', true],
    ['minStrength(0)', 'a', false],
    ['minStrength(4)', 'hT7$qv!29xLm#e', false],
  ])('%s: %j is too weak: %s', (source, password, weak) => {
    const violations = parsePasswordPolicy(source).check(password, alice);
    expect(violations.map((v) => v.policy)).toEqual(weak ? ['minStrength'] : []);
  });

  it('reports a weak, common, short password against every rule it breaks at once', () => {
    const policy = parsePasswordPolicy('length(12) and notCompromised and minStrength(3) and digits');
    expect(policy.check('iloveyou', alice)).toEqual([
      { policy: 'length', parameter: 12, message: 'The password must have at least 12 characters.' },
      { policy: 'notCompromised', message: 'The password must not be a common or breached password.' },
      { policy: 'minStrength', parameter: 3, message: 'The password must be harder to guess (a strength of at least 3 out of 4).' },
      { policy: 'digits', parameter: 1, message: 'The password must contain at least 1 digit.' },
    ]);
  });
});
