/**
 * The contract check of the whole suite: every response a test receives from
 * the service, through supertest (any app, any mount) or `fetch` (a server
 * the test started), and through `holdReceived` from other clients (node:http,
 * curl behind a recording proxy, Chromium), is held against `openapi.yaml`, preflights and error
 * paths included. A response the contract does not describe fails the test
 * that received it (or, received in a `beforeAll`/`afterAll`, its file).
 *
 * Whose answer it is: the service marks every answer with `X-Request-Id`; an
 * in-process app's answer on a path of the contract (after a host's mount
 * prefix) is the router's, marked or not. Anything else (the host app's own
 * routes, the test IdP's key set, Keycloak, whose admin API has our paths) is
 * another server's and not ours to check.
 *
 * Installed for every jest file by `setupFilesAfterEnv`.
 */
import type { BrowserContext } from 'playwright-core';
import { Test } from 'supertest';
import type { Response } from 'supertest';
import { contractPathOf, expectContract } from './contract';
import type { ContractResponse } from './contract';

const failures: string[] = [];
/** Checks of `fetch` answers whose body is still being read. */
const pending = new Set<Promise<void>>();

/** How many responses were held against the contract in this file so far. */
export const contractChecks = { count: 0 };

/** The check's own test: take the failures found so far, so that they fail nothing else. */
export function takeContractFailures(): string[] {
  return failures.splice(0);
}

function check(method: string, url: string, res: ContractResponse, inProcess: boolean): void {
  const { pathname, search } = new URL(url);
  const path = `${pathname}${search}`;
  const marked = res.headers['x-request-id'] !== undefined;
  const contractPath = contractPathOf(path);
  if (!marked && (contractPath === undefined || !inProcess)) return;
  contractChecks.count += 1;
  try {
    expectContract(method, contractPath ?? path, res);
  } catch (error) {
    failures.push((error as Error).message);
  }
}

/** The body of a JSON answer, parsed (a body that is not JSON fails its schema). */
function bodyOf(contentType: unknown, text: string): unknown {
  if (typeof contentType !== 'string' || !contentType.startsWith('application/json') || text === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Hold a response a test received with another client (`node:http`, a
 * recording proxy in front of curl) as supertest's and fetch's are: checked
 * when the service marked it.
 */
export function holdReceived(method: string, url: string, res: Omit<ContractResponse, 'body'>): void {
  check(method, url, { ...res, body: bodyOf(res.headers['content-type'], res.text) }, false);
}

/** Hold every answer of the service that a browser context receives: Chromium's navigations, redirects and form posts. */
export function holdBrowserResponses(context: BrowserContext): void {
  context.on('response', (response) => {
    const checking = (async () => {
      const headers: Record<string, unknown> = await response.allHeaders();
      if (headers['x-request-id'] === undefined) return;
      // Playwright joins repeated headers with a newline.
      if (typeof headers['set-cookie'] === 'string') headers['set-cookie'] = headers['set-cookie'].split('\n');
      // A revalidation the service answered 304 (Express's ETag) reaches the page as the cached 200,
      // with the 304's headers: hold what was on the wire.
      const request = await response.request().allHeaders();
      const revalidated = (request['if-none-match'] !== undefined || request['if-modified-since'] !== undefined) && headers['content-type'] === undefined;
      const status = revalidated ? 304 : response.status();
      // A redirect's body is not kept by the browser; the contract gives a 303 none.
      const text = status >= 300 && status < 400 ? '' : await response.text();
      holdReceived(response.request().method(), response.url(), { status, headers, text });
    })()
      .catch(() => undefined) // the page went away before its answer could be read
      .finally(() => pending.delete(checking));
    pending.add(checking);
  });
  // Closing the context would cut off the bodies still being read: let them finish first.
  const close = context.close.bind(context);
  context.close = async (...options) => {
    await Promise.all(pending);
    return close(...options);
  };
}

type Assert = (this: Test, error: unknown, res: Response | undefined, fn: unknown) => void;
const supertestTest = Test.prototype as unknown as { assert: Assert };
const assertOf = supertestTest.assert;
supertestTest.assert = function (this: Test & { method: string }, error, res, fn) {
  // A string target is a server outside this process (ours only when marked); a function or server is in-process.
  if (res) check(this.method, this.url, res, typeof this.app !== 'string');
  assertOf.call(this, error, res, fn);
};

const fetchOf = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const res = await fetchOf(input, init);
  if (res.headers.has('x-request-id')) {
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    // Read from a copy in the background: the test reads its own, at its own pace.
    const checking = res
      .clone()
      .text()
      .then((text) => {
        const headers: Record<string, unknown> = Object.fromEntries(res.headers);
        const cookies = res.headers.getSetCookie();
        if (cookies.length > 0) headers['set-cookie'] = cookies;
        holdReceived(method, res.url, { status: res.status, headers, text });
      })
      .catch(() => undefined) // a body cut off (the test aborted it) is not an answer
      .finally(() => pending.delete(checking));
    pending.add(checking);
  }
  return res;
};

async function failOnViolations(): Promise<void> {
  await Promise.all(pending);
  const found = failures.splice(0);
  if (found.length > 0) throw new Error(`${found.length} response(s) outside openapi.yaml:\n${found.join('\n')}`);
}

afterEach(failOnViolations);
afterAll(failOnViolations);
