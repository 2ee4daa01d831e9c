import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import express from 'express';
import pino from 'pino';
import request from 'supertest';
import { createPasswordResources } from '../../src/index';
import { CONSOLE_DIR, consoleRouter } from '../../src/http/console-routes';
import { resolveOptions } from '../../src/options';
import { call, expectError } from '../helpers/api';
import { testDatabaseUri } from '../helpers/db';
import { TestIssuer } from '../helpers/issuer';
import { RELAXED_BRUTE_FORCE, startTestService } from '../helpers/setup';
import type { TestService } from '../helpers/setup';

/**
 * The admin console as the service serves it: the built page per realm with
 * its strict CSP, its settings, its hashed files cached for good, and 404s
 * for what is not a console.
 */
let idp: TestIssuer;
let service: TestService;

beforeAll(async () => {
  idp = await TestIssuer.start();
  service = await startTestService(
    'console',
    {
      realms: {
        alpha: { issuer: idp.issuerOf('alpha'), bruteForce: RELAXED_BRUTE_FORCE, console: { clientId: 'password-resources-console' } },
        // No console.
        beta: { issuer: idp.issuerOf('beta'), bruteForce: RELAXED_BRUTE_FORCE },
        // Its administrators sign in at master, as Keycloak's own admin console does; realm roles named its own way.
        gamma: { issuer: idp.issuerOf('gamma'), console: { clientId: 'console', issuer: idp.issuerOf('master'), scope: 'openid email' }, adminRoles: { view: 'user-viewer' } },
      },
    },
    idp,
  );
});
afterAll(async () => {
  await service.close();
  await idp.stop();
});

/** The hashed files the built page names. */
function assetsOf(html: string): string[] {
  return [...html.matchAll(/(?:src|href)="\.\/assets\/([^"]+)"/g)].map((match) => match[1] ?? '');
}

describe('the console page', () => {
  it('is the built page with a strict CSP: own scripts and styles only, calls to itself and the identity provider', async () => {
    const res = await call(service.app, 'get', '/admin/console/alpha/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toBe(readFileSync(join(CONSOLE_DIR, 'index.html'), 'utf8'));
    expect(res.headers['content-security-policy']).toBe(
      `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self' ${new URL(idp.baseUrl).origin}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
    );
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('has no inline script or style for the CSP to refuse', async () => {
    const { text } = await call(service.app, 'get', '/admin/console/alpha/');
    const scripts = [...text.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [tag, body] of scripts) {
      expect(tag).toMatch(/ src="\.\/assets\//);
      expect(body).toBe('');
    }
    expect(text).not.toMatch(/<style\b| style=/);
    expect(assetsOf(text).some((name) => name.endsWith('.css'))).toBe(true);
  });

  it('answers a request the browser has a fresh copy of with 304', async () => {
    const first = await call(service.app, 'get', '/admin/console/alpha/');
    const again = await call(service.app, 'get', '/admin/console/alpha/', { headers: { 'If-None-Match': String(first.headers.etag) } });
    expect(again.status).toBe(304);
  });

  it('redirects the address without its trailing slash to it, relatively, so the page\'s relative addresses hold', async () => {
    const res = await call(service.app, 'get', '/admin/console/alpha');
    expect(res.status).toBe(308);
    expect(res.headers.location).toBe('alpha/');
    const list = await call(service.app, 'get', '/admin/console');
    expect(list.status).toBe(308);
    expect(list.headers.location).toBe('console/');
  });

  it('is served under a host\'s prefix too', async () => {
    const host = express();
    host.use('/gateway', service.resources.router);
    const page = await request(host).get('/gateway/admin/console/gamma/');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain(`connect-src 'self' ${new URL(idp.baseUrl).origin};`);
    const redirect = await request(host).get('/gateway/admin/console/gamma?x=1');
    expect(redirect.status).toBe(308);
    expect(redirect.headers.location).toBe('gamma/?x=1');
  });

  it.each([
    ['a realm not served here', 'nope'],
    ['a realm without a console', 'beta'],
  ])('is 404 realm_not_found for %s', async (_case, realm) => {
    for (const path of [`/admin/console/${realm}/`, `/admin/console/${realm}/config.json`, `/admin/console/${realm}/assets/index.js`]) {
      expectError(await call(service.app, 'get', path), 404, 'realm_not_found');
    }
  });
});

describe('the console\'s files', () => {
  it('are cached for good under their hashed names, with their types', async () => {
    const { text } = await call(service.app, 'get', '/admin/console/alpha/');
    for (const name of assetsOf(text)) {
      const res = await call(service.app, 'get', `/admin/console/alpha/assets/${name}`);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(res.headers['content-type']).toMatch(name.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
    }
  });

  it('weigh what an administrator\'s browser can load at once: under 200 kB compressed in all', async () => {
    const { text } = await call(service.app, 'get', '/admin/console/alpha/');
    let compressed = 0;
    for (const name of assetsOf(text)) {
      const res = await call(service.app, 'get', `/admin/console/alpha/assets/${name}`);
      compressed += gzipSync(res.text).length;
    }
    expect(compressed).toBeGreaterThan(10_000);
    expect(compressed).toBeLessThan(200_000);
  });

  it('are 404 for a name that is not a file of the build, or outside it', async () => {
    expectError(await call(service.app, 'get', '/admin/console/alpha/assets/missing-0000.js'), 404, 'not_found');
    expectError(await call(service.app, 'get', '/admin/console/alpha/assets/..%2Findex.html'), 404, 'not_found');
    expectError(await call(service.app, 'get', '/admin/console/alpha/index.html'), 404, 'not_found');
  });
});

describe('config.json', () => {
  it('tells the page where to sign in and where the rights are in the token', async () => {
    const res = await call(service.app, 'get', '/admin/console/alpha/config.json');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.body).toEqual({
      realm: 'alpha',
      issuer: idp.issuerOf('alpha'),
      clientId: 'password-resources-console',
      scope: 'openid',
      roleClient: 'realm-management',
      adminRoles: { view: 'view-users', manage: 'manage-users', viewEvents: 'view-events', manageRealm: 'manage-realm', viewRealm: 'view-realm' },
    });
  });

  it('names the admin realm when administrators sign in there, and their rights\' client in it', async () => {
    const res = await call(service.app, 'get', '/admin/console/gamma/config.json');
    expect(res.body).toEqual({
      realm: 'gamma',
      issuer: idp.issuerOf('master'),
      clientId: 'console',
      scope: 'openid email',
      adminRealm: 'master',
      roleClient: 'gamma-realm',
      adminRoles: { view: 'user-viewer', manage: 'manage-users', viewEvents: 'view-events', manageRealm: 'manage-realm', viewRealm: 'view-realm' },
    });
  });
});

describe('the list of consoles', () => {
  it('links to each realm that has a console, and no other', async () => {
    const res = await call(service.app, 'get', '/admin/console/');
    expect(res.status).toBe(200);
    expect(res.headers['content-security-policy']).toBe("default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    expect([...res.text.matchAll(/href="([^"]+)"/g)].map((match) => match[1])).toEqual(['alpha/', 'gamma/']);
  });

  it('is the host\'s 404 when no realm has a console', async () => {
    const plain = await startTestService('console-none', {}, idp);
    try {
      expectError(await call(plain.app, 'get', '/admin/console/'), 404, 'not_found');
      expectError(await call(plain.app, 'get', '/admin/console/alpha/'), 404, 'not_found');
    } finally {
      await plain.close();
    }
  });
});

describe('start-up checks', () => {
  const realm = (console: unknown): Parameters<typeof createPasswordResources>[0] => ({
    mongodbUri: testDatabaseUri('console-options'),
    logger: pino({ level: 'silent' }),
    realms: { alpha: { issuer: 'https://idp.example/realms/alpha', console: console as { clientId: string } } },
  });

  it.each([
    [{}, /^options\.realms\.alpha\.console\.clientId: must be the console's client id/],
    [{ clientId: 'a b' }, /^options\.realms\.alpha\.console\.clientId: /],
    [{ clientId: 'console', issuer: 'https://other.example/realms/alpha' }, /^options\.realms\.alpha\.console\.issuer: must be an issuer whose tokens the realm's admin API takes, "https:\/\/idp\.example\/realms\/alpha" or "https:\/\/idp\.example\/realms\/master", got "https:\/\/other\.example\/realms\/alpha"$/],
    [{ clientId: 'console', issuer: 'not a url' }, /^options\.realms\.alpha\.console\.issuer: must be an absolute http\(s\) URL/],
    [{ clientId: 'console', scope: 'email' }, /^options\.realms\.alpha\.console\.scope: must be space-separated scopes including "openid", got "email"$/],
    [{ clientId: 'console', secret: 'x' }, /^options\.realms\.alpha\.console: unknown option "secret"$/],
    ['console', /^options\.realms\.alpha\.console: must be an object/],
  ])('refuses console %j naming the setting', (console, message) => {
    expect(() => createPasswordResources(realm(console))).toThrow(message);
  });

  it('refuses a console whose build is missing, naming the command that makes it', () => {
    const empty = mkdtempSync(join(tmpdir(), 'console-build-'));
    try {
      const resolved = resolveOptions(realm({ clientId: 'console' }));
      expect(() => consoleRouter(resolved.realms, (_error, _req, _res, next) => { next(); }, empty)).toThrow(/^options\.realms\.alpha\.console: the console is not built \(.*index\.html: ENOENT\); run npm run build$/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
