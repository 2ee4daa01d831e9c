/**
 * The realm the examples run against, set up once in a Keycloak started by
 * `npm run keycloak:start` (whose bootstrap admin it logs in as): realm
 * `demo`, the SPA's, the native app's and the admin console's public clients
 * (authorization code with PKCE, an audience mapper naming the service), the
 * service's own confidential client for sidecar mode (Keycloak keeps the
 * passwords), the user alice, and demo-admin for the console. Running it
 * again changes nothing.
 */
import { KEYCLOAK_ADMIN } from '../scripts/keycloak';
// In your app: from 'password-resources'.
import type { RealmOptions } from '../src/index';

/** The demo realm's names and secrets (a demo's: never use these anywhere real). */
export const DEMO = {
  realm: 'demo',
  audience: 'password-resources',
  /** Keycloak's policy and ours, the same string, so `password-policy` tells the page the truth. */
  passwordPolicy: 'length(12) and digits(1) and notUsername',
  spaClient: 'spa-account',
  spaOrigin: 'http://127.0.0.1:5173',
  nativeClient: 'native-client',
  /** The admin console's public client, and where `npm start` serves the console of realm `demo`. */
  consoleClient: 'password-resources-console',
  consoleUrl: 'http://127.0.0.1:8080/admin/console/demo/',
  serviceClient: { clientId: 'password-resources', clientSecret: 'demo-service-secret' },
  user: { username: 'alice', password: 'alice password 1' },
  /** An administrator of the realm for the console: `CONSOLE_ADMIN_ROLES` of `realm-management`. */
  admin: { username: 'demo-admin', password: 'demo-admin password 1' },
} as const;

/**
 * The `realm-management` roles of an administrator who may do all the console
 * offers: read and change users (`manage-users` includes `view-users`), read
 * events, read the realm's settings and test its SMTP connection (`manage-realm`
 * includes `view-realm`). A view-only administrator has `view-users` alone.
 */
export const CONSOLE_ADMIN_ROLES: readonly string[] = ['view-users', 'manage-users', 'view-events', 'view-realm', 'manage-realm'];

/** `KEYCLOAK_URL`, as `npm run keycloak:start` prints it. */
export function keycloakUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const url = env.KEYCLOAK_URL;
  if (!url) throw new Error('KEYCLOAK_URL is unset: start Keycloak with npm run keycloak:start and export the KEYCLOAK_URL it prints');
  return url.replace(/\/+$/, '');
}

/** What differs between runs of the setup (tests use realms of their own). */
export interface DemoRealmSetup {
  readonly realm?: string;
  /** Origins the SPA is served from (redirects and CORS). Default: `DEMO.spaOrigin`. */
  readonly spaOrigins?: readonly string[];
  /** Where the realm's admin console is served (its client's redirect). Default: `DEMO.consoleUrl`, `npm start`'s. */
  readonly consoleUrl?: string;
  /** Extra realm settings (brute force, ...). */
  readonly realmSettings?: Record<string, unknown>;
  readonly log?: (line: string) => void;
}

type AdminCall = (method: string, path: string, body?: unknown) => Promise<Response>;

async function adminCall(keycloakUrl: string): Promise<AdminCall> {
  const res = await fetch(`${keycloakUrl}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: KEYCLOAK_ADMIN.username, password: KEYCLOAK_ADMIN.password }),
  });
  if (!res.ok) throw new Error(`the admin of ${keycloakUrl} cannot log in (${res.status}): is it the Keycloak of npm run keycloak:start?`);
  const { access_token: token } = (await res.json()) as { access_token: string };
  return async (method, path, body) => {
    const answer = await fetch(`${keycloakUrl}/admin/realms${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!answer.ok && answer.status !== 409) throw new Error(`Keycloak ${method} ${path}: ${answer.status} ${await answer.text()}`);
    return answer;
  };
}

const audienceMapper = {
  name: 'password-resources audience',
  protocol: 'openid-connect',
  protocolMapper: 'oidc-audience-mapper',
  config: { 'included.custom.audience': DEMO.audience, 'access.token.claim': 'true', 'id.token.claim': 'false' },
};

/** A public client for authorization code with PKCE (S256 required), whose tokens name the service. */
function publicClient(clientId: string, redirectUris: readonly string[], webOrigins: readonly string[]): Record<string, unknown> {
  return {
    clientId,
    enabled: true,
    protocol: 'openid-connect',
    publicClient: true,
    standardFlowEnabled: true,
    directAccessGrantsEnabled: false,
    redirectUris,
    webOrigins,
    attributes: { 'pkce.code.challenge.method': 'S256', 'post.logout.redirect.uris': '+' },
    protocolMappers: [audienceMapper],
  };
}

/**
 * The admin console's client: public (a page keeps no secret), authorization
 * code with PKCE (S256 required), back to the console's own URL after sign-in
 * and sign-out, calls from its origin allowed; the audience mapper, because
 * the service checks the realm's `audience` on administrators' tokens too.
 */
export function consoleClient(consoleUrl: string, clientId: string = DEMO.consoleClient): Record<string, unknown> {
  return {
    ...publicClient(clientId, [consoleUrl], [new URL(consoleUrl).origin]),
    name: 'password-resources admin console',
    attributes: { 'pkce.code.challenge.method': 'S256', 'post.logout.redirect.uris': consoleUrl },
  };
}

async function grantUserManagement(call: AdminCall, realm: string): Promise<void> {
  const [client] = (await (await call('GET', `/${realm}/clients?clientId=${DEMO.serviceClient.clientId}`)).json()) as { id: string }[];
  const [management] = (await (await call('GET', `/${realm}/clients?clientId=realm-management`)).json()) as { id: string }[];
  if (!client || !management) throw new Error(`realm ${realm}: the service's client or realm-management is missing`);
  const account = (await (await call('GET', `/${realm}/clients/${client.id}/service-account-user`)).json()) as { id: string };
  const roles = (await (await call('GET', `/${realm}/clients/${management.id}/roles`)).json()) as { name: string }[];
  const wanted = roles.filter((role) => role.name === 'view-users' || role.name === 'manage-users');
  await call('POST', `/${realm}/users/${account.id}/role-mappings/clients/${management.id}`, wanted);
}

/** `DEMO.admin`, an administrator of the realm with `CONSOLE_ADMIN_ROLES`, to sign in to the console with. */
async function ensureConsoleAdmin(call: AdminCall, realm: string): Promise<void> {
  const { username, password } = DEMO.admin;
  await call('POST', `/${realm}/users`, {
    username,
    enabled: true,
    firstName: 'Demo',
    lastName: 'Admin',
    email: `${username}@example.com`,
    emailVerified: true,
    credentials: [{ type: 'password', value: password, temporary: false }],
  });
  const [user] = (await (await call('GET', `/${realm}/users?exact=true&username=${username}`)).json()) as { id: string }[];
  const [management] = (await (await call('GET', `/${realm}/clients?clientId=realm-management`)).json()) as { id: string }[];
  if (!user || !management) throw new Error(`realm ${realm}: ${username} or realm-management is missing`);
  const roles = (await (await call('GET', `/${realm}/clients/${management.id}/roles`)).json()) as { name: string }[];
  await call('POST', `/${realm}/users/${user.id}/role-mappings/clients/${management.id}`, roles.filter((role) => CONSOLE_ADMIN_ROLES.includes(role.name)));
}

/**
 * Create the demo realm in the Keycloak at `keycloakUrl`, or complete it (what exists is kept as it is).
 * @returns alice's id (the `sub` of her tokens).
 */
export async function ensureDemoRealm(keycloakUrl: string, setup: DemoRealmSetup = {}): Promise<string> {
  const realm = setup.realm ?? DEMO.realm;
  const origins = setup.spaOrigins ?? [DEMO.spaOrigin];
  const call = await adminCall(keycloakUrl);
  const exists = (await call('GET', `/${realm}`).catch(() => undefined))?.ok === true;
  setup.log?.(exists ? `realm ${realm} in ${keycloakUrl}: completing what is missing` : `creating realm ${realm} in ${keycloakUrl}`);
  // Each step answers 409 when what it creates is there: a run stopped half-way is completed by the next.
  if (!exists) await call('POST', '', { realm, enabled: true, passwordPolicy: DEMO.passwordPolicy, ...setup.realmSettings });
  await call('POST', `/${realm}/clients`, publicClient(DEMO.spaClient, origins.map((origin) => `${origin}/*`), origins));
  // RFC 8252 section 7.3: Keycloak takes any port on the loopback address for this redirect.
  await call('POST', `/${realm}/clients`, publicClient(DEMO.nativeClient, ['http://127.0.0.1/callback'], []));
  await call('POST', `/${realm}/clients`, {
    clientId: DEMO.serviceClient.clientId,
    secret: DEMO.serviceClient.clientSecret,
    enabled: true,
    publicClient: false,
    serviceAccountsEnabled: true,
    directAccessGrantsEnabled: true,
    standardFlowEnabled: false,
  });
  await grantUserManagement(call, realm);
  await call('POST', `/${realm}/clients`, consoleClient(setup.consoleUrl ?? DEMO.consoleUrl));
  await ensureConsoleAdmin(call, realm);
  const { username, password } = DEMO.user;
  await call('POST', `/${realm}/users`, {
    username,
    enabled: true,
    firstName: 'Alice',
    lastName: 'Demo',
    email: `${username}@example.com`,
    emailVerified: true,
    credentials: [{ type: 'password', value: password, temporary: false }],
  });
  const [user] = (await (await call('GET', `/${realm}/users?exact=true&username=${DEMO.user.username}`)).json()) as { id: string }[];
  if (!user) throw new Error(`realm ${realm} has no user ${DEMO.user.username}`);
  return user.id;
}

/**
 * The service's settings for the demo realm: Keycloak's issuer and audience,
 * and sidecar mode (the passwords stay in Keycloak, changed through the
 * service's confidential client).
 */
export function demoRealmOptions(keycloakUrl: string, realm: string = DEMO.realm): RealmOptions {
  return {
    issuer: `${keycloakUrl}/realms/${realm}`,
    audience: DEMO.audience,
    passwordPolicy: DEMO.passwordPolicy,
    credentialStore: { type: 'keycloak', ...DEMO.serviceClient },
  };
}
