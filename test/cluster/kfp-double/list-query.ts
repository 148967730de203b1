/**
 * KFP's list semantics: `filter` (a JSON v2beta1Filter, URL-encoded), `sort_by` ("created_at desc"),
 * `page_size` (default 20) and `page_token` (opaque; here a base64 offset).
 */
import { validateKfpBody } from './swagger.js';

export class KfpError extends Error {
  constructor(
    /** gRPC code: 3 invalid argument, 5 not found, 6 already exists, 9 failed precondition. */
    readonly code: number,
    message: string,
  ) {
    super(message);
  }

  get httpStatus(): number {
    return (
      ({ 3: 400, 5: 404, 6: 409, 9: 400, 12: 501, 16: 401, 7: 403 } as Record<number, number>)[
        this.code
      ] ?? 500
    );
  }
}

interface Predicate {
  key?: string;
  operation?: string;
  string_value?: string;
  int_value?: number;
  long_value?: string;
  timestamp_value?: string;
  string_values?: { values?: string[] };
  int_values?: { values?: number[] };
  long_values?: { values?: string[] };
}

type Row = Record<string, unknown>;

/** Field names a filter/sort key may use, mapped to the row's field (KFP accepts `name`). */
const KEY_ALIASES: Record<string, string> = { name: 'display_name', id: 'run_id' };

function fieldOf(row: Row, key: string): unknown {
  return row[KEY_ALIASES[key] ?? key];
}

function matches(row: Row, p: Predicate): boolean {
  const actual = fieldOf(row, p.key ?? '');
  const expected = p.string_value ?? p.int_value ?? p.long_value ?? p.timestamp_value ?? undefined;
  const list = p.string_values?.values ?? p.int_values?.values ?? p.long_values?.values ?? [];
  const cmp = (): number => {
    const a = typeof actual === 'string' && !Number.isNaN(Date.parse(actual)) && p.timestamp_value !== undefined
      ? Date.parse(actual) : Number(actual); // prettier-ignore
    const b = p.timestamp_value !== undefined ? Date.parse(p.timestamp_value) : Number(expected);
    return a - b;
  };
  switch (p.operation) {
    case 'EQUALS':
      return String(actual) === String(expected);
    case 'NOT_EQUALS':
      return String(actual) !== String(expected);
    case 'GREATER_THAN':
      return cmp() > 0;
    case 'GREATER_THAN_EQUALS':
      return cmp() >= 0;
    case 'LESS_THAN':
      return cmp() < 0;
    case 'LESS_THAN_EQUALS':
      return cmp() <= 0;
    case 'IN':
      return list.map(String).includes(String(actual));
    case 'IS_SUBSTRING':
      return String(actual).includes(String(expected));
    default:
      throw new KfpError(3, `Invalid filter operation: ${String(p.operation)}`);
  }
}

export interface ListQuery {
  filter?: string | null;
  sort_by?: string | null;
  page_size?: string | null;
  page_token?: string | null;
}

/** Applies filter, sort and paging; returns the page, total_size and next_page_token. */
export function applyListQuery<T extends Row>(
  rows: T[],
  query: ListQuery,
  sortableKeys: readonly string[],
): { page: T[]; total_size: number; next_page_token?: string } {
  let result = rows;
  if (query.filter !== undefined && query.filter !== null && query.filter !== '') {
    let filter: unknown;
    try {
      filter = JSON.parse(query.filter);
    } catch {
      throw new KfpError(3, `Invalid filter: not JSON: ${query.filter}`);
    }
    const errors = validateKfpBody('v2beta1Filter', filter);
    if (errors.length > 0) throw new KfpError(3, `Invalid filter: ${errors.join('; ')}`);
    const predicates = (filter as { predicates?: Predicate[] }).predicates ?? [];
    for (const p of predicates) {
      if (!sortableKeys.includes(p.key ?? '') && KEY_ALIASES[p.key ?? ''] === undefined) {
        throw new KfpError(3, `Invalid filter: unknown key "${String(p.key)}"`);
      }
    }
    result = result.filter((row) => predicates.every((p) => matches(row, p)));
  }
  const sortBy = (query.sort_by ?? '').trim();
  if (sortBy !== '') {
    const [key = '', direction = 'asc'] = sortBy.split(/\s+/);
    if (!sortableKeys.includes(key) && KEY_ALIASES[key] === undefined) {
      throw new KfpError(3, `Invalid sorting field: "${key}"`);
    }
    const sign = direction.toLowerCase() === 'desc' ? -1 : 1;
    result = [...result].sort((a, b) => {
      const x = String(fieldOf(a, key) ?? '');
      const y = String(fieldOf(b, key) ?? '');
      return sign * (x < y ? -1 : x > y ? 1 : 0);
    });
  }
  const pageSize = Number(query.page_size ?? '') > 0 ? Number(query.page_size) : 20;
  let offset = 0;
  if (query.page_token !== undefined && query.page_token !== null && query.page_token !== '') {
    offset = Number(Buffer.from(query.page_token, 'base64').toString('utf8'));
    if (!Number.isInteger(offset) || offset < 0) throw new KfpError(3, 'Invalid page token');
  }
  const page = result.slice(offset, offset + pageSize);
  const next = offset + pageSize < result.length ? offset + pageSize : undefined;
  return {
    page,
    total_size: result.length,
    ...(next !== undefined
      ? { next_page_token: Buffer.from(String(next)).toString('base64') }
      : {}),
  };
}
