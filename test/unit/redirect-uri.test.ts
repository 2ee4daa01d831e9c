import { normalizeRedirectUri, redirectAllowed } from '../../src/config/email-options';
import { InvalidRequestError } from '../../src/errors';

describe('normalizeRedirectUri', () => {
  it.each([
    ['HTTPS://App.Example/cb', 'https://app.example/cb'],
    ['https://app.example:443/cb', 'https://app.example/cb'],
    ['http://app.example:80/cb', 'http://app.example/cb'],
    ['https://app.example:8443/cb', 'https://app.example:8443/cb'],
    ['https://app.example', 'https://app.example/'],
    ['https://app.example/cb/../admin', 'https://app.example/admin'],
    ['https://app.example/cb/./x', 'https://app.example/cb/x'],
    ['https://app.example/cb/%2e%2e/admin', 'https://app.example/admin'],
    ['https://app.example/cb/%2E./admin', 'https://app.example/admin'],
    ['https://app.example/%7Euser/%41', 'https://app.example/~user/A'],
    ['https://app.example/a%2fb?q=%c3%a9', 'https://app.example/a%2Fb?q=%C3%A9'],
    ['https://app.example./cb', 'https://app.example./cb'],
  ])('reads %s as %s', (uri, expected) => {
    expect(normalizeRedirectUri(uri)).toBe(expected);
  });

  it.each([
    ['https://user@app.example/', 'carries user-info'],
    ['https://user:pw@app.example/', 'carries user-info'],
    ['https://@app.example/', 'carries user-info'],
    ['https://app.example\\@evil.example/', 'backslash'],
    ['https://app.example/#x', 'fragment'],
    ['https://app.example/#', 'fragment'],
    [' https://app.example/', 'control characters'],
    ['https://app.example/\n', 'control characters'],
    ['javascript:alert(1)', 'is not an http(s) URL'],
    ['/relative', 'is not an absolute URL'],
  ])('refuses %s (%s)', (uri, why) => {
    expect(() => normalizeRedirectUri(uri)).toThrow(InvalidRequestError);
    expect(() => normalizeRedirectUri(uri)).toThrow(why);
  });
});

describe('redirectAllowed', () => {
  const allowed = ['https://app.example/cb/*', 'https://app.example/exact'];
  it.each([
    ['https://app.example/cb/x', 'https://app.example/cb/x'],
    ['https://APP.example:443/cb/a/../b', 'https://app.example/cb/b'],
    ['https://app.example/exact', 'https://app.example/exact'],
    ['https://app.example/cb/../admin', undefined],
    ['https://app.example/exact/more', undefined],
    ['https://app.example:444/cb/x', undefined],
    ['https://app.example.evil.example/cb/x', undefined],
  ])('answers %s with %s', (uri, expected) => {
    expect(redirectAllowed(uri, allowed)).toBe(expected);
  });

  it('keeps a host-only prefix on its host', () => {
    expect(redirectAllowed('https://app.example.evil.example/', ['https://app.example/*'])).toBeUndefined();
  });
});
