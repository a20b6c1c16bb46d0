import { createRoute, z } from "@hono/zod-openapi";
import { DELIVERY_STATUSES, deliveries, deliveryDays, integrations } from "@sluice/db";
import { and, desc, eq, lt, sql } from "drizzle-orm";
import { requireScope } from "../auth.ts";
import { badRequest } from "../errors.ts";
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

const DeliveryDay = z
  .object({
    day: z.string().openapi({ description: "UTC day the deliveries were received", example: "2026-01-31" }),
    integration_id: z.string(),
    source: z.string(),
    status: z.enum(DELIVERY_STATUSES),
    deliveries: z.number().int().openapi({ description: "how many were deleted" }),
  })
  .openapi("DeliveryDay");

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
    responses: {
      200: json(
        page(Delivery),
        "received webhook deliveries, newest first; ignored ones past SLUICE_DELIVERY_RETENTION_DAYS are deleted and counted in GET /deliveries/daily",
      ),
      ...errorResponses(400, 401, 403),
    },
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

/** The daily counts' key order, latest day first: (day, integration, status), all descending. */
type DayKey = { day: string; integration: string; status: string };

const encodeDayCursor = (key: DayKey) => Buffer.from(`d1:${key.day}:${key.status}:${key.integration}`).toString("base64url");

function decodeDayCursor(cursor: string | undefined): DayKey | undefined {
  if (cursor === undefined || cursor === "") return undefined;
  const match = Buffer.from(cursor, "base64url")
    .toString()
    .match(/^d1:(\d{4}-\d{2}-\d{2}):([a-z]{1,20}):([\w-]{1,100})$/);
  // A day that is no calendar day (2026-02-30) would fail in the database, as a 500.
  const time = Date.parse(`${match?.[1]}T00:00:00Z`);
  const real = !Number.isNaN(time) && new Date(time).toISOString().slice(0, 10) === match?.[1];
  if (!match?.[1] || !match[2] || !match[3] || !real) throw badRequest("invalid cursor", [{ field: "cursor", message: "is not a cursor this API gave" }]);
  return { day: match[1], status: match[2], integration: match[3] };
}

// Deliveries deleted by retention (webhooks/retention.ts) live on as daily counts.
deliveriesRouter.openapi(
  createRoute({
    method: "get",
    path: "/deliveries/daily",
    operationId: "listDeliveryDays",
    tags: ["webhooks"],
    summary: "Daily counts of the deliveries deleted past their retention",
    security: [{ bearer: [] }],
    middleware: [requireScope("admin")] as const,
    request: {
      query: z.object({
        ...listQuery,
        status: z.enum(DELIVERY_STATUSES).optional(),
        integration: z.string().max(100).optional(),
      }),
    },
    responses: {
      200: json(page(DeliveryDay), "per integration, UTC day received and status, the latest day first"),
      ...errorResponses(400, 401, 403),
    },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const after = decodeDayCursor(query.cursor);
    const fetched = await c.var.deps.database.db
      .select({ row: deliveryDays, source: integrations.source })
      .from(deliveryDays)
      .innerJoin(integrations, eq(integrations.id, deliveryDays.integrationId))
      .where(
        and(
          after === undefined
            ? undefined
            : sql`(${deliveryDays.day}, ${deliveryDays.integrationId}, ${deliveryDays.status}) < (${after.day}::date, ${after.integration}, ${after.status})`,
          query.status ? eq(deliveryDays.status, query.status) : undefined,
          query.integration ? eq(deliveryDays.integrationId, query.integration) : undefined,
        ),
      )
      .orderBy(desc(deliveryDays.day), desc(deliveryDays.integrationId), desc(deliveryDays.status))
      .limit(query.limit + 1);
    const items = fetched.slice(0, query.limit);
    const last = items.at(-1);
    return c.json(
      {
        items: items.map(({ row, source }) => ({
          day: row.day,
          integration_id: row.integrationId,
          source,
          status: row.status,
          deliveries: row.deliveries,
        })),
        next_cursor:
          fetched.length > query.limit && last ? encodeDayCursor({ day: last.row.day, integration: last.row.integrationId, status: last.row.status }) : null,
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
