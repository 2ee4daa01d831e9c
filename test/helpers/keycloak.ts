import { randomBytes } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { KEYCLOAK_ADMIN } from '../../scripts/keycloak';

/** Tokens from Keycloak's token endpoint. */
export interface KeycloakTokens {
  readonly access_token: string;
  readonly refresh_token: string;
  readonly id_token?: string;
  readonly session_state?: string;
}

/** A user to create in Keycloak. */
export interface KeycloakUserInput {
  readonly username: string;
  readonly password?: string;
  readonly temporary?: boolean;
  readonly enabled?: boolean;
  readonly email?: string;
  readonly requiredActions?: readonly string[];
  /** Kept by Keycloak 24+ only when the realm's user profile allows unmanaged attributes. */
  readonly attributes?: Readonly<Record<string, readonly string[]>>;
}

/** An audience mapper: puts `audience` into the access token's `aud`. */
export function audienceMapper(audience: string): Record<string, unknown> {
  return {
    name: `audience ${audience}`,
    protocol: 'openid-connect',
    protocolMapper: 'oidc-audience-mapper',
    config: { 'included.custom.audience': audience, 'access.token.claim': 'true', 'id.token.claim': 'false', 'introspection.token.claim': 'true' },
  };
}

/** A realm name of this test's own. */
export function uniqueRealm(label: string): string {
  return `${label}-${randomBytes(3).toString('hex')}`;
}

/** The claims and header of a token, for assertions. */
export function peek(token: string): { header: ReturnType<typeof decodeProtectedHeader>; claims: ReturnType<typeof decodeJwt> } {
  return { header: decodeProtectedHeader(token), claims: decodeJwt(token) };
}

/**
 * The running Keycloak's admin REST API, as the master realm's bootstrap
 * admin (admin-cli, password grant), for setting up realms, clients and users.
 */
export class KeycloakAdmin {
  #token: { value: string; until: number } | undefined;

  constructor(readonly url: string) {}

  static fromEnv(): KeycloakAdmin {
    const url = process.env.KEYCLOAK_URL;
    if (!url) throw new Error('KEYCLOAK_URL is unset: run these tests with npm run test:keycloak');
    return new KeycloakAdmin(url);
  }

  issuerOf(realm: string): string {
    return `${this.url}/realms/${realm}`;
  }

  async #adminToken(): Promise<string> {
    if (this.#token && this.#token.until > Date.now()) return this.#token.value;
    const tokens = await this.tokenRequest('master', { grant_type: 'password', client_id: 'admin-cli', username: KEYCLOAK_ADMIN.username, password: KEYCLOAK_ADMIN.password });
    this.#token = { value: tokens.access_token, until: Date.now() + 30_000 };
    return tokens.access_token;
  }

  /** An admin API call; throws with Keycloak's answer unless it is 2xx. */
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the shape Keycloak answers with
  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T; location: string | null }> {
    const res = await fetch(`${this.url}/admin/realms${path}`, {
      method,
      headers: { Authorization: `Bearer ${await this.#adminToken()}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as T, location: res.headers.get('location') };
  }

  /** A realm with brute force detection off unless `extra` says otherwise. */
  async createRealm(realm: string, extra: Record<string, unknown> = {}): Promise<void> {
    await this.request('POST', '', { realm, enabled: true, ...extra });
  }

  async deleteRealm(realm: string): Promise<void> {
    await this.request('DELETE', `/${realm}`);
  }

  async updateRealm(realm: string, changes: Record<string, unknown>): Promise<void> {
    await this.request('PUT', `/${realm}`, changes);
  }

  /** @returns the client's internal id. */
  async createClient(realm: string, representation: Record<string, unknown>): Promise<string> {
    const { location } = await this.request('POST', `/${realm}/clients`, { enabled: true, protocol: 'openid-connect', ...representation });
    return idFrom(location);
  }

  /**
   * A user with first and last name and an email (`<username>@example.com`
   * unless given): Keycloak 24+'s default user profile requires all three, and
   * a user without them "is not fully set up" (no token).
   * @returns the user's id (the `sub` of its tokens).
   */
  async createUser(realm: string, input: KeycloakUserInput): Promise<string> {
    const { location } = await this.request('POST', `/${realm}/users`, {
      username: input.username,
      enabled: input.enabled ?? true,
      firstName: input.username,
      lastName: 'Tester',
      email: input.email ?? `${input.username}@example.com`,
      emailVerified: true,
      requiredActions: input.requiredActions ?? [],
      ...(input.attributes === undefined ? {} : { attributes: input.attributes }),
      ...(input.password === undefined ? {} : { credentials: [{ type: 'password', value: input.password, temporary: input.temporary ?? false }] }),
    });
    return idFrom(location);
  }

  /** Give a client's service account client roles of `realm-management` (`manage-users`, `view-users`). */
  async grantRealmManagement(realm: string, clientInternalId: string, roles: readonly string[]): Promise<void> {
    const { body: serviceAccount } = await this.request<{ id: string }>('GET', `/${realm}/clients/${clientInternalId}/service-account-user`);
    await this.grantClientRoles(realm, serviceAccount.id, 'realm-management', roles);
  }

  /** The internal id of the client `clientId` of `realm`. */
  async clientInternalId(realm: string, clientId: string): Promise<string> {
    const { body: clients } = await this.request<{ id: string }[]>('GET', `/${realm}/clients?clientId=${encodeURIComponent(clientId)}`);
    const client = clients[0];
    if (!client) throw new Error(`no client ${clientId} in realm ${realm}`);
    return client.id;
  }

  /** Give a user of `realm` roles of the client `clientId` (e.g. `realm-management`, or master's `<realm>-realm`). */
  async grantClientRoles(realm: string, userId: string, clientId: string, roles: readonly string[]): Promise<void> {
    const client = await this.clientInternalId(realm, clientId);
    const { body: available } = await this.request<{ id: string; name: string }[]>('GET', `/${realm}/clients/${client}/roles`);
    await this.request('POST', `/${realm}/users/${userId}/role-mappings/clients/${client}`, available.filter((role) => roles.includes(role.name)));
  }

  /** A token request at the realm's token endpoint; throws with Keycloak's answer unless 200. */
  async tokenRequest(realm: string, form: Record<string, string>): Promise<KeycloakTokens> {
    const res = await fetch(`${this.issuerOf(realm)}/protocol/openid-connect/token`, { method: 'POST', body: new URLSearchParams(form) });
    const text = await res.text();
    if (!res.ok) throw new Error(`token request in ${realm}: ${res.status} ${text}`);
    return JSON.parse(text) as KeycloakTokens;
  }

  /** The user's tokens from a direct grant (Resource Owner Password Credentials) with a public client. */
  async login(realm: string, clientId: string, username: string, password: string, scope = 'openid'): Promise<KeycloakTokens> {
    return this.tokenRequest(realm, { grant_type: 'password', client_id: clientId, username, password, scope });
  }
}

function idFrom(location: string | null): string {
  const id = location?.split('/').at(-1);
  if (!id) throw new Error('Keycloak answered without a Location');
  return id;
}
