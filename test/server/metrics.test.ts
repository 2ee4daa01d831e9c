import { call } from '../helpers/api';
import { TestIssuer } from '../helpers/issuer';
import { startTestService } from '../helpers/setup';
import type { TestService } from '../helpers/setup';

const VALIDATE = '/realms/alpha/password-resources/validate-password';
const PASSWORD = 'the right password';

let issuer: TestIssuer;
let service: TestService;
beforeAll(async () => {
  issuer = await TestIssuer.start();
  service = await startTestService(
    'metrics',
    {
      realms: {
        alpha: { issuer: issuer.issuerOf('alpha'), bruteForce: { failureFactor: 1, quickLoginCheckMilliSeconds: 0 } },
        beta: { issuer: issuer.issuerOf('beta') },
      },
    },
    issuer,
  );
});
afterAll(async () => {
  await service.close();
  await issuer.stop();
});

/** The value of one sample line, e.g. `name{label="x"}`, from the scraped text; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function scrape(): Promise<string> {
  const res = await call(service.app, 'get', '/metrics');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text;
}

describe('/metrics', () => {
  it('counts requests by route and status, hashes, lockouts, key set fetches and database calls after real requests', async () => {
    const user = await service.createUser('ada', PASSWORD);
    expect((await call(service.app, 'post', VALIDATE, { token: user.token, body: { password: PASSWORD } })).body).toEqual({ valid: true });
    expect((await call(service.app, 'post', VALIDATE, { token: user.token, body: { password: 'wrong' } })).body).toEqual({ valid: false });
    expect((await call(service.app, 'post', VALIDATE, { token: user.token, body: { password: PASSWORD } })).status).toBe(429);
    expect((await call(service.app, 'get', '/realms/nowhere/password-resources/password-policy')).status).toBe(404);
    expect((await call(service.app, 'get', '/no/such/path')).status).toBe(404);
    issuer.mode = 'error';
    const beta = await issuer.sign({ sub: 'someone' }, { realm: 'beta' });
    expect((await call(service.app, 'post', '/realms/beta/password-resources/validate-password', { token: beta, body: { password: PASSWORD } })).status).toBe(503);
    issuer.mode = 'up';

    const text = await scrape();
    const route = 'route="/realms/{realm}/password-resources/validate-password"';
    expect(sample(text, `password_resources_http_requests_total{method="POST",${route},status="200"}`)).toBe(2);
    expect(sample(text, `password_resources_http_requests_total{method="POST",${route},status="429"}`)).toBe(1);
    expect(sample(text, `password_resources_http_requests_total{method="POST",${route},status="503"}`)).toBe(1);
    // Paths are labelled by their template, or `other`: a caller cannot make new series.
    expect(sample(text, 'password_resources_http_requests_total{method="GET",route="/realms/{realm}/password-resources/password-policy",status="404"}')).toBe(1);
    expect(sample(text, 'password_resources_http_requests_total{method="GET",route="other",status="404"}')).toBe(1);
    expect(text).not.toMatch(/nowhere|no\/such/);
    // createUser hashed once; two checks verified; the locked-out one hashed nothing.
    expect(sample(text, 'password_resources_hash_duration_seconds_count{operation="verify"}')).toBe(2);
    expect(sample(text, 'password_resources_hash_duration_seconds_count{operation="hash"}')).toBe(1);
    expect(sample(text, 'password_resources_hash_queue_rejected_total{reason="budget"}')).toBe(0);
    expect(sample(text, 'password_resources_hash_queue_waiting')).toBe(0);
    expect(sample(text, 'password_resources_lockouts_total{kind="temporary"}')).toBe(1);
    expect(sample(text, 'password_resources_audit_events_total{type="VALIDATE_PASSWORD_ERROR"}')).toBe(2);
    expect(sample(text, 'password_resources_jwks_fetches_total{realm="alpha"}')).toBe(1);
    expect(sample(text, 'password_resources_jwks_failures_total{realm="beta"}')).toBe(1);
    expect(sample(text, 'password_resources_database_duration_seconds_count{operation="findById",outcome="ok"}')).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'password_resources_database_duration_seconds_count{operation="reserveAttempt",outcome="ok"}')).toBe(2);
    // The process's own, event loop delay among them.
    expect(sample(text, 'nodejs_eventloop_lag_p99_seconds')).toBeGreaterThan(0);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    // Each series once: no metric registered twice.
    const help = text.split('\n').filter((l) => l.startsWith('# HELP '));
    expect(new Set(help).size).toBe(help.length);
  });

  it('keeps one registry per instance, so two services in one process count apart', async () => {
    const other = await startTestService('metrics-other', {}, issuer);
    try {
      const res = await call(other.app, 'get', '/metrics');
      expect(sample(res.text, 'password_resources_lockouts_total{kind="temporary"}')).toBe(0);
      expect(sample(res.text, 'password_resources_http_requests_total{method="POST",route="/realms/{realm}/password-resources/validate-password",status="200"}')).toBeUndefined();
    } finally {
      await other.close();
    }
  });
});
