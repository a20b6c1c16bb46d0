import { randomUUID } from "node:crypto";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { trace } from "@opentelemetry/api";
import { HTTPException } from "hono/http-exception";
import { routePath } from "hono/route";
import { createAuthenticator } from "./auth.ts";
import { limitBody, setResponseHeader } from "./node-http.ts";
import type { AppDeps, AppEnv } from "./context.ts";
import { ApiError } from "./errors.ts";
import { databaseUnavailable, sqlState } from "./sql-errors.ts";
import { ServiceQuotaExceededError } from "@sluice/db";
import { createRouter } from "./router.ts";
import { createRateLimiter } from "./rate-limit.ts";
import { createTelemetry } from "./telemetry.ts";
import { changesRouter } from "./routes/changes.ts";
import { deliveriesRouter } from "./routes/deliveries.ts";
import { derivationRouter } from "./routes/derivation.ts";
import { deploymentsRouter } from "./routes/deployments.ts";
import { gatesRouter } from "./routes/gates.ts";
import { gatesAuditRouter } from "./routes/gates-audit.ts";
import { gatesEvaluateRouter } from "./routes/gates-evaluate.ts";
import { healthRouter } from "./routes/health.ts";
import { metricsEndpointRouter } from "./routes/prometheus.ts";
import { incidentsRouter } from "./routes/incidents.ts";
import { integrationsRouter } from "./routes/integrations.ts";
import { metricsRouter } from "./routes/metrics.ts";
import { dataQualityRouter } from "./routes/data-quality.ts";
import { reportsRouter } from "./routes/reports.ts";
import { servicesRouter } from "./routes/services.ts";
import { teamsRouter } from "./routes/teams.ts";
import { sessionsRouter } from "./routes/sessions.ts";
import { tokensRouter } from "./routes/tokens.ts";
import { webhooksRouter } from "./webhooks/route.ts";

/** SPEC 7 v2: the largest body /evaluate, /check and /rollback read. */
export const GATE_BODY_BYTES = 64 * 1024;
const REQUEST_ID = /^[\w.:-]{1,128}$/;
const tracer = trace.getTracer("sluice");

/** Builds the whole HTTP app; opens no port and keeps no globals, so tests call app.request(). */
export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  const authenticate = createAuthenticator({ database: deps.database, adminToken: deps.config.adminToken, clock: deps.clock });
  const telemetry = deps.telemetry ?? createTelemetry();
  const requestDeps = {
    ...deps,
    authenticate,
    telemetry,
    tokenLimiter: createRateLimiter(deps.config.rateLimitPerMinute),
    webhookLimiter: createRateLimiter(deps.config.webhookRateLimitPerMinute),
  };
  const app = createRouter();

  app.use(async (c, next) => {
    const given = c.req.header("x-request-id");
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    c.set("requestId", requestId);
    c.set("deps", requestDeps);
    const started = performance.now();
    // A span per request; a no-op unless tracing was started (OTLP configured).
    let route = "";
    let seconds = 0;
    await tracer.startActiveSpan(`${c.req.method}`, async (span) => {
      try {
        await setResponseHeader(c, "x-request-id", requestId, next);
      } finally {
        seconds = (performance.now() - started) / 1000;
        // The matched route's template; an unmatched request has only the catch-all middleware's "/*".
        const matched = routePath(c, -1) || c.req.routePath;
        route = matched === "/*" || matched === "*" ? "" : matched;
        if (route) span.updateName(`${c.req.method} ${route}`);
        span.setAttributes({ "http.request.method": c.req.method, "http.route": route, "http.response.status_code": c.res.status });
        span.end();
      }
    });
    telemetry.recordRequest({ method: c.req.method, route, status: c.res.status, seconds });
    deps.logger.info({
      msg: "request",
      request_id: requestId,
      method: c.req.method,
      route: route || null,
      status: c.res.status,
      duration_ms: Math.round(seconds * 10_000) / 10,
    });
  });

  // Pipelines' gate questions are small; a body that is not is refused before anything reads
  // it, so an unauthenticated caller cannot make Flagger's metadata.token lookup parse megabytes.
  app.use(
    "/api/v1/gates/:slug/:action{evaluate|check|rollback}",
    limitBody({
      maxSize: GATE_BODY_BYTES,
      onError: () => {
        throw new ApiError({ status: 413, code: "payload_too_large", message: `gate requests take at most ${GATE_BODY_BYTES} bytes` });
      },
    }),
  );
  app.use(
    limitBody({
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
  app.route("/", metricsEndpointRouter);
  app.route("/api/v1", tokensRouter);
  app.route("/api/v1", sessionsRouter);
  app.route("/api/v1", teamsRouter);
  app.route("/api/v1", servicesRouter);
  app.route("/api/v1", integrationsRouter);
  app.route("/api/v1", deploymentsRouter);
  app.route("/api/v1", changesRouter);
  app.route("/api/v1", incidentsRouter);
  app.route("/api/v1", deliveriesRouter);
  app.route("/api/v1", derivationRouter);
  app.route("/api/v1", reportsRouter);
  app.route("/", webhooksRouter);
  app.route("/api/v1", gatesRouter);
  app.route("/api/v1", gatesEvaluateRouter);
  app.route("/api/v1", gatesAuditRouter);
  app.route("/api/v1", metricsRouter);
  app.route("/api/v1", dataQualityRouter);

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
    if (apiError.code === "database_unavailable") {
      deps.logger.warn({ msg: "the database is unreachable", request_id: c.var.requestId, err: error });
    } else if (apiError.status >= 500) {
      deps.logger.error({ msg: "unhandled error", request_id: c.var.requestId, err: error });
    }
    for (const [name, value] of Object.entries(apiError.headers)) c.header(name, value);
    return c.json(apiError.toJSON(), apiError.status);
  });

  return app;
}

/** How long a client is asked to wait while the database is unreachable. */
const DATABASE_RETRY_AFTER_SECONDS = 5;

function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  // A token that named one unknown repository too many (webhook deliveries record it instead).
  if (error instanceof ServiceQuotaExceededError) {
    return new ApiError({
      status: 403,
      code: "service_quota_exceeded",
      message:
        `this token has already created ${error.quota} services for repositories nobody claimed, its quota ` +
        "(SLUICE_AUTO_SERVICE_QUOTA); ask an admin to create the service or map the repository to one",
      details: { quota: error.quota, setting: "SLUICE_AUTO_SERVICE_QUOTA" },
    });
  }
  if (databaseUnavailable(error)) {
    return new ApiError({
      status: 503,
      code: "database_unavailable",
      message: "the database is unreachable; retry shortly",
      headers: { "retry-after": String(DATABASE_RETRY_AFTER_SECONDS) },
    });
  }
  // SQLSTATE class 22 (data exception: a NUL in text, a number or date out of range) can
  // only come from a value the client sent; the transaction has rolled back.
  if (sqlState(error)?.startsWith("22")) {
    return new ApiError({ status: 400, code: "invalid_request", message: "a value in the request cannot be stored (for example a NUL character or an out-of-range number)" });
  }
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
