import { type IncomingHttpHeaders, type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import type { Open } from "../../ingest/src/gates/outbound-request.ts";
import { prometheus as judge, queryPrometheus } from "../../ingest/src/gates/rules/prometheus.ts";
import { type TestApp, createTestApp } from "../support/app.ts";
import { createGate, createService, evaluate, read } from "./gates-helpers.ts";

/**
 * SPEC 7 v2, prometheus rules. Every server here listens on 127.0.0.1. Addresses that must be
 * refused (link-local, metadata) are only ever given to queryPrometheus with a connection
 * layer that throws, so a regression fails a test instead of reaching them.
 */

const MARKER = "Body-Marker-7f3a";
const SECRET = "Bearer s3cret-prometheus-token";

const series = (n: number) => ({
  status: "success",
  data: { resultType: "vector", result: Array.from({ length: n }, () => ({ value: [0, "1"] })) },
});

let fake: Server;
let redirectTarget: Server;
let url: string;
let targetUrl: string;
const asked: Array<{ query: string | null; headers: IncomingHttpHeaders }> = [];
let targetRequests = 0;

function answer(query: string, response: import("node:http").ServerResponse) {
  const json = (status: number, body: unknown) => {
    response.writeHead(status, { "content-type": "application/json" });
    response.end(JSON.stringify(body));
  };
  switch (query) {
    case "healthy":
      return json(200, series(1));
    case "redirect":
      response.writeHead(302, { location: `${targetUrl}/api/v1/query?query=healthy` });
      return response.end();
    case "huge-chunked": {
      // 6 MB of valid JSON with no content-length: only counting what arrives can stop it.
      response.writeHead(200, { "content-type": "application/json" });
      response.write('{"status":"success","data":{"resultType":"vector","result":[]},"pad":"');
      const chunk = "x".repeat(64 * 1024);
      for (let i = 0; i < 96; i++) response.write(chunk);
      return response.end('"}');
    }
    case "huge-declared": {
      const body = `{"status":"success","data":{"resultType":"vector","result":[]},"pad":"${"x".repeat(6 * 1024 * 1024)}"}`;
      response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      return response.end(body);
    }
    case "many-series":
      return json(200, series(10_001));
    case "html-error":
      response.writeHead(500, { "content-type": "text/html" });
      return response.end(`<html><body>${MARKER}: upstream said no</body></html>`);
    case "odd-result-type":
      return json(200, { status: "success", data: { resultType: MARKER, result: [] } });
    case "odd-error-type":
      return json(422, { status: "error", errorType: MARKER, error: "execution: too many samples" });
    case "not-prometheus":
      return json(200, { message: MARKER });
    default:
      return json(404, { status: "error", errorType: "not_found", error: "unknown test query" });
  }
}

let t: TestApp;

beforeAll(async () => {
  redirectTarget = createServer((_request, response) => {
    targetRequests++;
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify(series(1)));
  });
  await new Promise<void>((resolve) => redirectTarget.listen(0, "127.0.0.1", resolve));
  targetUrl = `http://127.0.0.1:${(redirectTarget.address() as AddressInfo).port}`;

  fake = createServer((request, response) => {
    const query = new URL(request.url ?? "/", "http://localhost").searchParams.get("query");
    asked.push({ query, headers: request.headers });
    answer(query ?? "", response);
  });
  await new Promise<void>((resolve) => fake.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;

  t = await createTestApp();
  await createService(t, "checkout");
});

afterAll(async () => {
  for (const server of [fake, redirectTarget]) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await t.close();
});

async function gateWith(slug: string, rule: Record<string, unknown>) {
  await createGate(t, { slug, rules: [{ type: "prometheus", url, max: 10, ...rule }] });
  return evaluate(t, slug, { service: "checkout" });
}

/** A connection layer that fails the test's expectation if anything tries to open a socket. */
const forbiddenOpen = () =>
  vi.fn<Open>(() => {
    throw Object.assign(new Error("a socket was opened"), { code: "ETESTOPENED" });
  });

describe("prometheus answers are bounded", () => {
  test("a redirect is not followed: the target never hears a request", async () => {
    const result = await gateWith("sec-redirect", { query: "redirect" });
    expect(result.rules[0]).toMatchObject({ status: "fail" });
    expect(result.rules[0]?.message).toBe(
      `Prometheus at ${url} answered with a redirect (HTTP 302); redirects are not followed, so the signal could not be checked.`,
    );
    expect(targetRequests).toBe(0);
  });

  test("an answer over 5 MB is an error, whether or not it declares its length", async () => {
    for (const query of ["huge-chunked", "huge-declared"]) {
      const result = await gateWith(`sec-${query}`, { query });
      expect(result.rules[0]?.status).toBe("fail");
      expect(result.rules[0]?.message).toBe(
        `Prometheus at ${url} answered with more than 5 MB, the most a rule reads, so the signal could not be checked.`,
      );
    }
  });

  test("more than 10,000 series is an error", async () => {
    const result = await gateWith("sec-many", { query: "many-series" });
    expect(result.rules[0]?.message).toBe(
      `Prometheus at ${url} answered with 10,001 series, more than the 10,000 a rule reads, so the signal could not be checked.`,
    );
  });

  test("300,000 values are judged without overflowing the stack", () => {
    const values = Array.from({ length: 300_000 }, (_, i) => (i === 123_456 ? 9 : 0.5));
    const rule = { type: "prometheus", on_fail: "block", url, query: "q", max: 5, min: 0.1, timeout_ms: 1000 } as const;
    const verdict = judge(rule, { kind: "values", values });
    expect(verdict).toMatchObject({ status: "fail", observed: 9 });
    expect(verdict.message).toContain("across 300000 series");
  });

  test("a response body's text never reaches a rule's message or the audit log", async () => {
    const results = [
      await gateWith("sec-html", { query: "html-error" }),
      await gateWith("sec-result-type", { query: "odd-result-type" }),
      await gateWith("sec-error-type", { query: "odd-error-type" }),
      await gateWith("sec-not-prometheus", { query: "not-prometheus" }),
    ];
    expect(results.map((r) => r.rules[0]?.message)).toEqual([
      `Prometheus at ${url} answered with HTTP 500 with a body that is not JSON, so the signal could not be checked.`,
      `Prometheus at ${url} answered with an unknown result type; the rule needs an instant vector or scalar, so the signal could not be checked.`,
      // Prometheus' own error string is the one text of an answer that is repeated.
      "Prometheus answered with an error (execution: too many samples), so the signal could not be checked.",
      `Prometheus at ${url} answered with something that is not a Prometheus query result, so the signal could not be checked.`,
    ]);
    for (const slug of ["sec-html", "sec-result-type", "sec-error-type", "sec-not-prometheus"]) {
      const audit = await t.request(`/api/v1/gates/${slug}/evaluations`);
      expect(audit.status).toBe(200);
      expect(await audit.text()).not.toContain(MARKER);
    }
    expect(JSON.stringify(results)).not.toContain(MARKER);
  });
});

describe("prometheus credentials", () => {
  test("a URL with credentials is refused at save, naming the field and not echoing the password", async () => {
    const response = await t.request("/api/v1/gates", {
      method: "POST",
      json: { slug: "sec-creds", rules: [{ type: "prometheus", url: "http://reader:hunter2@127.0.0.1:9090", query: "up", min: 1 }] },
    });
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).not.toContain("hunter2");
    expect(JSON.parse(text).error.details).toEqual([
      { field: "rules.0.url", message: "must not hold credentials (user:password@); send them in headers, e.g. Authorization" },
    ]);
    await createGate(t, { slug: "sec-creds", rules: [{ type: "prometheus", url, query: "healthy", max: 1 }] });
    const patch = await t.request("/api/v1/gates/sec-creds", {
      method: "PATCH",
      json: { rules: [{ type: "prometheus", url: "https://:hunter2@prometheus.example", query: "up", min: 1 }] },
    });
    expect(patch.status).toBe(400);
    expect((await read(patch)).error.details.map((d: { field: string }) => d.field)).toEqual(["rules.0.url"]);
  });

  test("header names are validated and the client's own headers are refused", async () => {
    const response = await t.request("/api/v1/gates", {
      method: "POST",
      json: {
        slug: "sec-bad-headers",
        rules: [{ type: "prometheus", url, query: "up", min: 1, headers: { Host: "x", "Bad Name": "y", "X-Ok": "line\r\nInjected: 1" } }],
      },
    });
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).not.toContain("Injected");
    const fields = JSON.parse(text).error.details.map((d: { field: string }) => d.field).sort();
    expect(fields).toEqual(["rules.0.headers.Bad Name", "rules.0.headers.Host", "rules.0.headers.X-Ok"].sort());
  });

  test("headers are sent to Prometheus, shown as [redacted] in every answer, and never logged", async () => {
    const rule = { type: "prometheus", url, query: "healthy", max: 10, headers: { Authorization: SECRET, "X-Scope-OrgID": "tenant-a" } };
    const created = await t.request("/api/v1/gates", { method: "POST", json: { slug: "sec-headers", rules: [rule] } });
    expect(created.status).toBe(201);
    const shown = [await created.text()];
    const result = await evaluate(t, "sec-headers", { service: "checkout" });
    expect(result.decision).toBe("pass");
    const seen = asked.filter((a) => a.query === "healthy").at(-1);
    expect(seen?.headers).toMatchObject({ authorization: SECRET, "x-scope-orgid": "tenant-a", accept: "application/json" });

    const one = await t.request("/api/v1/gates/sec-headers");
    const list = await t.request("/api/v1/gates?limit=200");
    const patched = await t.request("/api/v1/gates/sec-headers", { method: "PATCH", json: { name: "Headers" } });
    const audit = await t.request("/api/v1/gates/sec-headers/evaluations");
    for (const response of [one, list, patched, audit]) {
      expect(response.status).toBe(200);
      shown.push(await response.text());
    }
    expect(JSON.parse(shown[1] ?? "{}").rules[0].headers).toEqual({ Authorization: "[redacted]", "X-Scope-OrgID": "[redacted]" });
    expect(JSON.parse(shown[4] ?? "{}").items[0].inputs.gate.rules[0].headers).toEqual({
      Authorization: "[redacted]",
      "X-Scope-OrgID": "[redacted]",
    });
    for (const text of [...shown, JSON.stringify(result), t.logText()]) {
      expect(text).not.toContain("s3cret-prometheus-token");
      expect(text).not.toContain("tenant-a");
    }
  });

  test("sending [redacted] back keeps the stored secret, only for the same Prometheus", async () => {
    await createGate(t, {
      slug: "sec-roundtrip",
      rules: [{ type: "prometheus", url, query: "healthy", max: 10, headers: { Authorization: SECRET } }],
    });
    const stored = await read(t.request("/api/v1/gates/sec-roundtrip"));
    // What the dashboard and an exported gates file send: the rules as shown, edited.
    const edited = stored.rules.map((r: Record<string, unknown>) => ({ ...r, max: 5 }));
    const patched = await t.request("/api/v1/gates/sec-roundtrip", { method: "PATCH", json: { rules: edited } });
    expect(patched.status).toBe(200);
    expect((await read(patched)).rules[0]).toMatchObject({ max: 5, headers: { Authorization: "[redacted]" } });
    await evaluate(t, "sec-roundtrip", { service: "checkout" });
    expect(asked.filter((a) => a.query === "healthy").at(-1)?.headers.authorization).toBe(SECRET);

    const elsewhere = await t.request("/api/v1/gates/sec-roundtrip", {
      method: "PATCH",
      json: { rules: [{ ...edited[0], url: targetUrl }] },
    });
    expect(elsewhere.status).toBe(400);
    expect((await read(elsewhere)).error.details.map((d: { field: string }) => d.field)).toEqual(["rules.0.headers.Authorization"]);
    const fresh = await t.request("/api/v1/gates", { method: "POST", json: { slug: "sec-fresh", rules: edited } });
    expect(fresh.status).toBe(400);
    expect((await read(fresh)).error.details.map((d: { field: string }) => d.field)).toEqual(["rules.0.headers.Authorization"]);
  });
});

describe("addresses prometheus rules may reach", () => {
  const rule = (target: string) => ({ url: target, query: "healthy", timeout_ms: 2000 });

  test("link-local and cloud metadata addresses, in any spelling, are refused without a lookup or a socket", async () => {
    const open = forbiddenOpen();
    const resolve = vi.fn(async () => [{ address: "127.0.0.1", family: 4 as const }]);
    for (const target of [
      "http://169.254.169.254/",
      "http://2852039166/", // 169.254.169.254 as one decimal number
      "http://0xa9fea9fe/",
      "http://0251.0376.0251.0376/",
      "http://[::ffff:169.254.169.254]/",
      "http://[fe80::1]:9090/",
      "http://[fd00:ec2::254]/",
      "http://100.100.100.200/",
      "http://metadata.google.internal/",
      "http://Metadata.Google.Internal./",
    ]) {
      const outcome = await queryPrometheus(rule(target), { allow: [], open, resolve });
      expect(outcome, target).toMatchObject({ kind: "refused" });
    }
    expect(open).not.toHaveBeenCalled();
    expect(resolve).not.toHaveBeenCalled();
  });

  test("a host name that resolves to a link-local address (or to one among others) is refused", async () => {
    const open = forbiddenOpen();
    for (const addresses of [
      [{ address: "169.254.169.254", family: 4 as const }],
      [
        { address: "127.0.0.1", family: 4 as const },
        { address: "169.254.170.2", family: 4 as const },
      ],
      [{ address: "::ffff:a9fe:a9fe", family: 6 as const }],
      [{ address: "fe80::1%eth0", family: 6 as const }],
    ]) {
      const outcome = await queryPrometheus(rule("http://prometheus.rebind.invalid:9090"), {
        allow: [],
        open,
        resolve: async () => addresses,
      });
      expect(outcome).toEqual({ kind: "refused", reason: "its host resolves to a link-local address" });
    }
    expect(open).not.toHaveBeenCalled();
    const verdict = judge(
      { type: "prometheus", on_fail: "block", url: "http://169.254.169.254/latest", query: "q", max: 1, timeout_ms: 1000 },
      { kind: "refused", reason: "its address is a link-local address" },
    );
    expect(verdict.message).toBe(
      "Prometheus at http://169.254.169.254 was not asked: its address is a link-local address, so the signal could not be checked.",
    );
  });

  test("the connection goes to the address that was checked: a name is looked up once", async () => {
    const resolve = vi.fn(async () => [{ address: "127.0.0.1", family: 4 as const }]);
    const port = (fake.address() as AddressInfo).port;
    // .invalid never resolves in real DNS: reaching the fake proves the checked address was used.
    const outcome = await queryPrometheus(rule(`http://prometheus.pinned.invalid:${port}`), { allow: [], resolve });
    expect(outcome).toEqual({ kind: "values", values: [1] });
    expect(resolve).toHaveBeenCalledTimes(1);
    expect(asked.at(-1)?.headers.host).toBe(`prometheus.pinned.invalid:${port}`);
  });

  test("with SLUICE_PROMETHEUS_ALLOW set, only what it lists is reached", async () => {
    const port = (fake.address() as AddressInfo).port;
    const allowed = await queryPrometheus(rule(url), { allow: ["127.0.0.1"] });
    expect(allowed).toEqual({ kind: "values", values: [1] });
    const byCidr = await queryPrometheus(rule(url), { allow: ["127.0.0.0/8"] });
    expect(byCidr).toEqual({ kind: "values", values: [1] });

    const open = forbiddenOpen();
    const resolve = vi.fn(async () => [{ address: "127.0.0.1", family: 4 as const }]);
    for (const [target, allow] of [
      [`http://localhost:${port}`, ["127.0.0.1"]],
      [url, ["10.0.0.0/8"]],
      [url, ["prometheus.monitoring"]],
      ["http://169.254.169.254/", ["127.0.0.0/8"]],
    ] as const) {
      expect(await queryPrometheus(rule(target), { allow, open, resolve })).toEqual({
        kind: "refused",
        reason: "its host is not listed in SLUICE_PROMETHEUS_ALLOW",
      });
    }
    expect(open).not.toHaveBeenCalled();
    expect(resolve).not.toHaveBeenCalled();

    // Listing a link-local block lets it through: the (stubbed) connection layer is asked for exactly that address.
    const stub = forbiddenOpen();
    const reached = await queryPrometheus(rule("http://169.254.169.254/"), { allow: ["169.254.0.0/16"], open: stub });
    expect(reached).toEqual({ kind: "unreachable", reason: "ETESTOPENED" });
    expect(stub).toHaveBeenCalledTimes(1);
    expect(stub.mock.calls[0]?.[1]).toMatchObject({ hostname: "169.254.169.254", path: "/api/v1/query?query=healthy" });
  });

  test("through the API, SLUICE_PROMETHEUS_ALLOW decides which rules reach their Prometheus", async () => {
    const port = (fake.address() as AddressInfo).port;
    const restricted = await createTestApp({ env: { SLUICE_PROMETHEUS_ALLOW: "127.0.0.1" } });
    try {
      await createService(restricted, "checkout");
      await createGate(restricted, { slug: "ip", rules: [{ type: "prometheus", url, query: "healthy", max: 10 }] });
      await createGate(restricted, {
        slug: "name",
        rules: [{ type: "prometheus", url: `http://localhost:${port}`, query: "healthy", max: 10 }],
      });
      const before = asked.length;
      expect((await evaluate(restricted, "ip", { service: "checkout" })).decision).toBe("pass");
      expect(asked.length).toBe(before + 1);
      const refused = await evaluate(restricted, "name", { service: "checkout" });
      expect(refused.rules[0]?.message).toBe(
        `Prometheus at http://localhost:${port} was not asked: its host is not listed in SLUICE_PROMETHEUS_ALLOW, so the signal could not be checked.`,
      );
      expect(asked.length).toBe(before + 1);
    } finally {
      await restricted.close();
    }
  });
});
