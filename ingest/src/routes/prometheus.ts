import { secretsEqual } from "../auth.ts";
import { unauthorized } from "../errors.ts";
import { createRouter } from "../router.ts";

/**
 * GET /metrics: Sluice's own metrics in the Prometheus text format, on the main port (SPEC 9).
 * Open unless SLUICE_METRICS_TOKEN is set; then that bearer token is required.
 */
export const metricsEndpointRouter = createRouter();

metricsEndpointRouter.get("/metrics", async (c) => {
  const { config, telemetry } = c.var.deps;
  if (config.metricsToken) {
    const given = c.req.header("authorization")?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
    if (!given || !secretsEqual(given, config.metricsToken)) throw unauthorized("/metrics requires SLUICE_METRICS_TOKEN as a bearer token");
  }
  return c.body(await telemetry.scrape(), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
});
