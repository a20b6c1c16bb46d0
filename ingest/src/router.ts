import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "./context.ts";
import { ApiError, fieldErrors } from "./errors.ts";

/**
 * A sub-app whose validation failures all become the API's one error shape (SPEC 5),
 * naming each bad field. Every resource router is made with this.
 */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const issues = result.error.issues.flatMap((issue) =>
          issue.code === "unrecognized_keys"
            ? issue.keys.map((key) => ({ path: [...issue.path, key], message: "is not a known field" }))
            : [issue],
        );
        throw new ApiError({
          status: 400,
          code: "invalid_request",
          message: `invalid ${result.target === "json" ? "body" : result.target === "query" ? "query parameters" : result.target}`,
          details: fieldErrors(issues),
        });
      }
    },
  });
}
