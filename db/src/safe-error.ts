/**
 * Errors as they may be logged or stored (SPEC 10 v2): without the values of the statement
 * that failed. drizzle's "Failed query" error carries the statement's parameters in its
 * message and `params`; PostgreSQL's errors carry row values in `detail` ("Failing row
 * contains ...", "Key (token_hash)=(...) already exists") and sometimes in the message
 * itself ('invalid input syntax for type bigint: "..."'). A new webhook secret, a token's
 * hash or an integration id would reach the log with them.
 */

export interface SafeError {
  type: string;
  message: string;
  code?: string;
  table?: string;
  column?: string;
  constraint?: string;
  stack?: string;
  cause?: SafeError;
}

const REDACTED = "[redacted]";
/** Shorter values ("1", "true") are not secrets, and replacing them would garble the text. */
const MIN_SECRET_LENGTH = 4;
const MAX_DEPTH = 5;

type ErrorLike = Error & {
  params?: unknown;
  parameters?: unknown;
  code?: unknown;
  table?: unknown;
  table_name?: unknown;
  column?: unknown;
  column_name?: unknown;
  constraint?: unknown;
  constraint_name?: unknown;
};

const chain = (error: unknown): unknown[] => {
  const found: unknown[] = [];
  for (let at = error; at !== undefined && at !== null && found.length < MAX_DEPTH; at = (at as { cause?: unknown }).cause) {
    found.push(at);
    if (!(at instanceof Error)) break;
  }
  return found;
};

/** Every parameter value of every statement in the error's cause chain, as text. */
function parameterValues(errors: unknown[]): string[] {
  const values = new Set<string>();
  const add = (value: unknown, depth = 0) => {
    if (value === null || value === undefined || depth > 3) return;
    if (Array.isArray(value)) {
      for (const inner of value) add(inner, depth + 1);
      return;
    }
    const text = value instanceof Date ? value.toISOString() : typeof value === "object" ? JSON.stringify(value) : String(value);
    if (text.length >= MIN_SECRET_LENGTH) values.add(text);
    // Arrays and objects also appear inside the message as their parts.
    if (typeof value === "object" && !(value instanceof Date)) for (const inner of Object.values(value)) add(inner, depth + 1);
  };
  for (const error of errors) {
    const { params, parameters } = error as ErrorLike;
    add(params);
    add(parameters);
  }
  // Longest first, so a value containing another is replaced whole.
  return [...values].sort((a, b) => b.length - a.length);
}

function scrub(text: string, values: string[]): string {
  // drizzle appends "\nparams: a,b,c" to its message (and so to the stack's first lines).
  let clean = text.replace(/\nparams: [^\n]*/g, "\nparams: [redacted]");
  for (const value of values) if (clean.includes(value)) clean = clean.replaceAll(value, REDACTED);
  return clean;
}

const str = (value: unknown) => (typeof value === "string" && value !== "" ? value : undefined);

function one(error: unknown, values: string[], depth: number, all: unknown[]): SafeError {
  if (!(error instanceof Error)) return { type: typeof error, message: scrub(String(error), values) };
  const e = error as ErrorLike;
  const next = all[depth + 1];
  return {
    type: e.name,
    message: scrub(e.message, values),
    ...(str(e.code) ? { code: str(e.code) } : {}),
    ...(str(e.table ?? e.table_name) ? { table: str(e.table ?? e.table_name) } : {}),
    ...(str(e.column ?? e.column_name) ? { column: str(e.column ?? e.column_name) } : {}),
    ...(str(e.constraint ?? e.constraint_name) ? { constraint: str(e.constraint ?? e.constraint_name) } : {}),
    ...(e.stack ? { stack: scrub(e.stack, values) } : {}),
    ...(next === undefined ? {} : { cause: one(next, values, depth + 1, all) }),
  };
}

/** The error for a log line: name, message, SQLSTATE and names of what failed, stack; no values. */
export function safeError(error: unknown): SafeError {
  const all = chain(error);
  return one(error, parameterValues(all), 0, all);
}

/**
 * One line for an operator (a delivery's or a request's last error): the driver's reason
 * and the statement it failed in, without values.
 */
export function safeErrorText(error: unknown): string {
  const all = chain(error);
  const values = parameterValues(all);
  if (!(error instanceof Error)) return scrub(String(error), values);
  const cause = error.cause instanceof Error ? scrub(error.cause.message, values) : undefined;
  const first = scrub(error.message, values).split("\n")[0]?.slice(0, 200) ?? "";
  return cause ? `${cause} (in ${first})` : scrub(error.message, values);
}
