import { randomBytes } from "node:crypto";
import { createRoute, z } from "@hono/zod-openapi";
import { integrations } from "@sluice/db";
import { desc, eq, sql } from "drizzle-orm";
import { requireScope } from "../auth.ts";
import { notFound } from "../errors.ts";
import { afterTimeKey, decodeTimeCursor, timeKeyMicros, toTimePage } from "../pagination.ts";
import { createRouter } from "../router.ts";
import { errorResponses, isoDateTime, json, jsonBody, listQuery, page } from "../schemas.ts";

export const SOURCES = ["github", "gitlab", "pagerduty", "alertmanager", "cdevents"] as const;

const CreateIntegration = z
  .strictObject({
    source: z.enum(SOURCES),
    name: z.string().trim().min(1).max(200).optional(),
    secret: z
      .string()
      .min(16, "must be at least 16 characters")
      .max(500)
      .optional()
      .openapi({ description: "the shared secret; generated when omitted" }),
    settings: z
      .strictObject({
        service_label: z
          .string()
          .max(200)
          .optional()
          .openapi({ description: "alertmanager: the label naming the service (default `service`)" }),
      })
      .optional(),
  })
  .openapi("CreateIntegration");

const Integration = z
  .object({
    id: z.string(),
    source: z.enum(SOURCES),
    name: z.string(),
    url: z.string().openapi({ description: "where the source posts, relative to Sluice's address" }),
    settings: z.record(z.string(), z.unknown()),
    created_at: isoDateTime,
    last_delivery_at: isoDateTime.nullable(),
  })
  .openapi("Integration");

const CreatedIntegration = Integration.extend({
  secret: z.string().openapi({ description: "shown once, never again" }),
}).openapi("CreatedIntegration");

type Row = typeof integrations.$inferSelect;
const toIntegration = (row: Row) => ({
  id: row.id,
  source: row.source as (typeof SOURCES)[number],
  name: row.name,
  url: `/webhooks/${row.source}/${row.id}`,
  settings: row.settings,
  created_at: row.createdAt.toISOString(),
  last_delivery_at: row.lastDeliveryAt?.toISOString() ?? null,
});

// Integration ids appear in webhook URLs: random, so one cannot enumerate endpoints.
const newId = () => randomBytes(12).toString("base64url").replace(/[-_]/g, "x").toLowerCase();

export const integrationsRouter = createRouter();
integrationsRouter.use("/integrations", requireScope("admin"));
integrationsRouter.use("/integrations/*", requireScope("admin"));

integrationsRouter.openapi(
  createRoute({
    method: "post",
    path: "/integrations",
    tags: ["integrations"],
    security: [{ bearer: [] }],
    request: { body: jsonBody(CreateIntegration) },
    responses: { 201: json(CreatedIntegration, "the endpoint and its secret, shown this once"), ...errorResponses(400, 401, 403) },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const secret = input.secret ?? randomBytes(24).toString("base64url");
    const [row] = await c.var.deps.database.db
      .insert(integrations)
      .values({
        id: newId(),
        source: input.source,
        name: input.name ?? `${input.source} webhook`,
        secrets: [secret],
        settings: input.settings ?? {},
      })
      .returning();
    if (!row) throw new Error("insert returned no row");
    return c.json({ ...toIntegration(row), secret }, 201);
  },
);

integrationsRouter.openapi(
  createRoute({
    method: "get",
    path: "/integrations",
    tags: ["integrations"],
    security: [{ bearer: [] }],
    request: { query: z.object(listQuery) },
    responses: { 200: json(page(Integration), "integrations, newest first, without secrets"), ...errorResponses(400, 401, 403) },
  }),
  async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const after = decodeTimeCursor(cursor);
    const time = sql`${integrations.createdAt}`;
    const fetched = await c.var.deps.database.db
      .select({ row: integrations, micros: timeKeyMicros(time) })
      .from(integrations)
      .where(afterTimeKey(time, integrations.id, after))
      .orderBy(desc(integrations.createdAt), desc(integrations.id))
      .limit(limit + 1);
    const paged = toTimePage(fetched, limit, (f) => ({ micros: f.micros, id: f.row.id }));
    const result = { items: paged.items.map((f) => f.row), next_cursor: paged.next_cursor };
    return c.json({ items: result.items.map(toIntegration), next_cursor: result.next_cursor }, 200);
  },
);

const UpdateIntegration = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    secrets: z
      .array(z.string().min(16, "must be at least 16 characters").max(500))
      .min(1)
      .max(5)
      .optional()
      .openapi({
        description:
          "replaces the active secrets; give the old and the new one during a rotation (PagerDuty generates its own: paste it here)",
      }),
    settings: CreateIntegration.shape.settings,
  })
  .refine((value) => Object.keys(value).length > 0, "name at least one of name, secrets, settings")
  .openapi("UpdateIntegration");

integrationsRouter.openapi(
  createRoute({
    method: "patch",
    path: "/integrations/{id}",
    tags: ["integrations"],
    security: [{ bearer: [] }],
    request: { params: z.object({ id: z.string().max(100) }), body: jsonBody(UpdateIntegration) },
    responses: { 200: json(Integration, "updated; secrets are never shown again"), ...errorResponses(400, 401, 403, 404) },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const [row] = await c.var.deps.database.db
      .update(integrations)
      .set({
        ...(input.name ? { name: input.name } : {}),
        ...(input.secrets ? { secrets: input.secrets } : {}),
        ...(input.settings ? { settings: input.settings } : {}),
      })
      .where(eq(integrations.id, c.req.valid("param").id))
      .returning();
    if (!row) throw notFound("integration");
    return c.json(toIntegration(row), 200);
  },
);

integrationsRouter.openapi(
  createRoute({
    method: "delete",
    path: "/integrations/{id}",
    tags: ["integrations"],
    security: [{ bearer: [] }],
    request: { params: z.object({ id: z.string().max(100) }) },
    responses: { 204: { description: "deleted, with its deliveries" }, ...errorResponses(401, 403, 404) },
  }),
  async (c) => {
    const deleted = await c.var.deps.database.db
      .delete(integrations)
      .where(eq(integrations.id, c.req.valid("param").id))
      .returning({ id: integrations.id });
    if (deleted.length === 0) throw notFound("integration");
    return c.body(null, 204);
  },
);
