import { DEFAULT_PASSWORD_POLICY, parsePasswordPolicy, PolicySyntaxError } from '../../src/domain/policy';

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
    ['length(-1)', /the parameter must be an integer from 0 to 4096/],
    ['length(1.5)', /the parameter must be an integer/],
    ['length(12) and length(10)', /policy "length" is given twice/],
    ['length(12) or maxLength(20)', /is not a policy term/],
    ['length(20) and maxLength(10)', /length\(20\) is more than maxLength\(10\)/],
  ])('refuses %j, saying what is wrong', (source, message) => {
    expect(() => parsePasswordPolicy(source)).toThrow(PolicySyntaxError);
    expect(() => parsePasswordPolicy(source)).toThrow(message);
  });

  it('has a NIST SP 800-63B default: at least 8, at least 64 allowed, no composition rules', () => {
    const policy = parsePasswordPolicy(DEFAULT_PASSWORD_POLICY);
    expect(policy.check('a'.repeat(8), context)).toEqual([]);
    expect(policy.check('a'.repeat(64), context)).toEqual([]);
    expect(policy.check('a'.repeat(7), context)).toHaveLength(1);
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
