import { randomUUID } from "node:crypto";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { routePath } from "hono/route";
import { createAuthenticator } from "./auth.ts";
import type { AppDeps, AppEnv } from "./context.ts";
import { ApiError } from "./errors.ts";
import { createRouter } from "./router.ts";
import { changesRouter } from "./routes/changes.ts";
import { deploymentsRouter } from "./routes/deployments.ts";
import { healthRouter } from "./routes/health.ts";
import { incidentsRouter } from "./routes/incidents.ts";
import { integrationsRouter } from "./routes/integrations.ts";
import { servicesRouter } from "./routes/services.ts";
import { teamsRouter } from "./routes/teams.ts";
import { tokensRouter } from "./routes/tokens.ts";

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Builds the whole HTTP app; opens no port and keeps no globals, so tests call app.request(). */
export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  const authenticate = createAuthenticator({ database: deps.database, adminToken: deps.config.adminToken });
  const requestDeps = { ...deps, authenticate };
  const app = createRouter();

  app.use(async (c, next) => {
    const given = c.req.header("x-request-id");
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    c.set("requestId", requestId);
    c.set("deps", requestDeps);
    const started = performance.now();
    await next();
    c.header("x-request-id", requestId);
    deps.logger.info({
      msg: "request",
      request_id: requestId,
      method: c.req.method,
      route: routePath(c, -1) || c.req.routePath,
      status: c.res.status,
      duration_ms: Math.round((performance.now() - started) * 10) / 10,
    });
  });

  app.use(
    bodyLimit({
      maxSize: deps.config.maxBodyBytes,
      onError: () => {
        throw new ApiError({
          status: 413,
          code: "payload_too_large",
          message: `the body exceeds ${deps.config.maxBodyBytes} bytes`,
        });
      },
    }),
  );

  app.route("/", healthRouter);
  app.route("/api/v1", tokensRouter);
  app.route("/api/v1", teamsRouter);
  app.route("/api/v1", servicesRouter);
  app.route("/api/v1", integrationsRouter);
  app.route("/api/v1", deploymentsRouter);
  app.route("/api/v1", changesRouter);
  app.route("/api/v1", incidentsRouter);

  app.doc31("/api/v1/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Sluice API",
      version: "1",
      description: "Deployment metrics (DORA) and promotion gates. See SPEC section 5.",
    },
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });

  app.get("/", (c) =>
    c.json({
      name: "sluice",
      api: "/api/v1",
      openapi: "/api/v1/openapi.json",
      health: "/healthz",
    }),
  );

  app.notFound((c) =>
    c.json({ error: { code: "not_found", message: `no route for ${c.req.method} ${c.req.path}` } }, 404),
  );

  app.onError((error, c) => {
    const apiError = toApiError(error);
    if (apiError.status >= 500) {
      deps.logger.error({ msg: "unhandled error", request_id: c.var.requestId, err: error });
    }
    for (const [name, value] of Object.entries(apiError.headers)) c.header(name, value);
    return c.json(apiError.toJSON(), apiError.status);
  });

  return app;
}

function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof HTTPException) {
    if (error.status === 400) {
      return new ApiError({ status: 400, code: "invalid_json", message: "the body is not valid JSON" });
    }
    if (error.status === 413) {
      return new ApiError({ status: 413, code: "payload_too_large", message: "the body is too large" });
    }
    if (error.status === 415) {
      return new ApiError({
        status: 415,
        code: "unsupported_media_type",
        message: "send the body as application/json",
      });
    }
    return new ApiError({ status: error.status, code: "http_error", message: error.message || "request failed" });
  }
  return new ApiError({ status: 500, code: "internal_error", message: "an internal error occurred" });
}
