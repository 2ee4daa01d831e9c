/** One set of phases on one database: its users' tokens, its requests, and the phases measured so far. */
import type { TestIssuer } from '../../test/helpers/issuer';
import { cycle, tokensFor } from '../fixtures';
import type { BenchRequest, LoadResult } from '../load';
import { phase, phases as measurePhases } from '../phase';
import type { Phase } from '../phase';
import type { Service } from '../service';
import { JSON_CONTENT, RESET_USERS, VALIDATE, VALIDATE_USERS } from '../settings';

/** bcrypt's own limit measured around a set's saturation phase (other load on the machine drifts). */
export interface Limit {
  readonly checksPerSecond: number;
  readonly singleCheckMs: number;
  /** The limit measured before and after. */
  readonly spread: number[];
}

/** One set of phases, and the limit measured just before it. */
export interface SetResult {
  readonly limit: Limit;
  readonly phases: Phase[];
  readonly combined?: Phase;
}

/** What every scenario of one set works with. */
export interface BenchSet {
  readonly service: Service;
  readonly users: number;
  readonly validateTokens: readonly string[];
  /** Users reset-password changes, each once; the last one is locked out instead. */
  readonly resetTokens: readonly string[];
  /** Requests validating `password`, as each validation user in turn. */
  validateAs(password: string): () => BenchRequest;
  /** Measure one phase and keep it among the set's phases. */
  run(name: string, expected: readonly number[], load: () => Promise<LoadResult>): Promise<Phase>;
  /** Measure one load as several phases (`split` names each part) and keep them. */
  runSplit<R extends LoadResult>(expected: readonly number[], load: () => Promise<R>, split: (result: R) => [string, LoadResult][]): Promise<Phase[]>;
  readonly phases: Phase[];
}

/** Validation tokens from users spread over the range; reset users apart, each changed once (a change revokes its token). */
export async function prepareSet(issuer: TestIssuer, service: Service, users: number): Promise<BenchSet> {
  const validating = Math.min(VALIDATE_USERS, Math.floor(users / 2));
  const resetting = Math.min(RESET_USERS, users - validating);
  const step = Math.floor(users / (validating + resetting));
  const ids = Array.from({ length: validating + resetting }, (_, i) => `u${i * step}`);
  const validateTokens = await tokensFor(issuer, ids.slice(0, validating));
  const resetTokens = await tokensFor(issuer, ids.slice(validating));
  const phases: Phase[] = [];
  return {
    service,
    users,
    validateTokens,
    resetTokens,
    phases,
    validateAs(password) {
      const token = cycle(validateTokens);
      const body = JSON.stringify({ password });
      return () => ({ method: 'POST', path: VALIDATE, headers: { ...JSON_CONTENT, authorization: `Bearer ${token()}` }, body });
    },
    async run(name, expected, load) {
      const measured = await phase(service, name, users, expected, load);
      phases.push(measured);
      return measured;
    },
    async runSplit(expected, load, split) {
      const measured = await measurePhases(service, users, expected, load, split);
      phases.push(...measured);
      return measured;
    },
  };
}
