import type { ContentfulStatusCode } from "hono/utils/http-status";

/** The one error shape of the API (SPEC 5): {"error": {code, message, details?}}. */
export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  readonly code: string;
  readonly details: unknown;
  readonly headers: Record<string, string>;

  constructor(options: {
    status: ContentfulStatusCode;
    code: string;
    message: string;
    details?: unknown;
    headers?: Record<string, string>;
  }) {
    super(options.message);
    this.name = "ApiError";
    this.status = options.status;
    this.code = options.code;
    this.details = options.details;
    this.headers = options.headers ?? {};
  }

  toJSON() {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

export const badRequest = (message: string, details?: unknown) =>
  new ApiError({ status: 400, code: "invalid_request", message, details });
export const notFound = (what: string) => new ApiError({ status: 404, code: "not_found", message: `${what} not found` });
export const conflict = (message: string, details?: unknown) =>
  new ApiError({ status: 409, code: "conflict", message, details });
export const unauthorized = (message = "a valid bearer token is required") =>
  new ApiError({
    status: 401,
    code: "unauthorized",
    message,
    headers: { "www-authenticate": 'Bearer realm="sluice"' },
  });
export const rateLimited = (retryAfterSeconds: number) =>
  new ApiError({
    status: 429,
    code: "rate_limited",
    message: `too many requests; retry in ${retryAfterSeconds} s`,
    details: { retry_after_seconds: retryAfterSeconds },
    headers: { "retry-after": String(retryAfterSeconds) },
  });
export const forbidden = (message: string) => new ApiError({ status: 403, code: "forbidden", message });

/** Field-by-field details of a zod failure, for `details`. */
export function fieldErrors(issues: ReadonlyArray<{ path: PropertyKey[]; message: string; code?: string }>) {
  return issues.map((issue) => ({
    field: issue.path.map(String).join(".") || "(body)",
    message: issue.message,
  }));
}
