import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../router.ts";
import { json } from "../schemas.ts";

const Health = z.object({
  status: z.enum(["ok", "unavailable"]),
  database: z.enum(["pglite", "postgres"]),
});

export const healthRouter = createRouter().openapi(
  createRoute({
    method: "get",
    path: "/healthz",
    tags: ["health"],
    responses: {
      200: json(Health, "the service and its database answer"),
      503: json(Health, "the database is unreachable"),
    },
  }),
  async (c) => {
    const { database } = c.var.deps;
    try {
      await database.ping();
      return c.json({ status: "ok" as const, database: database.kind }, 200);
    } catch {
      return c.json({ status: "unavailable" as const, database: database.kind }, 503);
    }
  },
);
