import type { FieldMatch, UserAttributes, UserFilter, UserRecord } from '../../domain/store';
import { InvalidRequestError } from '../../errors';
import { answer } from '../context';
import { Query } from './query';
import type { AdminRoute } from './route';
import { adminRequest } from './route';

const USER_QUERY = ['username', 'email', 'firstName', 'lastName', 'search', 'exact', 'enabled', 'emailVerified'];
/** Keycloak's parameters that change nothing here (our representation is always the brief one). */
const USER_QUERY_IGNORED = ['briefRepresentation'];

/**
 * Keycloak's user search: the named fields contain the value (`exact=true`:
 * equal it); `search` looks in username, email and names, by prefix, `*foo*`
 * anywhere, `"foo"` exactly. Case-insensitive.
 */
function userFilter(query: Query): UserFilter {
  const exact = query.boolean('exact') ?? false;
  const field = (name: string): FieldMatch | undefined => {
    const value = query.string(name);
    return value === undefined ? undefined : { value, mode: exact ? 'exact' : 'infix' };
  };
  const search = query.string('search');
  let any: FieldMatch | undefined;
  if (search !== undefined && search !== '*' && search !== '') {
    if (exact || /^".*"$/s.test(search)) any = { value: search.replace(/^"(.*)"$/s, '$1'), mode: 'exact' };
    else if (/^\*.*\*$/s.test(search) && search.length > 1) any = { value: search.slice(1, -1), mode: 'infix' };
    else any = { value: search.replace(/\*$/, ''), mode: 'prefix' };
  }
  return {
    username: field('username'),
    email: field('email'),
    firstName: field('firstName'),
    lastName: field('lastName'),
    any,
    enabled: query.boolean('enabled'),
    emailVerified: query.boolean('emailVerified'),
  };
}

/** Keycloak's attribute map: the user's attributes, `locale` among them; absent when there are none, as Keycloak does. */
function attributesOf(user: UserRecord): { attributes?: Record<string, string[]> } {
  const attributes: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(user.attributes)) {
    Object.defineProperty(attributes, name, { value: [...values], enumerable: true, writable: true, configurable: true });
  }
  if (user.locale !== undefined) attributes.locale = [user.locale];
  return Object.keys(attributes).length === 0 ? {} : { attributes };
}

/** A request's attribute map split as it is kept: `locale` (its first value) and the others. */
function splitAttributes(given: Readonly<Record<string, string[]>>): { locale: string | undefined; others: UserAttributes } {
  const others: Record<string, readonly string[]> = {};
  for (const [name, values] of Object.entries(given)) {
    if (name !== 'locale') Object.defineProperty(others, name, { value: values, enumerable: true, writable: true, configurable: true });
  }
  return { locale: given.locale?.[0], others };
}

/** Keycloak's UserRepresentation of the fields we keep; never a credential. */
export function userRepresentation(user: UserRecord): Record<string, unknown> {
  return {
    id: user.id,
    username: user.username,
    ...(user.email === undefined ? {} : { email: user.email }),
    emailVerified: user.emailVerified,
    ...(user.firstName === undefined ? {} : { firstName: user.firstName }),
    ...(user.lastName === undefined ? {} : { lastName: user.lastName }),
    ...attributesOf(user),
    enabled: user.enabled,
    createdTimestamp: user.createdAt.getTime(),
    requiredActions: [...user.requiredActions],
  };
}

interface UserBody {
  id?: string;
  username?: string;
  email?: string | null;
  emailVerified?: boolean;
  firstName?: string | null;
  lastName?: string | null;
  enabled?: boolean;
  requiredActions?: string[];
  attributes?: Record<string, string[]>;
  createdTimestamp?: number;
  credentials?: { type?: string; value: string; temporary?: boolean }[];
}

/** Users: search, count, create, read, update, delete. */
export const USER_ROUTES: readonly AdminRoute[] = [
  {
    method: 'get',
    path: '/users',
    role: 'view',
    handler: ({ admin }) => async (req, res) => {
      const query = new Query(req, [...USER_QUERY, 'first', 'max'], USER_QUERY_IGNORED);
      const { realm } = adminRequest(req, res);
      const users = await admin.findUsers(realm, userFilter(query), query.page());
      answer(res, 200, users.map(userRepresentation));
    },
  },
  {
    method: 'get',
    path: '/users/count',
    role: 'view',
    handler: ({ admin }) => async (req, res) => {
      const query = new Query(req, USER_QUERY, USER_QUERY_IGNORED);
      answer(res, 200, await admin.countUsers(adminRequest(req, res).realm, userFilter(query)));
    },
  },
  {
    method: 'post',
    path: '/users',
    role: 'manage',
    bodySchema: 'AdminUserCreate',
    handler: ({ admin }) => async (req, res) => {
      const { realm, actor } = adminRequest(req, res);
      const body = req.body as UserBody & { username: string };
      const attributes = splitAttributes(body.attributes ?? {});
      const password = body.credentials?.[0];
      const user = await admin.createUser(
        {
          realm,
          id: body.id,
          username: body.username,
          email: body.email ?? undefined,
          emailVerified: body.emailVerified ?? false,
          firstName: body.firstName ?? undefined,
          lastName: body.lastName ?? undefined,
          locale: attributes.locale,
          attributes: attributes.others,
          // Keycloak's default: a user created without "enabled" is disabled.
          enabled: body.enabled ?? false,
          requiredActions: body.requiredActions ?? [],
          password: password?.value,
          temporary: password?.temporary ?? false,
        },
        actor,
      );
      res.location(`${req.baseUrl}/users/${encodeURIComponent(user.id)}`);
      answer(res, 201);
    },
  },
  {
    method: 'get',
    path: '/users/:id',
    role: 'view',
    handler: ({ admin }) => async (req, res) => {
      const { realm, id } = adminRequest(req, res);
      answer(res, 200, userRepresentation(await admin.getUser(realm, id)));
    },
  },
  {
    method: 'put',
    path: '/users/:id',
    role: 'manage',
    bodySchema: 'AdminUserUpdate',
    handler: ({ admin }) => async (req, res) => {
      const { realm, actor, id } = adminRequest(req, res);
      const body = req.body as UserBody;
      // Scripts send back what GET returned: its read-only fields are accepted when they agree.
      if (body.id !== undefined && body.id !== id) throw new InvalidRequestError(`"id" is "${body.id}" but the path names user "${id}"; a user's id cannot change.`);
      const { username, email, emailVerified, firstName, lastName, enabled, requiredActions, attributes } = body;
      // Keycloak replaces the attributes when they are given: one left out is removed, `locale` too.
      const split = attributes === undefined ? undefined : splitAttributes(attributes);
      await admin.updateUser(
        realm,
        id,
        { username, email, emailVerified, firstName, lastName, locale: split === undefined ? undefined : (split.locale ?? null), attributes: split?.others, enabled, requiredActions },
        actor,
      );
      answer(res, 204);
    },
  },
  {
    method: 'delete',
    path: '/users/:id',
    role: 'manage',
    handler: ({ admin }) => async (req, res) => {
      const { realm, actor, id } = adminRequest(req, res);
      await admin.deleteUser(realm, id, actor);
      answer(res, 204);
    },
  },
];
