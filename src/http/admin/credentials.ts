import { credentialIdOf } from '../../domain/admin-service';
import type { Credential } from '../../domain/store';
import { answer } from '../context';
import type { AdminRoute } from './route';
import { adminRequest } from './route';

/** Keycloak's CredentialRepresentation, metadata only. */
function credentialRepresentation(credential: Credential): Record<string, unknown> {
  return {
    id: credentialIdOf(credential),
    type: 'password',
    createdDate: credential.createdAt.getTime(),
    temporary: credential.temporary === true,
    ...(credential.expiresAt === undefined ? {} : { expiresAt: credential.expiresAt.getTime() }),
  };
}

interface PasswordResetBody {
  type?: string;
  value?: string;
  temporary?: boolean;
  temporaryExpiresIn?: number;
  generate?: boolean;
}

/** A user's password: reset it, list its metadata, delete one. */
export const CREDENTIAL_ROUTES: readonly AdminRoute[] = [
  {
    method: 'put',
    path: '/users/:id/reset-password',
    role: 'manage',
    bodySchema: 'AdminPasswordReset',
    handler: ({ admin }) => async (req, res) => {
      const { realm, actor, id } = adminRequest(req, res);
      const body = req.body as PasswordResetBody;
      const temporary = body.temporary ?? false;
      const generated = await admin.resetPassword(realm, id, { value: body.value, generate: body.generate, temporary, temporaryExpiresIn: body.temporaryExpiresIn }, actor);
      if (generated === undefined) answer(res, 204);
      else answer(res, 200, { type: 'password', value: generated, temporary });
    },
  },
  {
    method: 'get',
    path: '/users/:id/credentials',
    role: 'view',
    handler: ({ admin }) => async (req, res) => {
      const { realm, id } = adminRequest(req, res);
      answer(res, 200, (await admin.credentials(realm, id)).map(credentialRepresentation));
    },
  },
  {
    method: 'delete',
    path: '/users/:id/credentials/:credentialId',
    role: 'manage',
    handler: ({ admin }) => async (req, res) => {
      const { realm, actor, id } = adminRequest(req, res);
      await admin.deleteCredential(realm, id, String(req.params.credentialId), actor);
      answer(res, 204);
    },
  },
];
