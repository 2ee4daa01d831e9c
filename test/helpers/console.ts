import type { BrowserContext } from 'playwright-core';
import { templateOf } from './contract';
import { holdBrowserResponses } from './contract-hook';

/**
 * What the admin console does in a browser, watched from outside: each admin
 * API call its pages make must be an operation of `openapi.yaml` (and every
 * answer of the service is held against it, by `holdBrowserResponses`); a
 * CSP violation or an uncaught error in a page is a problem.
 */
export class ConsoleWatch {
  readonly problems: string[] = [];
  readonly #operations = new Set<string>();

  /** @param serviceUrl the origin the console and the admin API are served from. */
  constructor(readonly serviceUrl: string) {}

  watch(context: BrowserContext): void {
    holdBrowserResponses(context);
    context.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) this.problems.push(`console: ${message.text()}`);
    });
    context.on('weberror', (error) => this.problems.push(`page error: ${error.error().message}`));
    context.on('request', (request) => {
      const url = new URL(request.url());
      if (url.origin !== this.serviceUrl || !url.pathname.startsWith('/admin/realms/')) return;
      const template = templateOf(url.pathname);
      if (template === undefined) this.problems.push(`${request.method()} ${url.pathname}: no route of openapi.yaml`);
      else this.#operations.add(`${request.method()} ${template}`);
    });
  }

  /** `METHOD /template` of each admin API operation the pages called, sorted. */
  operations(): string[] {
    return [...this.#operations].sort();
  }
}
