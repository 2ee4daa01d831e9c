import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import type { Express } from 'express';
import { base64url, exportJWK, exportSPKI, generateKeyPair, importJWK, SignJWT } from 'jose';
import type { JWK, JWTPayload, KeyLike } from 'jose';
import type { Response } from 'supertest';
import pino from 'pino';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config/env';
import { createPasswordResources, OptionsError } from '../../src/index';
import type { PasswordResourcesOptions } from '../../src/index';
import { call, expectError } from '../helpers/api';
import type { CallOptions } from '../helpers/api';
import { testDatabaseUri } from '../helpers/db';
import { TestIssuer } from '../helpers/issuer';
import { RELAXED_HASH_QUEUE, startTestService, TEST_BCRYPT_COST } from '../helpers/setup';
import type { HashCounts, TestService } from '../helpers/setup';

const PATH = '/realms/alpha/password-resources/validate-password';
const PASSWORD = 'correct horse battery staple';
const AUDIENCE = 'password-resources';

let service: TestService;
let issuer: TestIssuer;
/** A user of realm alpha, and a user of realm beta with the same subject. */
let alice: { id: string; token: string };
/** Another user of alpha, whose identity a tampered token tries to take. */
let dave: { id: string; token: string };
/** A user of realm beta only. */
let bob: { id: string; token: string };
/** Services and issuers started by single tests, closed in `afterAll`. */
const extraServices: TestService[] = [];
const extraIssuers: TestIssuer[] = [];

beforeAll(async () => {
  service = await startTestService('token');
  issuer = service.issuer;
  alice = await service.createUser('alice', PASSWORD);
  await service.resources.accounts.createUser({ realm: 'beta', id: alice.id, username: 'alice', password: PASSWORD });
  dave = await service.createUser('dave', PASSWORD);
  bob = await service.createUser('bob', PASSWORD, 'beta');
});

afterAll(async () => {
  for (const extra of extraServices) await extra.close();
  for (const idp of extraIssuers) await idp.stop();
  await service.close();
});

const now = (): number => Math.floor(Date.now() / 1000);

/** The claims of a good access token of `realm` for `sub`. */
function claimsOf(sub: string, realm = 'alpha'): JWTPayload {
  const iat = now();
  return { iss: issuer.issuerOf(realm), sub, iat, exp: iat + 300, typ: 'Bearer' };
}

const encodeJson = (value: unknown): string => base64url.encode(JSON.stringify(value));

/** Sign `claims` as given (no defaults added), with any header. */
async function signRaw(claims: JWTPayload, header: Record<string, unknown>, key: KeyLike | Uint8Array): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', ...header }).sign(key);
}

interface Outcome {
  readonly res: Response;
  /** The real bcrypt work done while the request ran. */
  readonly work: HashCounts;
}

/** Validate alice's password at realm alpha (unless told otherwise), counting the password work it caused. */
async function post(options: CallOptions & { path?: string }, on: TestService = service, app: Express = on.app): Promise<Outcome> {
  const before = { ...on.counts };
  const res = await call(app, 'post', options.path ?? PATH, { body: { password: PASSWORD }, ...options });
  return { res, work: { verify: on.counts.verify - before.verify, hash: on.counts.hash - before.hash } };
}

/** RFC 7235 / RFC 6750 challenge: `Bearer` then comma-separated quoted parameters of RFC 6750's characters only. */
const CHALLENGE = /^Bearer [a-z_]+="[\x20\x21\x23-\x5B\x5D-\x7E]*"(?:, [a-z_]+="[\x20\x21\x23-\x5B\x5D-\x7E]*")*$/;

function challengeOf(res: Response): Record<string, string> {
  const header: unknown = res.headers['www-authenticate'];
  if (typeof header !== 'string') throw new Error(`no WWW-Authenticate header: ${JSON.stringify(header)}`);
  expect(header).toMatch(CHALLENGE);
  const parameters: Record<string, string> = {};
  for (const [, name, value] of header.matchAll(/([a-z_]+)="([^"]*)"/g)) {
    if (name === undefined || value === undefined) continue;
    expect(parameters).not.toHaveProperty(name);
    parameters[name] = value;
  }
  return parameters;
}

/** Nothing of the token comes back: not the token, not any of its parts. */
function expectNoEcho(res: Response, token: string): void {
  const header: unknown = res.headers['www-authenticate'];
  const sent = `${res.text}\n${typeof header === 'string' ? header : ''}`;
  expect(sent).not.toContain(token);
  for (const part of token.split('.').filter((p) => p.length >= 8)) expect(sent).not.toContain(part);
}

/** 401 invalid_token with the right challenge, no password work, nothing of the token echoed. */
function expectRefused({ res, work }: Outcome, token: string | undefined, challenge: 'bare' | 'error' = 'error'): void {
  expectError(res, 401, 'invalid_token', challenge);
  const parameters = challengeOf(res);
  expect(parameters.realm).toBe('alpha');
  if (challenge === 'error') {
    expect(parameters.error).toBe('invalid_token');
    expect(parameters.error_description).toMatch(/\S/);
  } else {
    expect(Object.keys(parameters)).toEqual(['realm']);
  }
  expect(work).toEqual({ verify: 0, hash: 0 });
  if (token !== undefined) expectNoEcho(res, token);
}

function expectAccepted({ res, work }: Outcome): void {
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ valid: true });
  expect(work.verify).toBe(1);
}

/** A service of its own, on an IdP of its own, so key set state is not shared with other tests. */
async function isolated(
  label: string,
  jwks: PasswordResourcesOptions['jwks'] = {},
): Promise<{ svc: TestService; idp: TestIssuer; user: { id: string; token: string } }> {
  const idp = await TestIssuer.start();
  extraIssuers.push(idp);
  const svc = await startTestService(label, { jwks }, idp);
  extraServices.push(svc);
  return { svc, idp, user: await svc.createUser('erin', PASSWORD) };
}

describe('bearer token verification', () => {
  it('accepts a well-formed access token of the realm (the baseline every refusal below differs from)', async () => {
    expectAccepted(await post({ token: alice.token }));
  });

  describe('algorithms', () => {
    it.each(['none', 'NONE', 'None'])('refuses an unsigned token with alg "%s"', async (alg) => {
      const token = `${encodeJson({ alg, typ: 'JWT', kid: issuer.currentKid })}.${encodeJson(claimsOf(alice.id))}.`;
      expectRefused(await post({ token }), token);
    });

    it.each([
      ['the public JWK\'s "n"', (): Promise<Uint8Array> => Promise.resolve(new TextEncoder().encode(issuer.currentPublicJwk.n ?? ''))],
      ['the public JWK as JSON', (): Promise<Uint8Array> => Promise.resolve(new TextEncoder().encode(JSON.stringify(issuer.currentPublicJwk)))],
      ['the SPKI PEM of the public key', async (): Promise<Uint8Array> => {
        const publicKey = await importJWK(issuer.currentPublicJwk, 'RS256');
        if (publicKey instanceof Uint8Array) throw new Error('expected an asymmetric key');
        return new TextEncoder().encode(await exportSPKI(publicKey));
      }],
    ])('refuses an HS256 token whose HMAC secret is %s (algorithm confusion)', async (_name, secretOf) => {
      const token = await signRaw(claimsOf(alice.id), { alg: 'HS256', kid: issuer.currentKid }, await secretOf());
      expectRefused(await post({ token }), token);
    });
  });

  describe('signature and integrity', () => {
    it('refuses a token whose signature was altered', async () => {
      const [header = '', payload = '', signature = ''] = alice.token.split('.');
      const bytes = base64url.decode(signature);
      bytes[10] = (bytes[10] ?? 0) ^ 0x01;
      const token = `${header}.${payload}.${base64url.encode(bytes)}`;
      expect(token).not.toBe(alice.token);
      expectRefused(await post({ token }), token);
    });

    it('refuses a token whose payload was altered to name another user', async () => {
      const [header = '', payload = '', signature = ''] = alice.token.split('.');
      const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload))) as JWTPayload;
      const token = `${header}.${encodeJson({ ...claims, sub: dave.id })}.${signature}`;
      expectRefused(await post({ token }), token);
    });

    it('refuses a token signed by a key the realm does not publish, under an unknown kid', async () => {
      const { privateKey } = await generateKeyPair('RS256');
      const token = await signRaw(claimsOf(alice.id), { kid: 'attacker-key' }, privateKey);
      expectRefused(await post({ token }), token);
    });

    it('refuses a token signed by another key under the kid of the realm\'s key', async () => {
      const { privateKey } = await generateKeyPair('RS256');
      const token = await signRaw(claimsOf(alice.id), { kid: issuer.currentKid }, privateKey);
      expectRefused(await post({ token }), token);
    });

    it('refuses a malformed token without echoing it back', async () => {
      const token = 'eyJhbGciOiJSUzI1NiJ9.not"json\\at<all>.c2lnbmF0dXJl';
      const outcome = await post({ token });
      expectRefused(outcome, token);
      expect(outcome.res.text).not.toContain('not"json');
    });
  });

  describe('time claims', () => {
    it('refuses a token that expired beyond the 30 s clock tolerance', async () => {
      const token = await issuer.sign({ sub: alice.id }, { expiresIn: -60 });
      expectRefused(await post({ token }), token);
    });

    it('accepts a token that expired within the 30 s clock tolerance', async () => {
      expectAccepted(await post({ token: await issuer.sign({ sub: alice.id }, { expiresIn: -10 }) }));
    });

    it('refuses a token without exp', async () => {
      const token = await issuer.sign({ sub: alice.id }, { omitExp: true });
      expectRefused(await post({ token }), token);
    });

    it('refuses a token whose nbf is in the future beyond the clock tolerance', async () => {
      const token = await issuer.sign({ sub: alice.id, nbf: now() + 120 });
      expectRefused(await post({ token }), token);
    });

    it('refuses a token whose iat is in the future beyond the clock tolerance', async () => {
      const token = await issuer.sign({ sub: alice.id, iat: now() + 120 });
      expectRefused(await post({ token }), token);
    });
  });

  describe('issuer, realm and subject', () => {
    it.each([
      ['of an unknown realm', (): string => issuer.issuerOf('gamma')],
      ['with a trailing slash', (): string => `${issuer.issuerOf('alpha')}/`],
      ['with another host name for the same server', (): string => issuer.issuerOf('alpha').replace('127.0.0.1', 'localhost')],
      ['differing in case', (): string => issuer.issuerOf('Alpha')],
    ])('refuses a token whose issuer is %s', async (_name, issOf) => {
      const token = await signRaw({ ...claimsOf(alice.id), iss: issOf() }, { kid: issuer.currentKid }, issuer.currentPrivateKey);
      expectRefused(await post({ token }), token);
    });

    it('refuses at realm alpha a token of realm beta for the same subject', async () => {
      const token = await issuer.sign({ sub: alice.id }, { realm: 'beta' });
      // The same token is good at beta, where its subject is a user.
      expectAccepted(await post({ token, path: '/realms/beta/password-resources/validate-password' }));
      expectRefused(await post({ token }), token);
    });

    it('refuses a token whose subject is not a user of the realm', async () => {
      const token = await issuer.sign({ sub: randomUUID() });
      expectRefused(await post({ token }), token);
    });

    it('refuses at realm alpha an alpha token whose subject is a user of realm beta only', async () => {
      const token = await issuer.sign({ sub: bob.id });
      expectRefused(await post({ token }), token);
    });

    it('refuses a token without sub', async () => {
      const token = await issuer.sign({});
      expectRefused(await post({ token }), token);
    });
  });

  describe('token types (RFC 8725 section 3.11, RFC 9068)', () => {
    /** The error_description of a refusal: names the reason in our words, never the JOSE library's. */
    function descriptionOf(outcome: Outcome): string {
      const description = (outcome.res.body as { error_description: string }).error_description;
      expect(description).not.toMatch(/JWT|JWS|JOSE|claim validation|unexpected "typ"/);
      return description;
    }

    it.each(['at+jwt', 'application/at+jwt', 'AT+JWT'])('accepts an RFC 9068 access token typed "%s" in its header', async (typ) => {
      expectAccepted(await post({ token: await issuer.sign({ sub: alice.id, typ: undefined }, { header: { typ } }) }));
    });

    it('accepts an at+jwt token that also carries Keycloak\'s typ claim "Bearer"', async () => {
      expectAccepted(await post({ token: await issuer.sign({ sub: alice.id }, { header: { typ: 'at+jwt' } }) }));
    });

    it.each([
      ['JWT', 'Bearer'],
      ['JWT', 'bearer'],
      ['application/jwt', 'Bearer'],
    ])('accepts a Keycloak access token: header typ %s, typ claim "%s"', async (header, typ) => {
      expectAccepted(await post({ token: await issuer.sign({ sub: alice.id, typ }, { header: { typ: header } }) }));
    });

    it('accepts a Keycloak-style access token whose header has no typ (a JWT by default)', async () => {
      expectAccepted(await post({ token: await issuer.sign({ sub: alice.id }, { header: { typ: undefined } }) }));
    });

    it('refuses an ID token (typ claim "ID"), saying it is an ID token', async () => {
      const token = await issuer.sign({ sub: alice.id, typ: 'ID', aud: 'account-console' });
      const outcome = await post({ token });
      expectRefused(outcome, token);
      expect(descriptionOf(outcome)).toBe('The token is not an access token: it is an ID token.');
    });

    it.each(['Refresh', 'Offline', 'Logout'])('refuses a Keycloak token whose typ claim is "%s"', async (typ) => {
      const token = await issuer.sign({ sub: alice.id, typ });
      const outcome = await post({ token });
      expectRefused(outcome, token);
      expect(descriptionOf(outcome)).toContain(`typed "${typ}"`);
    });

    it.each(['dpop+jwt', 'logout+jwt', 'secevent+jwt'])('refuses a token whose header typ is "%s", even with typ claim "Bearer"', async (typ) => {
      const token = await issuer.sign({ sub: alice.id }, { header: { typ } });
      const outcome = await post({ token });
      expectRefused(outcome, token);
      expect(descriptionOf(outcome)).toBe(`The token is not an access token: its header type is "${typ}"; expected "at+jwt".`);
    });

    it('refuses an at+jwt token whose typ claim names another kind', async () => {
      const token = await issuer.sign({ sub: alice.id, typ: 'ID' }, { header: { typ: 'at+jwt' } });
      expectRefused(await post({ token }), token);
    });

    it.each<[string, Record<string, unknown>]>([
      ['typed plain JWT', { typ: 'JWT' }],
      ['with no type at all', { typ: undefined }],
    ])('refuses a token %s and no typ claim (what an ID token of many providers looks like)', async (_name, header) => {
      const token = await issuer.sign({ sub: alice.id, typ: undefined }, { header });
      const outcome = await post({ token });
      expectRefused(outcome, token);
      expect(descriptionOf(outcome)).toBe('The token is not typed as an access token: expected header type "at+jwt", or a "typ" claim of "Bearer".');
    });

    describe('a realm of a provider whose access tokens are plain JWTs (Auth0, Okta)', () => {
      let plain: TestService;
      let frank: { id: string; token: string };

      beforeAll(async () => {
        plain = await startTestService('token-plain', { realms: { alpha: { issuer: issuer.issuerOf('alpha'), audience: AUDIENCE, acceptPlainJwtAccessTokens: true } } }, issuer);
        extraServices.push(plain);
        frank = await plain.createUser('frank', PASSWORD);
      });

      it('accepts a plain JWT without typ claim that carries the audience', async () => {
        expectAccepted(await post({ token: await issuer.sign({ sub: frank.id, typ: undefined, aud: AUDIENCE }, { header: { typ: 'JWT' } }) }, plain));
      });

      it('refuses the plain JWT of an ID token, whose audience is the client', async () => {
        const token = await issuer.sign({ sub: frank.id, typ: undefined, aud: 'spa-client' }, { header: { typ: 'JWT' } });
        expectRefused(await post({ token }, plain), token);
      });

      it.each(['dpop+jwt', 'logout+jwt'])('still refuses a %s token carrying the audience', async (typ) => {
        const token = await issuer.sign({ sub: frank.id, typ: undefined, aud: AUDIENCE }, { header: { typ } });
        expectRefused(await post({ token }, plain), token);
      });

      it('refuses an ID token typed by its typ claim even with the audience', async () => {
        const token = await issuer.sign({ sub: frank.id, typ: 'ID', aud: AUDIENCE });
        expectRefused(await post({ token }, plain), token);
      });

      it("works as README's token section configures it: CONFIG_FILE's realm with audience and acceptPlainJwtAccessTokens", async () => {
        const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
        const section = readme.slice(readme.indexOf('### Which tokens are accepted'));
        const yaml = /```yaml\n([\s\S]*?)\n```/.exec(section)?.[1] ?? '';
        expect(yaml).toContain('acceptPlainJwtAccessTokens: true');
        // Only the provider's addresses change, to the test IdP's.
        const ours = yaml
          .replace(/issuer: \S+/, `issuer: ${issuer.issuerOf('shop')}`)
          .replace(/jwksUri: \S+/, `jwksUri: ${issuer.issuerOf('shop')}/protocol/openid-connect/certs`);
        const audience = /audience: (\S+)/.exec(ours)?.[1] ?? '';
        const configFile = join(mkdtempSync(join(tmpdir(), 'token-readme-')), 'realms.yaml');
        writeFileSync(configFile, ours);
        const config = loadConfig({ REALMS: 'shop', CONFIG_FILE: configFile });
        const resources = createPasswordResources({
          ...config.resources,
          mongodbUri: testDatabaseUri('token-readme'),
          bcryptCost: TEST_BCRYPT_COST,
          hashQueue: RELAXED_HASH_QUEUE,
          logger: pino({ level: 'silent' }),
        });
        try {
          await resources.ready();
          const app = createApp(resources, pino({ level: 'silent' }));
          const user = await resources.accounts.createUser({ realm: 'shop', username: 'gail', password: PASSWORD });
          const validate = '/realms/shop/password-resources/validate-password';
          const access = await issuer.sign({ sub: user.id, typ: undefined, aud: audience }, { realm: 'shop', header: { typ: 'JWT' } });
          expect((await call(app, 'post', validate, { token: access, body: { password: PASSWORD } })).body).toEqual({ valid: true });
          const idToken = await issuer.sign({ sub: user.id, typ: undefined, aud: 'shop-spa' }, { realm: 'shop', header: { typ: 'JWT' } });
          expectError(await call(app, 'post', validate, { token: idToken, body: { password: PASSWORD } }), 401, 'invalid_token', 'error');
        } finally {
          await resources.close();
        }
        // Without the audience, start-up stops and names the setting.
        writeFileSync(configFile, ours.replace(/^\s*audience: .*\n/m, ''));
        expect(() => createPasswordResources({ ...loadConfig({ REALMS: 'shop', CONFIG_FILE: configFile }).resources, mongodbUri: testDatabaseUri('token-readme') })).toThrow(
          /options\.realms\.shop\.acceptPlainJwtAccessTokens: needs options\.realms\.shop\.audience/,
        );
        rmSync(join(configFile, '..'), { recursive: true, force: true });
      });

      it('is refused at start-up without an audience', () => {
        expect(() => createPasswordResources({ mongodbUri: plain.uri, realms: { alpha: { issuer: issuer.issuerOf('alpha'), acceptPlainJwtAccessTokens: true } } })).toThrow(
          new OptionsError(
            "options.realms.alpha.acceptPlainJwtAccessTokens: needs options.realms.alpha.audience: an ID token is a plain JWT too, and only the audience (your API's identifier, e.g. Auth0's API audience) tells an access token from it",
          ),
        );
      });
    });
  });

  describe('keys named by the token itself', () => {
    it('refuses a token signed by the attacker\'s key and carrying that key as an embedded jwk', async () => {
      const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
      const jwk = await exportJWK(publicKey);
      const token = await signRaw(claimsOf(alice.id), { kid: issuer.currentKid, jwk }, privateKey);
      expectRefused(await post({ token }), token);
    });

    it('refuses a token whose jku points at an attacker\'s key set, without fetching it', async () => {
      const attacker = await TestIssuer.start();
      extraIssuers.push(attacker);
      const jku = `${attacker.issuerOf('alpha')}/protocol/openid-connect/certs`;
      const token = await signRaw(claimsOf(alice.id), { kid: attacker.currentKid, jku }, attacker.currentPrivateKey);
      expectRefused(await post({ token }), token);
      expect(attacker.jwksRequests).toBe(0);
    });

    it.each<[string, () => Promise<Record<string, unknown>>]>([
      ['jwk', () => Promise.resolve({ jwk: issuer.currentPublicJwk })],
      ['jku', () => Promise.resolve({ jku: `${issuer.issuerOf('alpha')}/protocol/openid-connect/certs` })],
      ['x5u', () => Promise.resolve({ x5u: 'https://attacker.example/cert.pem' })],
      ['x5c', async () => {
        // Any certificate-shaped value: its presence alone must be refused.
        const { publicKey } = await generateKeyPair('ES256', { extractable: true });
        return { x5c: [base64url.encode(JSON.stringify(await exportJWK(publicKey)))] };
      }],
    ])('refuses a token carrying a "%s" header even when signed by the realm\'s key', async (_name, extraHeader) => {
      const token = await issuer.sign({ sub: alice.id }, { header: await extraHeader() });
      expectRefused(await post({ token }), token);
    });
  });

  describe('audience', () => {
    let audService: TestService;
    let carol: { id: string; token: string };

    beforeAll(async () => {
      audService = await startTestService('token-aud', { realms: { alpha: { issuer: issuer.issuerOf('alpha'), audience: AUDIENCE } } }, issuer);
      extraServices.push(audService);
      carol = await audService.createUser('carol', PASSWORD);
    });

    it('refuses a token without aud when the realm requires an audience', async () => {
      expectRefused(await post({ token: carol.token }, audService), carol.token);
    });

    it.each<[string, string | string[]]>([
      ['another audience as a string', 'account'],
      ['other audiences as an array', ['account', 'broker']],
      ['the audience differing in case', 'Password-Resources'],
    ])('refuses a token whose aud is %s', async (_name, aud) => {
      const token = await issuer.sign({ sub: carol.id, aud });
      expectRefused(await post({ token }, audService), token);
    });

    it.each<[string, string | string[]]>([
      ['the audience as a string', AUDIENCE],
      ['an array containing the audience', ['account', AUDIENCE]],
    ])('accepts a token whose aud is %s', async (_name, aud) => {
      expectAccepted(await post({ token: await issuer.sign({ sub: carol.id, aud }) }, audService));
    });
  });

  describe('where the token is sent', () => {
    it('answers a request without Authorization header with the bare challenge', async () => {
      const outcome = await post({});
      expectRefused(outcome, undefined, 'bare');
      expect(outcome.res.headers['www-authenticate']).toBe('Bearer realm="alpha"');
    });

    it('ignores a token sent only in the query string: 401 with the bare challenge', async () => {
      const token = alice.token;
      expectRefused(await post({ path: `${PATH}?access_token=${token}` }), token, 'bare');
    });

    it('ignores a token sent only in the JSON body: 401 with the bare challenge', async () => {
      const token = alice.token;
      expectRefused(await post({ body: { password: PASSWORD, access_token: token } }), token, 'bare');
    });

    it('ignores a token sent only in the JSON body of a host that parsed JSON before the router: 401 bare', async () => {
      const host = express();
      host.use(express.json());
      host.use(service.resources.router);
      const token = alice.token;
      expectRefused(await post({ body: { password: PASSWORD, access_token: token } }, service, host), token, 'bare');
    });

    it('answers 400 invalid_request with its RFC 6750 challenge for a token in the header and also in the query', async () => {
      const { res, work } = await post({ token: alice.token, path: `${PATH}?access_token=${alice.token}` });
      expectError(res, 400, 'invalid_request', 'error');
      expect(challengeOf(res)).toEqual({
        realm: 'alpha',
        error: 'invalid_request',
        error_description: 'Send the token in the Authorization header only, not also in the query or body.',
      });
      expect(work).toEqual({ verify: 0, hash: 0 });
      expectNoEcho(res, alice.token);
    });

    it('answers 400 invalid_request for a token in the header and also in the JSON body', async () => {
      const { res, work } = await post({ token: alice.token, body: { password: PASSWORD, access_token: alice.token } });
      expectError(res, 400, 'invalid_request', 'error');
      expect(work).toEqual({ verify: 0, hash: 0 });
      expectNoEcho(res, alice.token);
    });

    it.each(['Bearer', 'Bearer a b', 'Bearer  token-after-two-spaces'])('answers 400 invalid_request with its challenge for the malformed header "%s"', async (authorization) => {
      const { res, work } = await post({ authorization });
      expectError(res, 400, 'invalid_request', 'error');
      expect(challengeOf(res)).toEqual({ realm: 'alpha', error: 'invalid_request', error_description: 'The Authorization header is malformed; expected Bearer, one space and the token.' });
      expect(work).toEqual({ verify: 0, hash: 0 });
    });

    it('answers a malformed header at the admin API with the same challenge', async () => {
      const res = await call(service.app, 'get', '/admin/realms/alpha/users', { authorization: 'Bearer a b' });
      expectError(res, 400, 'invalid_request', 'error');
      expect(challengeOf(res).error).toBe('invalid_request');
    });

    it('answers a malformed body with a good token with the invalid_request challenge too', async () => {
      const { res } = await post({ token: alice.token, body: { password: 5 } });
      expectError(res, 400, 'invalid_request', 'error');
      expect(res.body).toMatchObject({ error_description: 'Invalid request body: "password" must be a string.' });
      // RFC 6750 allows no double quote inside the quoted value: it becomes a single one.
      expect(challengeOf(res)).toEqual({ realm: 'alpha', error: 'invalid_request', error_description: "Invalid request body: 'password' must be a string." });
    });

    it('answers another scheme ("Basic") as no token: 401 with the bare challenge', async () => {
      const authorization = `Basic ${Buffer.from('alice:correct horse battery staple').toString('base64')}`;
      expectRefused(await post({ authorization }), undefined, 'bare');
    });

    it.each(['bearer', 'BEARER', 'BeArEr'])('accepts the scheme written "%s" (case-insensitive)', async (scheme) => {
      expectAccepted(await post({ authorization: `${scheme} ${alice.token}` }));
    });
  });

  describe('challenge', () => {
    it('builds a well-formed RFC 6750 challenge even when the description quotes a claim name', async () => {
      const token = await issuer.sign({ sub: alice.id }, { omitExp: true });
      const outcome = await post({ token });
      expectRefused(outcome, token);
      const parameters = challengeOf(outcome.res);
      expect(Object.keys(parameters)).toEqual(['realm', 'error', 'error_description']);
      const description = (outcome.res.body as { error_description: string }).error_description;
      expect(parameters.error_description).toHaveLength(description.length);
    });
  });
});

describe('the realm key set (JWKS)', () => {
  it('ignores a published key whose use is "enc": a token naming only that key is refused', async () => {
    const { svc, idp, user } = await isolated('token-enc', { cooldownMs: 0 });
    // An RSA key without "alg", so that only its "use" keeps it from verifying signatures.
    const { privateKey, publicKey } = await generateKeyPair('RSA-OAEP', { extractable: true });
    const { kty, n, e } = await exportJWK(publicKey);
    const encJwk: JWK = { kty, n, e, kid: 'enc-1', use: 'enc' };
    idp.extraJwks.push(encJwk);
    const token = await signRaw({ ...claimsOf(user.id), iss: idp.issuerOf('alpha') }, { kid: 'enc-1' }, privateKey);
    const outcome = await post({ token }, svc);
    expectRefused(outcome, token);
    expect(idp.jwksRequests).toBeGreaterThanOrEqual(1); // the set holding the enc key was fetched and read
    // The signing key published next to it still works.
    expectAccepted(await post({ token: user.token }, svc));
  });

  it('accepts a token signed with a newly rotated-in key without restart (cooldown 0)', async () => {
    const { svc, idp, user } = await isolated('token-rotate', { cooldownMs: 0 });
    expectAccepted(await post({ token: user.token }, svc));
    const fetched = idp.jwksRequests;
    const kid = await idp.addKey('ES256');
    const rotated = await idp.sign({ sub: user.id });
    expect(JSON.parse(new TextDecoder().decode(base64url.decode(rotated.split('.')[0] ?? ''))) as unknown).toMatchObject({ alg: 'ES256', kid });
    expectAccepted(await post({ token: rotated }, svc));
    expect(idp.jwksRequests).toBe(fetched + 1); // the unknown kid made the service fetch the set again
    expectAccepted(await post({ token: user.token }, svc)); // the older key is still published and cached
  });

  it('refuses a rotated-in key within jose\'s default 30 s cooldown after the last fetch, without refetching', async () => {
    const { svc, idp, user } = await isolated('token-cooldown');
    expectAccepted(await post({ token: user.token }, svc));
    const fetched = idp.jwksRequests;
    await idp.addKey('ES256');
    const rotated = await idp.sign({ sub: user.id });
    expectRefused(await post({ token: rotated }, svc), rotated);
    expect(idp.jwksRequests).toBe(fetched);
  });

  it('answers 503 temporarily_unavailable with Retry-After when the IdP answers errors before any key was fetched', async () => {
    const { svc, idp, user } = await isolated('token-idp-error');
    idp.mode = 'error';
    for (let attempt = 0; attempt < 2; attempt++) {
      const { res, work } = await post({ token: user.token }, svc);
      expectError(res, 503, 'temporarily_unavailable');
      expect(work).toEqual({ verify: 0, hash: 0 });
    }
    expect(idp.jwksRequests).toBe(2); // a failed fetch is not cached as "no key"
    idp.mode = 'up';
    expectAccepted(await post({ token: user.token }, svc));
  });

  it('answers 503 temporarily_unavailable with Retry-After when the IdP is unreachable before any key was fetched', async () => {
    const { svc, idp, user } = await isolated('token-idp-stopped');
    await idp.stop();
    const { res, work } = await post({ token: user.token }, svc);
    expectError(res, 503, 'temporarily_unavailable');
    expect(work).toEqual({ verify: 0, hash: 0 });
    expect(res.text).not.toContain(idp.baseUrl); // the private detail stays in the logs
  });

  it('answers 503 within the configured timeout when the IdP hangs', async () => {
    const { svc, idp, user } = await isolated('token-idp-hang', { timeoutMs: 500 });
    idp.mode = 'hang';
    const started = Date.now();
    const { res, work } = await post({ token: user.token }, svc);
    const elapsed = Date.now() - started;
    expectError(res, 503, 'temporarily_unavailable');
    expect(work).toEqual({ verify: 0, hash: 0 });
    expect(idp.jwksRequests).toBe(1);
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(3_000);
  });

  it('keeps accepting tokens with a cached key while the IdP is down', async () => {
    const { svc, idp, user } = await isolated('token-cached');
    expectAccepted(await post({ token: user.token }, svc));
    const fetched = idp.jwksRequests;
    idp.mode = 'error';
    expectAccepted(await post({ token: user.token }, svc));
    await idp.stop();
    expectAccepted(await post({ token: await idp.sign({ sub: user.id }) }, svc));
    expect(idp.jwksRequests).toBe(fetched);
  });
});
