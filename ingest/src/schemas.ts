import { z } from "@hono/zod-openapi";
import { patternProblem } from "@sluice/db";

/** ISO-8601 with a Z or an offset; stored as UTC. */
export const isoDateTime = z.iso
  .datetime({ offset: true, message: "must be an ISO-8601 date-time, e.g. 2026-01-31T12:00:00Z" })
  .openapi({ example: "2026-01-31T12:00:00Z" });

/** A stored time as the API writes it. */
export const isoOrNull = (date: Date | null | undefined): string | null => date?.toISOString() ?? null;

export const sha = z
  .string()
  .regex(/^[0-9a-fA-F]{7,64}$/, "must be a git commit sha (7 to 64 hex characters)")
  .transform((value) => value.toLowerCase())
  .openapi({ example: "9fceb02d0ae598e95dc970b74767f19372d61af8" });

export const slug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, "must be 1-63 lowercase letters, digits, '.', '_' or '-'")
  .openapi({ example: "checkout" });

export const repositoryName = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[\w.-]+(\/[\w.-]+)+$/, 'must be a repository path like "owner/name"')
  .openapi({ example: "octo/checkout" });

/**
 * A pattern a user supplies (production_pattern, deployment_pattern): RE2 syntax, matched in linear
 * time by @sluice/db's matchesPattern (SPEC 7 v2), so what RE2 cannot run (backreferences,
 * lookarounds) is refused here, in RE2's words.
 */
export const regexPattern = z
  .string()
  .max(500)
  .superRefine((value, ctx) => {
    const problem = patternProblem(value);
    if (problem !== null) {
      ctx.addIssue({
        code: "custom",
        message: `must be an RE2 regular expression (no backreferences or lookarounds): ${problem}`,
      });
    }
  })
  .openapi({ description: "RE2 syntax, case-insensitive, matched anywhere in the name (anchor with ^ and $)" });

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "invalid_request" }),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi("Error");

export const listQuery = {
  limit: z.coerce.number().int().min(1).max(1000).default(100).openapi({ description: "page size, at most 1000" }),
  cursor: z.string().max(200).optional().openapi({ description: "next_cursor of the previous page" }),
};

export const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), next_cursor: z.string().nullable() });

/** Standard error responses for the OpenAPI document. */
export function errorResponses(...statuses: Array<400 | 401 | 403 | 404 | 409 | 413 | 415 | 429>) {
  const descriptions: Record<number, string> = {
    400: "invalid JSON or fields; details name each bad field",
    401: "no or bad credentials",
    403: "the token's scope or team does not allow this",
    404: "not found",
    409: "conflict",
    413: "body too large",
    415: "wrong content type",
    429: "rate limited",
  };
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: descriptions[status] ?? "error", content: { "application/json": { schema: ErrorSchema } } },
    ]),
  );
}

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});
