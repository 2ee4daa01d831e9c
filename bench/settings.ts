/** What every part of the bench agrees on: the cost, the phases' length, the realm and its users, the log. */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS } from '../src/config/defaults';
import type { HashScheme } from '../src/domain/hashing';

export const ROOT = join(__dirname, '..');
export const COST = Number(process.env.BENCH_BCRYPT_COST ?? 10);
/** This bench measures bcrypt; `npm run bench:keycloak` measures argon2id beside Keycloak. */
export const SCHEME: HashScheme = { algorithm: 'bcrypt', iterations: COST };
export const PHASE_SECONDS = Number(process.env.BENCH_PHASE_SECONDS ?? 5);
export const CORES = availableParallelism();
/** What `serve` runs with by default: one hash per core, two waiting per slot. */
export const CONCURRENCY = CORES;
export const MAX_WAITING = DEFAULTS.hashWaitingPerSlot * CONCURRENCY;
/** Closed-loop connections at saturation: as many requests as the hash queue takes at once, so none is shed. */
export const SATURATION_CONNECTIONS = CONCURRENCY + MAX_WAITING;
export const REALM = 'bench';
export const PASSWORD = 'bench password 0000';
/** Users whose tokens the validation phases cycle through (each sees at most one wrong password per phase). */
export const VALIDATE_USERS = 1_500;
/** Users whose password reset-password changes, each once (a change revokes the token it was made with). */
export const RESET_USERS = 1_000;

export const JSON_CONTENT = { 'content-type': 'application/json' };
export const VALIDATE = `/realms/${REALM}/password-resources/validate-password`;
export const RESET = `/realms/${REALM}/password-resources/reset-password`;

export const log = (line: string): void => {
  process.stderr.write(`[bench] ${line}\n`);
};

export function fmt(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '-';
}
