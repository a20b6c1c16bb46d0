import type { Attributes } from "@opentelemetry/api";
import { PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVICE_NAME,
  METRIC_HTTP_SERVER_REQUEST_DURATION,
} from "@opentelemetry/semantic-conventions";

/** DORA figures per service over the last 30 days, as the gauges publish them. */
export interface DoraSnapshot {
  service: string;
  deployments: number;
  leadTimeSeconds: number | null;
  changeFailureRate: number | null;
  recoveryTimeSeconds: number | null;
}

/**
 * Sluice's own metrics (SPEC 9), one MeterProvider per app (no globals), read by the main
 * port's /metrics. Every label comes from a bounded set (route templates, sources, statuses,
 * gate slugs, service slugs), and a cardinality limit caps each metric all the same.
 */
export interface Telemetry {
  recordRequest(input: { method: string; route: string; status: number; seconds: number }): void;
  webhookDelivery(source: string, status: string): void;
  eventsIngested(kind: string, count?: number): void;
  gateEvaluation(gate: string, decision: string): void;
  dbQuery(operation: string, seconds: number): void;
  setDora(snapshot: DoraSnapshot[]): void;
  /** The derivation queue as last counted: entries waiting (ready or backing off) and set aside. */
  setDerivation(counts: { queued: number; setAside: number }): void;
  /** The Prometheus text exposition format. */
  scrape(): Promise<string>;
  shutdown(): Promise<void>;
}

export const DEFAULT_CARDINALITY_LIMIT = 2000;

const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

export function createTelemetry(options: { cardinalityLimit?: number } = {}): Telemetry {
  const exporter = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: "sluice" }),
    readers: [exporter],
    views: [{ instrumentName: "*", aggregationCardinalityLimit: options.cardinalityLimit ?? DEFAULT_CARDINALITY_LIMIT }],
  });
  const meter = provider.getMeter("sluice");
  const serializer = new PrometheusSerializer();

  const requestDuration = meter.createHistogram(METRIC_HTTP_SERVER_REQUEST_DURATION, {
    description: "Duration of HTTP server requests.",
    unit: "s",
    advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] },
  });
  const deliveries = meter.createCounter("sluice_webhook_deliveries", { description: "Webhook deliveries received, by source and outcome." });
  const ingested = meter.createCounter("sluice_events_ingested", { description: "Normalized events stored, by kind." });
  const evaluations = meter.createCounter("sluice_gate_evaluations", { description: "Gate evaluations, by gate and decision." });
  const queryDuration = meter.createHistogram("db.client.operation.duration", {
    description: "Duration of database statements.",
    unit: "s",
    advice: { explicitBucketBoundaries: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] },
  });

  let dora: DoraSnapshot[] = [];
  const gauge = (name: string, description: string, unit: string, pick: (s: DoraSnapshot) => number | null) =>
    meter.createObservableGauge(name, { description, unit }).addCallback((result) => {
      for (const s of dora) {
        const value = pick(s);
        if (value !== null) result.observe(value, { service: s.service });
      }
    });
  gauge("sluice_dora_deployments", "Production deployments in the last 30 days.", "", (s) => s.deployments);
  gauge("sluice_dora_lead_time_seconds", "Median lead time for changes, last 30 days.", "", (s) => s.leadTimeSeconds);
  gauge("sluice_dora_change_failure_rate", "Change failure rate (0..1), last 30 days.", "", (s) => s.changeFailureRate);
  gauge("sluice_dora_recovery_time_seconds", "Median failed deployment recovery time, last 30 days.", "", (s) => s.recoveryTimeSeconds);

  let derivation = { queued: 0, setAside: 0 };
  meter
    .createObservableGauge("sluice_derivation_queued", { description: "Derivation entries waiting to be derived (ready or backing off after a failure)." })
    .addCallback((result) => result.observe(derivation.queued));
  meter
    .createObservableGauge("sluice_derivation_set_aside", {
      description: "Derivation entries set aside after failing repeatedly (listed in GET /api/v1/data-quality).",
    })
    .addCallback((result) => result.observe(derivation.setAside));

  // Event-loop delay since the last scrape (OpenTelemetry's nodejs.eventloop.delay.* names):
  // a request that holds the loop shows here first.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const loopGauge = (name: string, description: string, pick: () => number) =>
    meter.createObservableGauge(name, { description, unit: "s" }).addCallback((result) => {
      if (loopDelay.count > 0) result.observe(pick() / 1e9);
    });
  loopGauge("nodejs.eventloop.delay.p99", "Event loop delay, 99th percentile since the last scrape.", () => loopDelay.percentile(99));
  loopGauge("nodejs.eventloop.delay.max", "Longest event loop delay since the last scrape.", () => loopDelay.max);

  return {
    recordRequest: ({ method, route, status, seconds }) => {
      const attributes: Attributes = {
        [ATTR_HTTP_REQUEST_METHOD]: KNOWN_METHODS.has(method) ? method : "_OTHER",
        [ATTR_HTTP_RESPONSE_STATUS_CODE]: status,
      };
      // No matched route (a 404) gets no route attribute: raw paths would be unbounded.
      if (route) attributes[ATTR_HTTP_ROUTE] = route;
      requestDuration.record(seconds, attributes);
    },
    webhookDelivery: (source, status) => deliveries.add(1, { source, status }),
    eventsIngested: (kind, count = 1) => ingested.add(count, { kind }),
    gateEvaluation: (gate, decision) => evaluations.add(1, { gate, decision }),
    dbQuery: (operation, seconds) => queryDuration.record(seconds, { "db.operation.name": operation }),
    setDora: (snapshot) => {
      dora = snapshot;
    },
    setDerivation: (counts) => {
      derivation = counts;
    },
    scrape: async () => {
      const { resourceMetrics } = await exporter.collect();
      loopDelay.reset();
      return serializer.serialize(resourceMetrics);
    },
    shutdown: () => {
      loopDelay.disable();
      return provider.shutdown();
    },
  };
}
