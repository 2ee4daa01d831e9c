/** Requests refused before any hash: a forged token, a locked-out user, a malformed body. */
import { cycle } from '../fixtures';
import { closedLoop } from '../load';
import type { BenchRequest } from '../load';
import { JSON_CONTENT, PASSWORD, PHASE_SECONDS, VALIDATE } from '../settings';
import type { BenchSet } from './set';

const CONNECTIONS = 16;

function validate(token: string, body: string): BenchRequest {
  return { method: 'POST', path: VALIDATE, headers: { ...JSON_CONTENT, authorization: `Bearer ${token}` }, body };
}

/** Wrong passwords until the 429 lands, the way an attacker would lock a user out. */
async function lockOut(port: number, token: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const res = await closedLoop({ port, connections: 1, seconds: 10, amount: 1, next: () => validate(token, JSON.stringify({ password: `guess ${i}` })) });
    if (res.statuses['429']) break;
  }
}

export async function rejections(set: BenchSet): Promise<void> {
  const { port } = set.service;
  const seconds = Math.max(2, Math.round(PHASE_SECONDS * 0.6));
  const good = set.validateTokens[0] ?? '';
  const forged = `${good.slice(0, -4)}${good.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
  await set.run('rejected: bad token', [401], () => closedLoop({ port, connections: CONNECTIONS, seconds, next: () => validate(forged, JSON.stringify({ password: PASSWORD })) }));
  // The last reset user: reset-password never gets that far, and no other phase uses it.
  const lockedToken = set.resetTokens.at(-1) ?? '';
  await lockOut(port, lockedToken);
  await set.run('rejected: locked-out user', [429], () => closedLoop({ port, connections: CONNECTIONS, seconds, next: () => validate(lockedToken, JSON.stringify({ password: PASSWORD })) }));
  const badBodyToken = cycle(set.validateTokens.slice(2));
  await set.run('rejected: bad body', [400], () => closedLoop({ port, connections: CONNECTIONS, seconds, next: () => validate(badBodyToken(), '{"password": 12}') }));
}
