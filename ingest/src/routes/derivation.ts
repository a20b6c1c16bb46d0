import { createRoute, z } from "@hono/zod-openapi";
import { retrySetAside, settleDerivation } from "@sluice/db";
import { requireScope } from "../auth.ts";
import { createRouter } from "../router.ts";
import { errorResponses, json, jsonBody, slug } from "../schemas.ts";
import { visibleService } from "./services.ts";

const RetryRequest = z
  .strictObject({ service: slug.optional().openapi({ description: "one service's entries; every service's when left out" }) })
  .openapi("DerivationRetryRequest");

const RetryReport = z
  .object({
    retried: z.number().int().openapi({ description: "set-aside entries given a fresh start" }),
    derived: z.number().int().openapi({ description: "entries derived by this call" }),
  })
  .openapi("DerivationRetryReport");

export const derivationRouter = createRouter();

/**
 * After a fix (a new release, a corrected row), an admin gives set-aside derivation entries a
 * fresh start (SPEC 10 v2): they are derived at once, and one that fails again gets its
 * attempts and back-off anew before being set aside again.
 */
derivationRouter.openapi(
  createRoute({
    method: "post",
    path: "/admin/derivation/retry",
    tags: ["admin"],
    summary: "Retry set-aside derivation entries",
    operationId: "retryDerivation",
    security: [{ bearer: [] }],
    middleware: [requireScope("admin")] as const,
    request: { body: jsonBody(RetryRequest) },
    responses: { 200: json(RetryReport, "the entries retried and what was derived"), ...errorResponses(400, 401, 403, 404) },
  }),
  async (c) => {
    const { db } = c.var.deps.database;
    const body = c.req.valid("json");
    const serviceIds = body.service === undefined ? undefined : [(await visibleService(db, c.var.principal, body.service)).id];
    const retried = await retrySetAside(db, serviceIds);
    const derived = retried > 0 ? await settleDerivation(db, serviceIds) : 0;
    return c.json({ retried, derived }, 200);
  },
);
