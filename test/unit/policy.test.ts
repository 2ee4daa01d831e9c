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
    ['lenght(12)', /unknown policy "lenght"; known policies: length, maxLength/],
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
