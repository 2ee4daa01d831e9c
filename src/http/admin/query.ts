import type { Request } from 'express';
import { InvalidRequestError } from '../../errors';

/** Keycloak's page size when `max` is not given. */
const DEFAULT_MAX = 100;
/** A bound on one page, so one request cannot read a whole realm into memory. */
const MAX_PAGE = 10_000;

/**
 * The query of one request, read strictly: a parameter the route does not know
 * or a value of the wrong type is a 400 naming it, never silently ignored.
 */
export class Query {
  readonly #values: Record<string, unknown>;

  constructor(req: Request, known: readonly string[], ignored: readonly string[] = []) {
    this.#values = req.query;
    const unknownNames = Object.keys(this.#values).filter((name) => !known.includes(name) && !ignored.includes(name));
    if (unknownNames.length > 0) {
      throw new InvalidRequestError(`Unknown query parameter ${unknownNames.map((name) => `"${name}"`).join(', ')}; this route takes ${known.map((name) => `"${name}"`).join(', ')}.`);
    }
  }

  /** Every value of a repeatable parameter. */
  list(name: string): string[] | undefined {
    const value = this.#values[name];
    if (value === undefined) return undefined;
    const values = Array.isArray(value) ? value : [value];
    if (!values.every((item): item is string => typeof item === 'string')) throw new InvalidRequestError(`Query parameter "${name}" must be text.`);
    return values;
  }

  string(name: string): string | undefined {
    const values = this.list(name);
    if (values === undefined) return undefined;
    if (values.length > 1) throw new InvalidRequestError(`Query parameter "${name}" may be given once.`);
    return values[0];
  }

  boolean(name: string): boolean | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (value !== 'true' && value !== 'false') throw new InvalidRequestError(`Query parameter "${name}" must be true or false, got "${value}".`);
    return value === 'true';
  }

  integer(name: string, min: number, max: number): number | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!/^-?\d+$/.test(value) || n < min || n > max) throw new InvalidRequestError(`Query parameter "${name}" must be an integer from ${min} to ${max}, got "${value}".`);
    return n;
  }

  /** Keycloak's `dateFrom`/`dateTo`: `yyyy-MM-dd` (the whole day, UTC) or milliseconds since the epoch. */
  date(name: string, endOfDay: boolean): Date | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    const date = /^\d+$/.test(value) ? new Date(Number(value)) : /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T${endOfDay ? '23:59:59.999' : '00:00:00.000'}Z`) : new Date(Number.NaN);
    if (Number.isNaN(date.getTime())) throw new InvalidRequestError(`Query parameter "${name}" must be a date as yyyy-MM-dd or milliseconds since the epoch, got "${value}".`);
    return date;
  }

  page(): { first: number; max: number } {
    return { first: this.integer('first', 0, Number.MAX_SAFE_INTEGER) ?? 0, max: this.integer('max', 0, MAX_PAGE) ?? DEFAULT_MAX };
  }
}
