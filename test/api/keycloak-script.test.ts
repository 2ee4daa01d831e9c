import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { call } from '../helpers/api';
import { contractChecks } from '../helpers/contract-hook';
import { startRecordingProxy } from '../helpers/recording-proxy';
import type { RecordingProxy } from '../helpers/recording-proxy';
import { startTestService } from '../helpers/setup';
import type { TestService } from '../helpers/setup';

const SCRIPT = join(__dirname, '..', '..', 'examples', 'keycloak-reset-password.sh');
let service: TestService;
let server: Server;
let proxy: RecordingProxy;
/** The script's curl reaches the service through a proxy that holds every answer against openapi.yaml. */
let baseUrl: string;

beforeAll(async () => {
  service = await startTestService('keycloak-script');
  server = createServer(service.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy = await startRecordingProxy(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  baseUrl = proxy.base;
});
afterAll(async () => {
  await proxy.close();
  await new Promise((resolve) => server.close(resolve));
  await service.close();
});

describe("a script written for Keycloak's admin API (examples/keycloak-reset-password.sh)", () => {
  it('works unchanged against password-resources, with only the base URL changed', async () => {
    const { id } = await service.createUser('petra.script', 'petra first passphrase');
    const token = await service.issuer.sign({ sub: 'ops', azp: 'admin-cli', resource_access: { 'realm-management': { roles: ['manage-users'] } } });
    const env = { PATH: process.env.PATH ?? '', KEYCLOAK_URL: baseUrl, REALM: 'alpha', USERNAME: 'petra.script', TOKEN: token, NEW_PASSWORD: 'a "quoted" temporary one' };
    const checked = contractChecks.count;
    const { stdout } = await promisify(execFile)('sh', [SCRIPT], { env });
    expect(stdout).toBe(`temporary password set for petra.script (${id})\n`);
    // The lookup and the reset, as the script's curl received them, were held against the contract.
    expect(contractChecks.count - checked).toBe(2);

    const validated = await call(service.app, 'post', '/realms/alpha/password-resources/validate-password', {
      token: await service.issuer.signAfterChange(id),
      body: { password: 'a "quoted" temporary one' },
    });
    expect(validated.body).toEqual({ valid: true, requiredActions: ['UPDATE_PASSWORD'] });
  });

  it('fails loudly for an unknown user', async () => {
    const token = await service.issuer.sign({ sub: 'ops', resource_access: { 'realm-management': { roles: ['manage-users'] } } });
    const env = { PATH: process.env.PATH ?? '', KEYCLOAK_URL: baseUrl, REALM: 'alpha', USERNAME: 'nobody', TOKEN: token, NEW_PASSWORD: 'whatever it is' };
    await expect(promisify(execFile)('sh', [SCRIPT], { env })).rejects.toMatchObject({ code: 1, stderr: 'no user nobody in realm alpha\n' });
  });
});
