/**
 * An account page's "Change password" against password-resources: sign in at
 * Keycloak (authorization code with PKCE, oidc-client-ts), show the realm's
 * rules before the user types, check the current password with
 * `validate-password` before the sensitive step, change it with
 * `reset-password` showing every broken rule at once, and answer each
 * refusal of the contract without the user losing their place: a new sign-in
 * happens in a window of its own and the call is retried.
 */
import type { User } from 'oidc-client-ts';
import { AccountApi } from '../../account-api';
import type { Answer, PolicyRule } from '../../account-api';
import { loadConfig, userManager } from './config';

const config = await loadConfig();
const users = userManager(config);
const api = new AccountApi(config.service, config.realm);

/** How many 503s in a row the page waits out before it gives up. */
const UNAVAILABLE_RETRIES = 3;

function element(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} is missing`);
  return found;
}

const ui = {
  status: element('status'),
  signedOut: element('signed-out'),
  signIn: element('sign-in') as HTMLButtonElement,
  account: element('account'),
  rules: element('rules') as HTMLUListElement,
  confirmForm: element('confirm-form') as HTMLFormElement,
  current: element('current-password') as HTMLInputElement,
  confirmAlert: element('confirm-alert'),
  changeForm: element('change-form') as HTMLFormElement,
  next: element('new-password') as HTMLInputElement,
  changeAlert: element('change-alert'),
  reauthenticate: element('reauthenticate'),
  reauthenticateReason: element('reauthenticate-reason'),
  reauthenticateButton: element('reauthenticate-button') as HTMLButtonElement,
};

const sleep = (seconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

function say(text: string): void {
  ui.status.textContent = text;
}

/** An alert: one line, and a list under it (every broken rule at once). */
function alertIn(region: HTMLElement, text: string, items: readonly string[] = []): void {
  region.replaceChildren();
  if (text === '') return;
  const line = document.createElement('p');
  line.textContent = text;
  region.append(line);
  if (items.length > 0) {
    const list = document.createElement('ul');
    for (const item of items) {
      const entry = document.createElement('li');
      entry.textContent = item;
      list.append(entry);
    }
    region.append(list);
  }
}

function isAnswer(value: unknown): value is Answer {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'kind' in value;
}

/**
 * Sign in again in a window of its own, so the page keeps what was typed. A
 * window opened long after the click may be blocked: then a button asks for
 * the click that opens it.
 */
async function signInAgain(reason: string, stepUp?: { maxAge: number }): Promise<User> {
  say(reason);
  const args = stepUp ? { max_age: stepUp.maxAge, prompt: 'login' } : {};
  try {
    return await users.signinPopup(args);
  } catch {
    ui.reauthenticateReason.textContent = reason;
    ui.reauthenticate.hidden = false;
    ui.reauthenticateButton.focus();
    await new Promise((resolve) => {
      ui.reauthenticateButton.addEventListener('click', resolve, { once: true });
    });
    ui.reauthenticate.hidden = true;
    return users.signinPopup(args);
  }
}

/**
 * Make a call with the current token, and answer what the page can answer by
 * itself: a refused token (sign in again), a step-up (sign in again within
 * `max_age`), a 503 (wait `Retry-After`); each then retries. The rest is the
 * caller's.
 */
async function authorized<T>(call: (token: string) => Promise<T | Answer>): Promise<T | Answer> {
  let unavailable = 0;
  let signIns = 0;
  for (;;) {
    const token = (await users.getUser())?.access_token ?? '';
    const result = await call(token);
    if (!isAnswer(result)) return result;
    if (result.kind === 'sign-in-again' && signIns++ < 2) {
      await signInAgain('Your sign-in is no longer accepted: signing you in again…');
    } else if (result.kind === 'step-up' && signIns++ < 2) {
      await signInAgain(`This step needs a sign-in of the last ${result.maxAge} seconds: sign in again in the window that opened.`, { maxAge: result.maxAge });
    } else if (result.kind === 'unavailable' && unavailable++ < UNAVAILABLE_RETRIES) {
      say(`The service is unavailable; trying again in ${result.retryAfterSeconds} s.`);
      await sleep(result.retryAfterSeconds);
    } else {
      return result;
    }
    say('');
  }
}

/** The answers left to a form: a lockout (the button waits out `Retry-After`), or a failure. */
async function explain(region: HTMLElement, button: HTMLButtonElement, answer: Answer): Promise<void> {
  if (answer.kind === 'locked') {
    alertIn(region, `Too many wrong passwords. Try again in ${answer.retryAfterSeconds} seconds.`);
    button.disabled = true;
    await sleep(answer.retryAfterSeconds);
    button.disabled = false;
    alertIn(region, '');
    return;
  }
  const text = answer.kind === 'failed' ? answer.message : answer.kind === 'sign-in-again' ? 'Please sign in again.' : 'Something went wrong; try again.';
  alertIn(region, text);
}

async function showRules(): Promise<void> {
  const rules = await authorized((token) => api.policy(token));
  ui.rules.replaceChildren(
    ...(isAnswer(rules) ? [] : rules).map((rule: PolicyRule) => {
      const item = document.createElement('li');
      item.textContent = rule.message;
      return item;
    }),
  );
}

/** Step 1: the current password, checked with validate-password before the change is offered. */
async function confirm(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const button = event.submitter as HTMLButtonElement;
  alertIn(ui.confirmAlert, '');
  const valid = await authorized((token) => api.validatePassword(token, ui.current.value));
  if (valid === true) {
    ui.current.readOnly = true;
    ui.changeForm.hidden = false;
    ui.next.focus();
  } else if (valid === false) {
    alertIn(ui.confirmAlert, 'The current password is not correct.');
    ui.current.focus();
  } else {
    await explain(ui.confirmAlert, button, valid);
  }
}

/** Step 2: reset-password; every broken rule at once. */
async function change(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const button = event.submitter as HTMLButtonElement;
  alertIn(ui.changeAlert, '');
  const newPassword = ui.next.value;
  const answer = await authorized((token) => api.changePassword(token, ui.current.value, newPassword));
  if (answer.kind === 'done') {
    await changed(newPassword);
  } else if (answer.kind === 'policy-violations') {
    alertIn(ui.changeAlert, 'The new password was refused:', answer.violations.map((violation) => violation.message));
    ui.next.focus();
  } else if (answer.kind === 'wrong-current-password') {
    // Changed elsewhere since step 1: back to it.
    backToStart();
    alertIn(ui.confirmAlert, 'The current password is not correct.');
  } else {
    await explain(ui.changeAlert, button, answer);
  }
}

/**
 * After the change every token issued before it is refused (up to the
 * change's own second): the next call signs in again, in its window, and the
 * page goes on.
 */
async function changed(newPassword: string): Promise<void> {
  backToStart();
  say('Your password was changed.');
  await sleep(1);
  const valid = await authorized((token) => api.validatePassword(token, newPassword));
  say(valid === true ? 'Your password was changed. You are signed in again with it.' : 'Your password was changed.');
}

function backToStart(): void {
  ui.confirmForm.reset();
  ui.changeForm.reset();
  ui.current.readOnly = false;
  ui.changeForm.hidden = true;
  ui.current.focus();
}

async function start(): Promise<void> {
  const url = new URL(location.href);
  if (url.searchParams.has('code') && url.searchParams.has('state')) {
    await users.signinRedirectCallback();
    // The code is single-use: out of the address bar and the history.
    history.replaceState(null, '', '/');
  }
  const user = await users.getUser();
  if (!user || user.expired) {
    ui.signedOut.hidden = false;
    ui.signIn.addEventListener('click', () => {
      void users.signinRedirect();
    });
    return;
  }
  ui.account.hidden = false;
  await showRules();
  ui.confirmForm.addEventListener('submit', (event) => void confirm(event));
  ui.changeForm.addEventListener('submit', (event) => void change(event));
  ui.current.focus();
}

start().catch((error: unknown) => {
  say(`The page could not start: ${error instanceof Error ? error.message : String(error)}`);
});
