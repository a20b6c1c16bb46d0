import { createRoute, z } from "@hono/zod-openapi";
import { DELIVERY_STATUSES, deliveries } from "@sluice/db";
import { and, desc, eq, lt, sql } from "drizzle-orm";
import { requireScope } from "../auth.ts";
import { decodeCursor, toPage } from "../pagination.ts";
import { createRouter } from "../router.ts";
import { errorResponses, isoDateTime, json, listQuery, page } from "../schemas.ts";
import { reprocessDeliveries } from "../webhooks/reprocess.ts";
import { SOURCES } from "./integrations.ts";

const Delivery = z
  .object({
    id: z.number().int(),
    integration_id: z.string(),
    source: z.string(),
    delivery_id: z.string(),
    event: z.string().nullable(),
    status: z.enum(DELIVERY_STATUSES),
    error: z.string().nullable().openapi({ description: "why it failed, or why it was ignored" }),
    events: z.number().int().openapi({ description: "normalized events it carried" }),
    body_retained: z.boolean(),
    received_at: isoDateTime,
    processed_at: isoDateTime.nullable(),
  })
  .openapi("Delivery");

const ReprocessReport = z
  .object({
    deliveries: z.number().int(),
    processed: z.number().int(),
    ignored: z.number().int(),
    failed: z.number().int(),
    events: z.number().int(),
    services: z.number().int(),
  })
  .openapi("ReprocessReport");

export const deliveriesRouter = createRouter();

deliveriesRouter.openapi(
  createRoute({
    method: "get",
    path: "/deliveries",
    tags: ["webhooks"],
    security: [{ bearer: [] }],
    middleware: [requireScope("admin")] as const,
    request: {
      query: z.object({
        ...listQuery,
        source: z.enum(SOURCES).optional(),
        status: z.enum(DELIVERY_STATUSES).optional(),
        integration: z.string().max(100).optional(),
      }),
    },
    responses: { 200: json(page(Delivery), "received webhook deliveries, newest first"), ...errorResponses(400, 401, 403) },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const after = decodeCursor(query.cursor);
    const fetched = await c.var.deps.database.db
      .select({
        id: deliveries.id,
        integrationId: deliveries.integrationId,
        source: deliveries.source,
        deliveryId: deliveries.deliveryId,
        event: deliveries.event,
        status: deliveries.status,
        error: deliveries.error,
        events: deliveries.events,
        // Whether the body is kept, without reading (and decompressing) it.
        bodyRetained: sql<boolean>`${deliveries.body} is not null`,
        receivedAt: deliveries.receivedAt,
        processedAt: deliveries.processedAt,
      })
      .from(deliveries)
      .where(
        and(
          after === undefined ? undefined : lt(deliveries.id, after),
          query.source ? eq(deliveries.source, query.source) : undefined,
          query.status ? eq(deliveries.status, query.status) : undefined,
          query.integration ? eq(deliveries.integrationId, query.integration) : undefined,
        ),
      )
      .orderBy(desc(deliveries.id))
      .limit(query.limit + 1);
    const result = toPage(fetched, query.limit, (row) => row.id);
    return c.json(
      {
        items: result.items.map((row) => ({
          id: row.id,
          integration_id: row.integrationId,
          source: row.source,
          delivery_id: row.deliveryId,
          event: row.event,
          status: row.status,
          error: row.error,
          events: row.events?.length ?? 0,
          body_retained: row.bodyRetained,
          received_at: row.receivedAt.toISOString(),
          processed_at: row.processedAt?.toISOString() ?? null,
        })),
        next_cursor: result.next_cursor,
      },
      200,
    );
  },
);

deliveriesRouter.openapi(
  createRoute({
    method: "post",
    path: "/admin/reprocess",
    tags: ["webhooks"],
    security: [{ bearer: [] }],
    middleware: [requireScope("admin")] as const,
    responses: { 200: json(ReprocessReport, "every stored delivery mapped and applied again"), ...errorResponses(401, 403) },
  }),
  async (c) => {
    const { deps } = c.var;
    const report = await reprocessDeliveries({ database: deps.database, now: deps.clock(), logger: deps.logger, autoServiceQuota: deps.config.autoServiceQuota });
    return c.json(report, 200);
  },
);
