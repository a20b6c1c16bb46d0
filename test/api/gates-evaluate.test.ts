import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { type TestApp, createTestApp } from "../support/app.ts";
import { createGate, createService, deploy, evaluate, openIncident, read, sha } from "./gates-helpers.ts";

const NOW = "2026-06-15T12:00:00Z";
let t: TestApp;

/** Six production deployments, one a day; incidents after the 2nd and 4th make two of them failed. */
async function history(service: string, failures: number[]) {
  for (let day = 0; day < 6; day++) {
    const date = `2026-06-${String(5 + day).padStart(2, "0")}`;
    await deploy(t, { service, sha: sha(`${service}-${day}`), started_at: `${date}T11:50:00Z`, finished_at: `${date}T12:00:00Z` });
    if (failures.includes(day)) {
      await openIncident(t, {
        service,
        external_id: `${service}-inc-${day}`,
        started_at: `${date}T13:00:00Z`,
        resolved_at: `${date}T14:00:00Z`,
      });
    }
  }
}

beforeAll(async () => {
  t = await createTestApp({ now: NOW });
  await createService(t, "checkout", "payments");
  await createService(t, "search", "discovery");
  await createService(t, "ledger", "payments");
  await history("checkout", [1, 3]);
  await history("search", []);
  await createGate(t, {
    slug: "dora",
    name: "DORA health",
    rules: [
      { type: "change_failure_rate", max: 0.2 },
      { type: "lead_time", max_seconds: 7 * 86_400 },
      { type: "recovery_time", max_seconds: 86_400 },
      { type: "deployment_frequency", min_per_week: 1 },
    ],
  });
  await createGate(t, {
    slug: "soak",
    rules: [{ type: "soak", environment: "staging", min_seconds: 1800 }, { type: "open_incidents" }],
  });
});
afterAll(() => t.close());
beforeEach(() => t.setNow(NOW));

describe("POST /api/v1/gates/:slug/evaluate", () => {
  test("the four DORA rules read the same numbers as the metrics API", async () => {
    const result = await evaluate(t, "dora", { service: "checkout", sha: sha("candidate") });
    expect(result).toMatchObject({
      gate: "dora",
      service: "checkout",
      environment: "production",
      sha: sha("candidate"),
      decision: "fail",
      allow: false,
      enforced: true,
      retry_after_seconds: null,
      evaluated_at: "2026-06-15T12:00:00.000Z",
      override: null,
    });
    expect(typeof result.evaluation_id).toBe("number");
    const [cfr, lead, recovery, frequency] = result.rules;
    expect(cfr).toMatchObject({ type: "change_failure_rate", status: "fail", observed: 0.3333, threshold: 0.2 });
    expect(cfr?.message).toBe(
      "Change failure rate is 33.3% (2 of 6 production deployments in the last 30 days), above the 20% limit.",
    );
    expect(lead).toMatchObject({ type: "lead_time", status: "pass" });
    expect(recovery).toMatchObject({ type: "recovery_time", status: "pass", observed: 7200 });
    expect(frequency).toMatchObject({ type: "deployment_frequency", status: "pass", observed: 1.4 });

    const metrics = await read(t.request(`/api/v1/metrics?service=checkout&from=2026-05-16T12:00:00Z&to=${NOW}`));
    expect(metrics.change_failure_rate.rate).toBe(cfr?.observed);
    expect(metrics.deployment_frequency.per_week).toBe(frequency?.observed);
  });

  test("a clean service passes; the GET form (Argo Rollouts' web provider) gives the same answer", async () => {
    const gateToken = await t.token(["gate"]);
    const posted = await evaluate(t, "dora", { service: "search" }, gateToken);
    expect(posted).toMatchObject({ decision: "pass", allow: true, sha: null });
    const response = await t.request(`/api/v1/gates/dora/evaluate?service=search&sha=${sha("x")}`, { token: gateToken });
    expect(response.status).toBe(200);
    expect(await read(response)).toMatchObject({ decision: "pass", allow: true, sha: sha("x") });
  });

  test("bad input is a 4xx naming the field, never a 500", async () => {
    const bad = await t.request("/api/v1/gates/dora/evaluate", { method: "POST", json: { service: "checkout", sha: "nothex!" } });
    expect(bad.status).toBe(400);
    expect((await read(bad)).error.details[0].field).toBe("sha");
    const malformed = await t.request("/api/v1/gates/dora/evaluate", {
      method: "POST",
      body: "{not json",
      headers: { "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);
    expect((await t.request("/api/v1/gates/dora/evaluate?sha=abc1234")).status).toBe(400);
    expect((await t.request("/api/v1/gates/nope/evaluate", { method: "POST", json: { service: "checkout" } })).status).toBe(404);
    expect((await t.request("/api/v1/gates/dora/evaluate", { method: "POST", json: { service: "ghost" } })).status).toBe(404);
  });

  test("a gate that does not cover the environment or service says so", async () => {
    await createGate(t, { slug: "payments-only", applies_to: { teams: ["payments"], environments: ["production"] }, rules: [] });
    const wrongEnv = await t.request("/api/v1/gates/payments-only/evaluate", {
      method: "POST",
      json: { service: "checkout", environment: "staging" },
    });
    expect(wrongEnv.status).toBe(400);
    expect((await read(wrongEnv)).error.details).toEqual([
      { field: "environment", message: 'the gate applies to "production", not "staging"' },
    ]);
    const wrongService = await t.request("/api/v1/gates/payments-only/evaluate", { method: "POST", json: { service: "search" } });
    expect((await read(wrongService)).error.details[0].field).toBe("service");
    expect((await evaluate(t, "payments-only", { service: "ledger" })).decision).toBe("pass");
  });

  test("only tokens with the gate scope evaluate, and a team-limited token only its team's services", async () => {
    const reader = await t.token(["read"]);
    expect((await t.request("/api/v1/gates/dora/evaluate", { method: "POST", json: { service: "search" }, token: reader })).status).toBe(403);
    expect((await t.request("/api/v1/gates/dora/evaluate", { method: "POST", json: { service: "search" }, token: null })).status).toBe(401);
    const paymentsGate = await t.token(["gate"], "payments");
    expect((await evaluate(t, "dora", { service: "checkout" }, paymentsGate)).service).toBe("checkout");
    const other = await t.request("/api/v1/gates/dora/evaluate", { method: "POST", json: { service: "search" }, token: paymentsGate });
    expect(other.status).toBe(403);
  });
});

describe("POST /api/v1/gates/:slug/check", () => {
  test("answers 403 for fail, 200 for pass, with the evaluation as the body", async () => {
    const failed = await t.request("/api/v1/gates/dora/check", { method: "POST", json: { service: "checkout" } });
    expect(failed.status).toBe(403);
    const body = await read(failed);
    expect(body).toMatchObject({ decision: "fail", allow: false, error: { code: "gate_failed" } });
    expect(body.error.message).toContain("Change failure rate is 33.3%");
    const passed = await t.request("/api/v1/gates/dora/check", { method: "POST", json: { service: "search" } });
    expect(passed.status).toBe(200);
  });

  test("a soak not yet done is 423 with Retry-After, then 200 once it is", async () => {
    await deploy(t, { service: "search", environment: "staging", sha: sha("s1"), finished_at: "2026-06-15T11:45:00Z" });
    const waiting = await t.request("/api/v1/gates/soak/check", { method: "POST", json: { service: "search", sha: sha("s1") } });
    expect(waiting.status).toBe(423);
    expect(waiting.headers.get("retry-after")).toBe("900");
    const body = await read(waiting);
    expect(body).toMatchObject({ decision: "pending", retry_after_seconds: 900, error: { code: "gate_pending" } });
    expect(body.rules[0].message).toBe(`${sha("s1").slice(0, 12)} has run in staging for 15m of the 30m required; 15m to go.`);
    t.setNow("2026-06-15T12:15:00Z");
    const done = await t.request("/api/v1/gates/soak/check", { method: "POST", json: { service: "search", sha: sha("s1").slice(0, 7) } });
    expect(done.status).toBe(200);
    expect((await read(done)).rules[0].status).toBe("pass");
  });

  test("an incident during the soak fails it, and an open incident fails the gate", async () => {
    await deploy(t, { service: "ledger", environment: "staging", sha: sha("l1"), finished_at: "2026-06-15T10:00:00Z" });
    await openIncident(t, { service: "ledger", external_id: "L-1", title: "timeouts", started_at: "2026-06-15T11:00:00Z" });
    const response = await t.request("/api/v1/gates/soak/check", { method: "POST", json: { service: "ledger", sha: sha("l1") } });
    expect(response.status).toBe(403);
    const body = await read(response);
    expect(body.rules.map((r: { status: string }) => r.status)).toEqual(["fail", "fail"]);
    expect(body.rules[0].message).toBe(`Incident L-1 "timeouts" opened 1h after ${sha("l1").slice(0, 12)} reached staging.`);
    await openIncident(t, { service: "ledger", external_id: "L-1", started_at: "2026-06-15T11:00:00Z", resolved_at: "2026-06-15T11:30:00Z" });
  });

  test("accepts Flagger's webhook body, with the token in metadata since Flagger cannot send headers", async () => {
    const gateToken = await t.token(["gate"]);
    await deploy(t, { service: "search", environment: "staging", sha: sha("f1"), finished_at: "2026-06-15T08:00:00Z" });
    const flagger = {
      name: "search",
      namespace: "prod",
      phase: "Promoting",
      checksum: "6d8f7c",
      metadata: { sha: sha("f1"), token: gateToken },
    };
    const response = await t.request("/api/v1/gates/soak/check", { method: "POST", json: flagger, token: null });
    expect(response.status).toBe(200);
    const { evaluation_id } = await read(response);
    // The service may also come from metadata.service, when the canary is named differently.
    const renamed = await t.request("/api/v1/gates/soak/check", {
      method: "POST",
      json: { ...flagger, name: "search-canary", metadata: { ...flagger.metadata, service: "search" } },
      token: null,
    });
    expect(renamed.status).toBe(200);
    // The audit log keeps the request, but not the token.
    const audit = await read(t.request("/api/v1/gates/soak/evaluations?limit=5"));
    const stored = audit.items.find((e: { id: number }) => e.id === evaluation_id);
    expect(stored.inputs.request.metadata).toEqual({ sha: sha("f1"), token: "[redacted]" });
    expect(stored.caller).toBe("test gate");
    expect(JSON.stringify(audit)).not.toContain(gateToken);
    const badSha = await t.request("/api/v1/gates/soak/check", {
      method: "POST",
      json: { ...flagger, metadata: { sha: "zz", token: gateToken } },
      token: null,
    });
    expect(badSha.status).toBe(400);
    expect((await read(badSha)).error.details[0].field).toBe("metadata.sha");
    const noToken = await t.request("/api/v1/gates/soak/check", { method: "POST", json: { name: "search" }, token: null });
    expect(noToken.status).toBe(401);
  });
});

describe("dry run", () => {
  test("records and returns the real decision, but allows, and /check answers 200", async () => {
    await createGate(t, { slug: "dora-dry", mode: "dry_run", rules: [{ type: "change_failure_rate", max: 0.2 }] });
    const result = await evaluate(t, "dora-dry", { service: "checkout" });
    expect(result).toMatchObject({ decision: "fail", allow: true, enforced: false });
    const check = await t.request("/api/v1/gates/dora-dry/check", { method: "POST", json: { service: "checkout" } });
    expect(check.status).toBe(200);
    const audit = await read(t.request("/api/v1/gates/dora-dry/evaluations"));
    expect(audit.items.map((e: { decision: string; allow: boolean }) => [e.decision, e.allow])).toEqual([
      ["fail", true],
      ["fail", true],
    ]);
  });
});

describe("overrides", () => {
  test("a matching unexpired override makes the evaluation pass, naming it, until it expires", async () => {
    const created = await t.request("/api/v1/gates/dora/overrides", {
      method: "POST",
      json: { service: "checkout", reason: "hotfix for INC-231", expires_at: "2026-06-15T13:00:00Z" },
    });
    expect(created.status).toBe(201);
    const override = await read(created);
    expect(override).toMatchObject({ gate: "dora", service: "checkout", sha: null, active: true, created_by: "SLUICE_ADMIN_TOKEN" });

    const during = await evaluate(t, "dora", { service: "checkout" });
    expect(during).toMatchObject({
      decision: "pass",
      allow: true,
      override: { id: override.id, reason: "hotfix for INC-231", expires_at: "2026-06-15T13:00:00.000Z" },
    });
    // The rules still show what was overridden.
    expect(during.rules[0]?.status).toBe("fail");
    expect((await t.request("/api/v1/gates/dora/check", { method: "POST", json: { service: "checkout" } })).status).toBe(200);

    t.setNow("2026-06-15T12:59:59Z");
    expect((await evaluate(t, "dora", { service: "checkout" })).decision).toBe("pass");
    t.setNow("2026-06-15T13:00:00Z");
    const after = await evaluate(t, "dora", { service: "checkout" });
    expect(after).toMatchObject({ decision: "fail", override: null });
    const listed = await read(t.request("/api/v1/gates/dora/overrides"));
    expect(listed.items[0]).toMatchObject({ id: override.id, active: false });
  });

  test("a sha override covers only that sha, and an override can be ended early", async () => {
    // After the general override of the test above has expired.
    t.setNow("2026-06-15T13:30:00Z");
    const created = await t.request("/api/v1/gates/dora/overrides", {
      method: "POST",
      json: { service: "checkout", sha: sha("hotfix"), reason: "revert of a bad release", expires_at: "2026-06-16T00:00:00Z" },
    });
    const override = await read(created);
    expect((await evaluate(t, "dora", { service: "checkout", sha: sha("hotfix") })).decision).toBe("pass");
    expect((await evaluate(t, "dora", { service: "checkout", sha: sha("hotfix").slice(0, 8) })).decision).toBe("pass");
    expect((await evaluate(t, "dora", { service: "checkout", sha: sha("other") })).decision).toBe("fail");
    expect((await evaluate(t, "dora", { service: "checkout" })).decision).toBe("fail");
    const ended = await t.request(`/api/v1/gates/dora/overrides/${override.id}`, { method: "DELETE" });
    expect(ended.status).toBe(200);
    expect((await read(ended)).active).toBe(false);
    expect((await evaluate(t, "dora", { service: "checkout", sha: sha("hotfix") })).decision).toBe("fail");
  });

  test("only admins create overrides, which need a reason and a future expiry", async () => {
    const gateToken = await t.token(["gate"]);
    const forbidden = await t.request("/api/v1/gates/dora/overrides", {
      method: "POST",
      json: { service: "checkout", reason: "please", expires_at: "2026-06-16T00:00:00Z" },
      token: gateToken,
    });
    expect(forbidden.status).toBe(403);
    const past = await t.request("/api/v1/gates/dora/overrides", {
      method: "POST",
      json: { service: "checkout", reason: "late", expires_at: "2026-06-15T11:00:00Z" },
    });
    expect((await read(past)).error.details).toEqual([{ field: "expires_at", message: "must be in the future" }]);
    const noReason = await t.request("/api/v1/gates/dora/overrides", {
      method: "POST",
      json: { service: "checkout", expires_at: "2026-06-16T00:00:00Z" },
    });
    expect((await read(noReason)).error.details[0].field).toBe("reason");
  });
});

describe("POST /api/v1/gates/:slug/rollback", () => {
  test("200 when an incident opened since the deployment under evaluation started, else 409", async () => {
    await createService(t, "cart");
    await createGate(t, { slug: "canary", rules: [{ type: "open_incidents", min_severity: "high" }] });
    const noDeployment = await t.request("/api/v1/gates/canary/rollback", { method: "POST", json: { name: "cart", namespace: "shop" } });
    expect(noDeployment.status).toBe(409);
    expect((await read(noDeployment)).error.code).toBe("no_rollback");

    await deploy(t, { service: "cart", sha: sha("c1"), status: "in_progress", started_at: "2026-06-15T11:30:00Z" });
    await openIncident(t, { service: "cart", external_id: "old", started_at: "2026-06-15T11:00:00Z", severity: "critical" });
    await openIncident(t, { service: "cart", external_id: "minor", started_at: "2026-06-15T11:40:00Z", severity: "low" });
    const calm = await t.request("/api/v1/gates/canary/rollback", { method: "POST", json: { name: "cart", metadata: { sha: sha("c1") } } });
    expect(calm.status).toBe(409);
    expect((await read(calm)).rollback).toBe(false);

    await openIncident(t, { service: "cart", external_id: "INC-77", title: "5xx spike", started_at: "2026-06-15T11:50:00Z", severity: "P1" });
    const rollback = await t.request("/api/v1/gates/canary/rollback", { method: "POST", json: { name: "cart", metadata: { sha: sha("c1") } } });
    expect(rollback.status).toBe(200);
    const body = await read(rollback);
    expect(body).toMatchObject({
      rollback: true,
      service: "cart",
      environment: "production",
      deployment: { sha: sha("c1"), started_at: "2026-06-15T11:30:00.000Z" },
      incidents: [{ external_id: "INC-77", title: "5xx spike", severity: "P1" }],
    });
    expect(body.message).toContain('Roll back: incident INC-77 "5xx spike" opened on cart');
  });
});

describe("GET /api/v1/gates/:slug/evaluations", () => {
  test("lists every evaluation with inputs, caller and result, newest first, by cursor", async () => {
    const named = await t.request("/api/v1/tokens", { method: "POST", json: { name: "deploy-pipeline", scopes: ["gate"] } });
    const { token, id: tokenId } = await read(named);
    await createGate(t, { slug: "audited", rules: [{ type: "open_incidents" }] });
    for (const label of ["a", "b", "c"]) await evaluate(t, "audited", { service: "search", sha: sha(label) }, token);
    const first = await read(t.request("/api/v1/gates/audited/evaluations?limit=2"));
    expect(first.items).toHaveLength(2);
    expect(first.items[0]).toMatchObject({
      gate: "audited",
      service: "search",
      environment: "production",
      sha: sha("c"),
      decision: "pass",
      allow: true,
      enforced: true,
      caller: "deploy-pipeline",
      caller_token_id: tokenId,
      override_id: null,
      inputs: {
        source: "evaluate",
        method: "POST",
        request: { service: "search", sha: sha("c") },
        gate: { mode: "enforce", rules: [{ type: "open_incidents", on_fail: "block", max: 0 }] },
      },
      evaluated_at: "2026-06-15T12:00:00.000Z",
    });
    expect(first.items[0].rules[0].message).toBe("No incident is open on search.");
    const second = await read(t.request(`/api/v1/gates/audited/evaluations?limit=2&cursor=${first.next_cursor}`));
    expect(second.items.map((e: { sha: string }) => e.sha)).toEqual([sha("a")]);
    expect(second.next_cursor).toBeNull();
    const filtered = await read(t.request("/api/v1/gates/audited/evaluations?decision=fail"));
    expect(filtered.items).toEqual([]);
  });

  test("a team-limited reader sees only its team's evaluations", async () => {
    const discovery = await t.token(["read"], "discovery");
    const seen = await read(t.request("/api/v1/gates/dora/evaluations?limit=1000", { token: discovery }));
    expect(seen.items.length).toBeGreaterThan(0);
    expect(new Set(seen.items.map((e: { service: string }) => e.service))).toEqual(new Set(["search"]));
    expect((await t.request("/api/v1/gates/dora/evaluations?service=checkout", { token: discovery })).status).toBe(403);
  });
});

describe("edits of a gate", () => {
  test("every edit is evaluated with the rules it wrote, even several within one millisecond", async () => {
    // The clock stands still here: the edits share their instant, and parsed rules are kept per gate version.
    await createGate(t, { slug: "edited", rules: [{ type: "deployment_frequency", min_per_week: 1 }] });
    expect((await evaluate(t, "edited", { service: "search" })).rules.map((r: { type: string }) => r.type)).toEqual(["deployment_frequency"]);
    for (const rules of [[{ type: "open_incidents" }], [{ type: "deployment_frequency", min_per_week: 100 }], [{ type: "open_incidents" }, { type: "lead_time", max_seconds: 60 }]]) {
      const patched = await t.request("/api/v1/gates/edited", { method: "PATCH", json: { rules } });
      expect(patched.status).toBe(200);
      const result = await evaluate(t, "edited", { service: "search" });
      expect(result.rules.map((r: { type: string; threshold: unknown }) => r.type)).toEqual(rules.map((r) => r.type));
      if (rules[0]?.type === "deployment_frequency") expect(result.rules[0]?.threshold).toBe(100);
    }
  });
});

describe("what an evaluation records of its gate", () => {
  test("a small gate's rules are kept whole; a gate of megabytes is recorded by version and digest, not copied into every row", async () => {
    const windows = Array.from({ length: 500 }, (_, i) => {
      const start = Date.UTC(2025, 0, 1) + i * 3_600_000;
      return { start: new Date(start).toISOString(), end: new Date(start + 1_800_000).toISOString() };
    });
    await createGate(t, { slug: "calendar", rules: Array.from({ length: 50 }, () => ({ type: "freeze", windows })) });
    await evaluate(t, "calendar", { service: "search" });
    const listed = await t.request("/api/v1/gates/calendar/evaluations");
    const text = await listed.text();
    expect(text.length).toBeLessThan(64 * 1024);
    const [row] = JSON.parse(text).items;
    expect(row.inputs.gate).toMatchObject({ mode: "enforce", updated_at: expect.any(String), rules: { omitted: expect.stringMatching(/^50 rules, \d+ bytes$/), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) } });

    const small = (await read(t.request("/api/v1/gates/soak/evaluations?limit=1"))).items[0];
    expect(small?.inputs.gate.rules).toEqual([
      { type: "soak", on_fail: "block", environment: "staging", min_seconds: 1800 },
      { type: "open_incidents", on_fail: "block", max: 0 },
    ]);
  });
});
