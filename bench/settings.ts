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
/** What `serve` runs with by default: one hash per core, admitted by the default time budget. */
export const CONCURRENCY = CORES;
export const HASH_QUEUE = { concurrency: CONCURRENCY, budgetMs: DEFAULTS.hashQueueBudgetMs, intervalMs: DEFAULTS.hashQueueIntervalMs };
/** Closed-loop connections at saturation: three requests per core, enough to keep every core hashing while the rest of each request's work overlaps. */
export const SATURATION_CONNECTIONS = 3 * CONCURRENCY;
/**
 * The start of the 3x overload, reported apart: the interval that tells a
 * standing overload from a burst, then the time to drain what was admitted
 * meanwhile (about two seconds of work at 3x).
 */
export const OVERLOAD_ONSET_SECONDS = (2 * DEFAULTS.hashQueueIntervalMs) / 1000 + 2;
/** Requests sent at once in the burst phase: a login storm. */
export const BURST = 100;
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
