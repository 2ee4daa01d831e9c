import type { BruteForceStatus } from '../../domain/admin-service';
import { answer } from '../context';
import type { AdminRoute } from './route';
import { adminRequest } from './route';

function bruteForceRepresentation(status: BruteForceStatus): Record<string, unknown> {
  return {
    numFailures: status.numFailures,
    numTemporaryLockouts: status.numTemporaryLockouts,
    disabled: status.disabled,
    lastFailure: status.lastFailure?.getTime() ?? 0,
    // Keycloak's field; the address of failures is not kept here.
    lastIPFailure: 'n/a',
    ...(status.lockedUntil === undefined ? {} : { lockedUntil: status.lockedUntil.getTime() }),
  };
}

/** Keycloak's attack detection of one user: read and clear. */
export const BRUTE_FORCE_ROUTES: readonly AdminRoute[] = [
  {
    method: 'get',
    path: '/attack-detection/brute-force/users/:id',
    role: 'view',
    handler: ({ admin }) => async (req, res) => {
      const { realm, id } = adminRequest(req, res);
      answer(res, 200, bruteForceRepresentation(await admin.bruteForceStatus(realm, id)));
    },
  },
  {
    method: 'delete',
    path: '/attack-detection/brute-force/users/:id',
    role: 'manage',
    handler: ({ admin }) => async (req, res) => {
      const { realm, actor, id } = adminRequest(req, res);
      await admin.clearBruteForce(realm, id, actor);
      answer(res, 204);
    },
  },
];
