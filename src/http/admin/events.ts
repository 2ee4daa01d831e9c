import type { AdminEvent, AuditEvent } from '../../domain/events';
import { answer } from '../context';
import { Query } from './query';
import type { AdminRoute } from './route';
import { adminRequest } from './route';

function eventRepresentation(event: AuditEvent): Record<string, unknown> {
  return {
    time: event.time.getTime(),
    type: event.type,
    realmId: event.realm,
    userId: event.userId,
    ...(event.clientId === undefined ? {} : { clientId: event.clientId }),
    ...(event.ip === undefined ? {} : { ipAddress: event.ip }),
    ...(event.error === undefined ? {} : { error: event.error }),
  };
}

function adminEventRepresentation(event: AdminEvent): Record<string, unknown> {
  return {
    time: event.time.getTime(),
    realmId: event.realm,
    authDetails: {
      realmId: event.realm,
      userId: event.actor.userId,
      ...(event.actor.clientId === undefined ? {} : { clientId: event.actor.clientId }),
      ...(event.actor.ip === undefined ? {} : { ipAddress: event.actor.ip }),
    },
    operationType: event.operationType,
    resourceType: event.resourceType,
    resourcePath: event.resourcePath,
    ...(event.error === undefined ? {} : { error: event.error }),
  };
}

/** The audit trail: events and admin events, Keycloak's queries. */
export const EVENT_ROUTES: readonly AdminRoute[] = [
  {
    method: 'get',
    path: '/events',
    role: 'viewEvents',
    handler: ({ events }) => async (req, res) => {
      const query = new Query(req, ['type', 'user', 'client', 'ipAddress', 'dateFrom', 'dateTo', 'first', 'max']);
      const found = await events.events(adminRequest(req, res).realm, {
        types: query.list('type'),
        userId: query.string('user'),
        clientId: query.string('client'),
        ip: query.string('ipAddress'),
        from: query.date('dateFrom', false),
        to: query.date('dateTo', true),
        ...query.page(),
      });
      answer(res, 200, found.map(eventRepresentation));
    },
  },
  {
    method: 'get',
    path: '/admin-events',
    role: 'viewEvents',
    handler: ({ events }) => async (req, res) => {
      const query = new Query(req, ['operationTypes', 'resourceTypes', 'resourcePath', 'authUser', 'authClient', 'authIpAddress', 'dateFrom', 'dateTo', 'first', 'max']);
      const found = await events.adminEvents(adminRequest(req, res).realm, {
        operationTypes: query.list('operationTypes'),
        resourceTypes: query.list('resourceTypes'),
        resourcePath: query.string('resourcePath'),
        authUserId: query.string('authUser'),
        authClientId: query.string('authClient'),
        authIp: query.string('authIpAddress'),
        from: query.date('dateFrom', false),
        to: query.date('dateTo', true),
        ...query.page(),
      });
      answer(res, 200, found.map(adminEventRepresentation));
    },
  },
];
