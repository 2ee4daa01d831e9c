/**
 * Offline guessability checks for `notCompromised` and `minStrength(n)`, both
 * from zxcvbn-ts: its common dictionary (about 49,000 passwords drawn from
 * breach corpora) and its score. No network call, ever. Loaded on first use,
 * so a realm without these rules pays nothing.
 */
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as english from '@zxcvbn-ts/language-en';

let estimator: ZxcvbnFactory | undefined;
let compromised: ReadonlySet<string> | undefined;

/** Whether the password, compared case-insensitively, is on the list of common and breached passwords. */
export function isCommonPassword(password: string): boolean {
  compromised ??= new Set(common.dictionary['passwords-common']);
  return compromised.has(password.toLowerCase());
}

/**
 * zxcvbn's score, 0 (guessed at once) to 4 (very unlikely), with the user's own
 * names counted as guessable.
 */
export function strengthScore(password: string, userInputs: readonly string[]): number {
  estimator ??= new ZxcvbnFactory({
    dictionary: { ...common.dictionary, ...english.dictionary },
    graphs: common.adjacencyGraphs,
    translations: english.translations,
  });
  return estimator.check(password, [...userInputs]).score;
}
