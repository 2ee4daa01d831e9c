import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Express } from 'express';
import request from 'supertest';
import { contractChecks, takeContractFailures } from '../helpers/contract-hook';
import { startTestService } from '../helpers/setup';
import type { TestService } from '../helpers/setup';

/**
 * The suite-wide contract check (contract-hook.ts) itself: it sees the
 * answers of every client, fails on what openapi.yaml does not describe, and
 * leaves other servers' answers alone.
 */
let service: TestService;
beforeAll(async () => {
  service = await startTestService('contract-hook');
});
afterAll(async () => service.close());

/** An app that answers like the service would not: marked as ours, outside the contract. */
function rogue(): Express {
  const app = express();
  app.get('/healthz', (_req, res) => {
    res.set('X-Request-Id', 'rogue-1').status(418).json({ status: 'teapot' });
  });
  app.get('/nowhere', (_req, res) => {
    res.set('X-Request-Id', 'rogue-2').json({ here: true });
  });
  app.get('/realms/alpha/password-resources/password-policy', (_req, res) => {
    res.status(200).json({ policy: 42 });
  });
  app.get('/hello', (_req, res) => {
    res.json({ host: 'hello' });
  });
  return app;
}

async function listening(app: Express): Promise<{ base: string; close: () => Promise<void> }> {
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => { server.close(() => { resolve(); }); }),
  };
}

describe('the contract check of every response', () => {
  it('holds the service answers a test receives against openapi.yaml, error paths and preflights included', async () => {
    const before = contractChecks.count;
    await request(service.app).get('/healthz');
    await request(service.app).post('/realms/alpha/password-resources/validate-password').send({ password: 'x' });
    await request(service.app).options('/realms/alpha/password-resources/validate-password');
    await request(service.app).get('/no/such/path');
    expect(contractChecks.count - before).toBe(4);
    expect(takeContractFailures()).toEqual([]);
  });

  it('fails on an undocumented status, a body outside its schema, and a marked answer on no route of the contract', async () => {
    const app = rogue();
    await request(app).get('/healthz');
    await request(app).get('/realms/alpha/password-resources/password-policy');
    await request(app).get('/nowhere');
    const failures = takeContractFailures();
    expect(failures).toEqual([
      expect.stringContaining('GET /healthz -> 418: status 418 is not documented'),
      expect.stringContaining('GET /realms/alpha/password-resources/password-policy -> 200'),
      expect.stringContaining('GET /nowhere -> 200: the path is not in openapi.yaml, yet the answer is not 404'),
    ]);
  });

  it('sees the path of a router mounted under a prefix as the contract does', async () => {
    const host = express();
    host.use('/gateway', service.resources.router);
    const res = await request(host).post('/gateway/realms/alpha/password-resources/validate-password').send({ password: 'x' });
    expect(res.status).toBe(401);
    expect(takeContractFailures()).toEqual([]);
  });

  it("leaves a host's own routes and another server's answers alone", async () => {
    const before = contractChecks.count;
    expect((await request(rogue()).get('/hello')).status).toBe(200);
    const foreign = express();
    // Keycloak's admin API has our paths; its answers are not ours to check.
    foreign.get('/admin/realms/alpha/users', (_req, res) => {
      res.status(299).json({ keycloak: true });
    });
    const outside = await listening(foreign);
    try {
      expect((await request(outside.base).get('/admin/realms/alpha/users')).status).toBe(299);
      expect((await fetch(`${outside.base}/admin/realms/alpha/users`)).status).toBe(299);
    } finally {
      await outside.close();
    }
    expect(contractChecks.count).toBe(before);
    expect(takeContractFailures()).toEqual([]);
  });

  it('checks what fetch receives from a server the test started, and fails on what is outside the contract', async () => {
    const ours = await listening(service.app);
    const bad = await listening(rogue());
    try {
      const before = contractChecks.count;
      expect((await fetch(`${ours.base}/healthz`)).status).toBe(200);
      const teapot = await fetch(`${bad.base}/healthz`);
      expect(await teapot.json()).toEqual({ status: 'teapot' });
      // The check reads its own copy of the body, after the test's answer: wait for it here.
      for (let i = 0; i < 100 && contractChecks.count - before < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(contractChecks.count - before).toBe(2);
      expect(takeContractFailures()).toEqual([expect.stringContaining('GET /healthz -> 418: status 418 is not documented')]);
    } finally {
      await ours.close();
      await bad.close();
    }
  });
});
