import { bearerChallenge } from '../../src/http/www-authenticate';

describe('bearerChallenge', () => {
  it.each([
    [['alpha', {}], 'Bearer realm="alpha"'],
    [['alpha', { error: 'invalid_token', error_description: 'The token has expired.' }], 'Bearer realm="alpha", error="invalid_token", error_description="The token has expired."'],
    [['alpha', { error_description: 'say "hi" \\ bye' }], `Bearer realm="alpha", error_description="say 'hi' ' bye"`],
    [['alpha', { error_description: 'line\r\nInjected: yes' }], `Bearer realm="alpha", error_description="line''Injected: yes"`],
    [['alpha', { error_description: 'caf\u00e9' }], `Bearer realm="alpha", error_description="caf'"`],
  ] as const)('builds %j as %s', ([realm, parameters], expected) => {
    expect(bearerChallenge(realm, parameters)).toBe(expected);
  });
});
