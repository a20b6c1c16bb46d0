import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { queryPrometheus } from "../../ingest/src/gates/rules/prometheus.ts";
import { type TestApp, createTestApp } from "../support/app.ts";
import { createGate, createService, evaluate } from "./gates-helpers.ts";

/**
 * A fake Prometheus: the query text chooses the behaviour, the answers are shaped as the
 * HTTP API documents them (https://prometheus.io/docs/prometheus/latest/querying/api/).
 */
const vector = (values: string[]) => ({
  status: "success",
  data: { resultType: "vector", result: values.map((v, i) => ({ metric: { pod: `p${i}` }, value: [1781524800, v] })) },
});

const answers: Record<string, { status: number; body: unknown; delayMs?: number; type?: string }> = {
  healthy: { status: 200, body: vector(["0.004"]) },
  burning: { status: 200, body: vector(["0.001", "0.31"]) },
  scalar: { status: 200, body: { status: "success", data: { resultType: "scalar", result: [1781524800, "0.98"] } } },
  slow: { status: 200, body: vector(["0.001"]), delayMs: 3000 },
  broken: {
    status: 400,
    body: { status: "error", errorType: "bad_data", error: 'invalid parameter "query": 1:8: parse error: unexpected end of input' },
  },
  empty: { status: 200, body: vector([]) },
  range: { status: 200, body: { status: "success", data: { resultType: "matrix", result: [] } } },
  proxy: { status: 502, body: "<html>Bad Gateway</html>", type: "text/html" },
};

let prometheus: Server;
let url: string;
const seen: string[] = [];

let t: TestApp;

beforeAll(async () => {
  prometheus = createServer((request, response) => {
    const requested = new URL(request.url ?? "/", "http://localhost");
    seen.push(`${request.method} ${requested.pathname} ${requested.searchParams.get("query")}`);
    const answer = answers[requested.searchParams.get("query") ?? ""] ?? { status: 404, body: "not found", type: "text/plain" };
    const send = () => {
      if (response.destroyed) return;
      response.writeHead(answer.status, { "content-type": answer.type ?? "application/json" });
      response.end(typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body));
    };
    if (answer.delayMs) setTimeout(send, answer.delayMs).unref();
    else send();
  });
  await new Promise<void>((resolve) => prometheus.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(prometheus.address() as AddressInfo).port}`;

  t = await createTestApp();
  await createService(t, "checkout");
});

afterAll(async () => {
  prometheus.closeAllConnections();
  await new Promise((resolve) => prometheus.close(resolve));
  await t.close();
});

async function gateWith(slug: string, rule: Record<string, unknown>) {
  await createGate(t, { slug, rules: [{ type: "prometheus", url, ...rule }] });
  return evaluate(t, slug, { service: "checkout" });
}

describe("the prometheus rule against a Prometheus HTTP API", () => {
  test("asks /api/v1/query with the query and passes within bounds", async () => {
    const result = await gateWith("prom-healthy", { query: "healthy", max: 0.01 });
    expect(result.decision).toBe("pass");
    expect(result.rules[0]).toMatchObject({ status: "pass", observed: 0.004, threshold: { min: null, max: 0.01 } });
    expect(seen).toContain("GET /api/v1/query healthy");
  });

  test("the worst of several series decides, and a scalar is read too", async () => {
    const burning = await gateWith("prom-burning", { query: "burning", max: 0.1 });
    expect(burning.rules[0]).toMatchObject({ status: "fail", observed: 0.31 });
    expect(burning.rules[0]?.message).toBe("The Prometheus query returned 0.31 across 2 series, above the maximum of 0.1.");
    const scalar = await gateWith("prom-scalar", { query: "scalar", min: 0.99 });
    expect(scalar.rules[0]).toMatchObject({ status: "fail", observed: 0.98 });
  });

  test("a slow Prometheus fails the rule at its timeout, and the request still answers 200", async () => {
    const started = performance.now();
    const result = await gateWith("prom-slow", { query: "slow", max: 1, timeout_ms: 250 });
    // The fake answers after 3 s: the rule gave up long before.
    expect(performance.now() - started).toBeLessThan(3000);
    expect(result.decision).toBe("fail");
    expect(result.rules[0]?.message).toBe("Prometheus did not answer within 250 ms, so the signal could not be checked.");
  });

  test("an error answer, no data, a range vector and a non-JSON proxy page each fail with a sentence", async () => {
    const broken = await gateWith("prom-broken", { query: "broken", max: 1 });
    expect(broken.rules[0]?.message).toBe(
      'Prometheus answered with an error (bad_data: invalid parameter "query": 1:8: parse error: unexpected end of input), so the signal could not be checked.',
    );
    const empty = await gateWith("prom-empty", { query: "empty", max: 1 });
    expect(empty.rules[0]?.message).toBe("The Prometheus query returned no data, so the signal could not be checked.");
    const range = await gateWith("prom-range", { query: "range", max: 1 });
    expect(range.rules[0]?.message).toContain("a matrix result; the rule needs an instant vector or scalar");
    const proxy = await gateWith("prom-proxy", { query: "proxy", max: 1 });
    expect(proxy.rules[0]?.message).toContain("HTTP 502 with a body that is not JSON");
    for (const result of [broken, empty, range, proxy]) expect(result.rules[0]?.status).toBe("fail");
  });

  test("an unreachable Prometheus fails the rule; a warn rule only warns", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    await createGate(t, {
      slug: "prom-dead",
      rules: [{ type: "prometheus", url: deadUrl, query: "up", min: 1, on_fail: "warn" }],
    });
    const result = await evaluate(t, "prom-dead", { service: "checkout" });
    expect(result).toMatchObject({ decision: "warn", allow: true });
    expect(result.rules[0]?.message).toContain("could not be reached (ECONNREFUSED)");
    const check = await t.request("/api/v1/gates/prom-dead/check", { method: "POST", json: { service: "checkout" } });
    expect(check.status).toBe(200);
  });

  test("queryPrometheus never throws, whatever the server does", async () => {
    for (const query of Object.keys(answers)) {
      const outcome = await queryPrometheus({ url, query, timeout_ms: 200 }, { allow: [] });
      expect(["values", "no_data", "timeout", "error", "bad_answer", "unreachable"]).toContain(outcome.kind);
    }
    expect(await queryPrometheus({ url: `${url}/`, query: "healthy", timeout_ms: 1000 }, { allow: [] })).toEqual({
      kind: "values",
      values: [0.004],
    });
  });
});
