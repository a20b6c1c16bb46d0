import { createHmac, createPublicKey, generateKeyPairSync, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { type IncomingMessage, type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { gateProtectionRequests, services } from "@sluice/db";
import { createApp, createLogger, loadConfig } from "@sluice/ingest";
import { eq, sql } from "drizzle-orm";
import { jwtVerify } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { handleDeploymentProtectionRule, runDueProtectionRequests } from "../../ingest/src/gates/github-app.ts";
import { startGateScheduler } from "../../ingest/src/gates/scheduler.ts";
import { ADMIN_TOKEN, type TestApp, createTestApp } from "../support/app.ts";
import { repoRoot } from "../support/server.ts";
import { createGate, createService, deploy, openIncident, read, sha } from "./gates-helpers.ts";

const APP_ID = "123456";
// A throwaway key, PKCS#1 PEM like the keys GitHub hands out.
const { privateKey, publicKey: publicPem } = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  privateKeyEncoding: { type: "pkcs1", format: "pem" },
  publicKeyEncoding: { type: "spki", format: "pem" },
});
const publicKey = createPublicKey(publicPem);

interface Call {
  method: string;
  path: string;
  authorization: string;
  body: Record<string, unknown> | null;
}

/** A fake GitHub Enterprise API (/api/v3) that checks the App JWT and records every call. */
class FakeGitHub {
  server: Server;
  calls: Call[] = [];
  jwtProblems: string[] = [];
  failCallbacks = 0;
  url = "";
  now = new Date();

  constructor() {
    this.server = createServer((request, response) => void this.handle(request, response));
  }

  async start() {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/v3`;
  }

  callbacks() {
    return this.calls.filter((call) => call.path.endsWith("/deployment_protection_rule"));
  }

  private async verifyJwt(authorization: string) {
    const token = authorization.replace(/^Bearer /, "");
    try {
      const { payload, protectedHeader } = await jwtVerify(token, publicKey, {
        algorithms: ["RS256"],
        issuer: APP_ID,
        currentDate: this.now,
      });
      const issuedAt = payload.iat ?? 0;
      if (protectedHeader.alg !== "RS256") this.jwtProblems.push("alg");
      if (issuedAt !== Math.floor(this.now.getTime() / 1000) - 60) this.jwtProblems.push("iat is not 60 s in the past");
      if ((payload.exp ?? 0) - issuedAt > 600) this.jwtProblems.push("exp more than 10 minutes after iat");
      return true;
    } catch (error) {
      this.jwtProblems.push((error as Error).message);
      return false;
    }
  }

  private async handle(request: IncomingMessage, response: import("node:http").ServerResponse) {
    let raw = "";
    for await (const chunk of request) raw += chunk;
    const path = (request.url ?? "").replace(/^\/api\/v3/, "");
    const authorization = request.headers.authorization ?? "";
    this.calls.push({ method: request.method ?? "", path, authorization, body: raw ? JSON.parse(raw) : null });
    const send = (status: number, body?: unknown) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(body === undefined ? "" : JSON.stringify(body));
    };
    const installation = path.match(/^\/app\/installations\/(\d+)\/access_tokens$/);
    if (request.method === "POST" && installation) {
      if (!(await this.verifyJwt(authorization))) return send(401, { message: "A JSON web token could not be decoded" });
      return send(201, { token: `ghs_installation_${installation[1]}`, expires_at: "2026-06-15T13:00:00Z" });
    }
    if (request.method === "GET" && /^\/repos\/[^/]+\/[^/]+\/installation$/.test(path)) {
      if (!(await this.verifyJwt(authorization))) return send(401, { message: "bad JWT" });
      return send(200, { id: 777 });
    }
    if (request.method === "POST" && path.endsWith("/deployment_protection_rule")) {
      if (!authorization.startsWith("Bearer ghs_installation_")) return send(401, { message: "Bad credentials" });
      if (this.failCallbacks > 0) {
        this.failCallbacks--;
        return send(502, { message: "Server Error" });
      }
      return send(204);
    }
    send(404, { message: "Not Found" });
  }
}

const github = new FakeGitHub();
let t: TestApp;
let now = new Date("2026-06-15T12:00:00Z");
let deps: Parameters<typeof handleDeploymentProtectionRule>[0];
let runs = 0;

const setNow = (iso: string) => {
  now = new Date(iso);
  github.now = now;
  t.setNow(now);
};

async function serviceId(slug: string) {
  const [row] = await t.database.db.select({ id: services.id }).from(services).where(eq(services.slug, slug));
  return row?.id as number;
}

/** What GitHub's deployment_protection_rule delivery carries, as the webhook receiver passes it on. */
async function protectionRule(service: string, input: { environment?: string; sha?: string; installationId?: number | null } = {}) {
  runs++;
  await handleDeploymentProtectionRule(deps, {
    serviceId: await serviceId(service),
    environment: input.environment ?? "production",
    sha: input.sha ?? sha(`run-${runs}`),
    deploymentCallbackUrl: `${github.url}/repos/octo/${service}/actions/runs/${1000 + runs}/deployment_protection_rule`,
    repository: `octo/${service}`,
    ...(input.installationId === null ? {} : { installationId: input.installationId ?? 42 }),
  });
  return `/repos/octo/${service}/actions/runs/${1000 + runs}/deployment_protection_rule`;
}

/** A deployment_protection_rule delivery, signed with the integration's secret as GitHub signs it. */
function deliver(app: ReturnType<typeof createApp>, integration: { url: string; secret: string }, body: string) {
  return app.request(integration.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": "deployment_protection_rule",
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": `sha256=${createHmac("sha256", integration.secret).update(body).digest("hex")}`,
    },
    body,
  });
}

async function requestRow(callbackPath: string) {
  const [row] = await t.database.db
    .select()
    .from(gateProtectionRequests)
    .where(eq(gateProtectionRequests.callbackUrl, `${github.url}${callbackPath}`));
  return row;
}

beforeAll(async () => {
  await github.start();
  const env = { SLUICE_GITHUB_APP_ID: APP_ID, SLUICE_GITHUB_APP_PRIVATE_KEY: privateKey.replaceAll("\n", "\\n"), SLUICE_GITHUB_API_URL: github.url };
  t = await createTestApp({ env });
  deps = {
    database: t.database,
    config: loadConfig({ SLUICE_ADMIN_TOKEN: ADMIN_TOKEN, ...env }),
    logger: createLogger("silent"),
    clock: () => now,
  };
  for (const service of ["checkout", "search", "ledger", "docs", "broken"]) await createService(t, service);
  await createGate(t, {
    slug: "production",
    applies_to: { services: ["checkout", "search", "ledger", "broken"], environments: ["production"] },
    rules: [{ type: "open_incidents" }, { type: "soak", environment: "staging", min_seconds: 1800 }],
  });
  await createGate(t, {
    slug: "observe-only",
    mode: "dry_run",
    applies_to: { services: ["checkout"], environments: ["production"] },
    rules: [{ type: "deployment_frequency", min_per_week: 5 }],
  });
});

afterAll(async () => {
  github.server.closeAllConnections();
  await new Promise((resolve) => github.server.close(resolve));
  await t.close();
});

beforeEach(() => {
  setNow("2026-06-15T12:00:00Z");
  github.calls = [];
  github.jwtProblems = [];
});

describe("GitHub deployment protection rules", () => {
  test("a passing gate is approved as the GitHub App: JWT, installation token, then the callback", async () => {
    await deploy(t, { service: "checkout", environment: "staging", sha: sha("good"), finished_at: "2026-06-15T10:00:00Z" });
    const callback = await protectionRule("checkout", { sha: sha("good") });
    expect(github.calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      "POST /app/installations/42/access_tokens",
      `POST ${callback}`,
    ]);
    expect(github.jwtProblems).toEqual([]);
    const answer = github.callbacks()[0];
    expect(answer?.authorization).toBe("Bearer ghs_installation_42");
    expect(answer?.body).toMatchObject({ environment_name: "production", state: "approved" });
    const comment = String(answer?.body?.comment);
    expect(comment).toContain(`Sluice approved checkout@${sha("good").slice(0, 12)} to production.`);
    expect(comment).toContain("Gate production (pass):");
    expect(comment).toContain("Gate observe-only (fail, dry run):");
    const row = await requestRow(callback);
    expect(row).toMatchObject({ status: "approved", decidedAt: now });
    expect(row?.evaluationIds).toHaveLength(2);
    const audit = await read(t.request("/api/v1/gates/production/evaluations?limit=1"));
    expect(audit.items[0]).toMatchObject({
      caller: "GitHub deployment protection rule",
      caller_token_id: null,
      decision: "pass",
      inputs: { source: "github" },
    });
  });

  test("a failing gate is rejected with the reasons as the comment", async () => {
    await deploy(t, { service: "ledger", environment: "staging", sha: sha("l"), finished_at: "2026-06-15T09:00:00Z" });
    await openIncident(t, { service: "ledger", external_id: "INC-5", title: "payments failing", started_at: "2026-06-14T08:00:00Z" });
    const callback = await protectionRule("ledger", { sha: sha("l") });
    const [answer] = github.callbacks();
    expect(answer?.body).toMatchObject({ environment_name: "production", state: "rejected" });
    expect(String(answer?.body?.comment)).toContain('- fail: 1 open incident on ledger (INC-5 "payments failing"), more than the 0 allowed.');
    expect((await requestRow(callback))?.status).toBe("rejected");
  });

  test("pending sends one status report, then the scheduler re-evaluates until the soak is done", async () => {
    await deploy(t, { service: "search", environment: "staging", sha: sha("soaking"), finished_at: "2026-06-15T11:50:00Z" });
    const callback = await protectionRule("search", { sha: sha("soaking") });
    const [report] = github.callbacks();
    expect(report?.body).toEqual({
      environment_name: "production",
      comment: expect.stringContaining("Sluice is waiting before search@"),
    });
    expect(report?.body).not.toHaveProperty("state");
    expect(await requestRow(callback)).toMatchObject({
      status: "pending",
      nextAttemptAt: new Date("2026-06-15T12:05:00Z"),
    });

    // Not due yet: nothing happens.
    setNow("2026-06-15T12:04:59Z");
    expect(await runDueProtectionRequests(deps)).toBe(0);
    // Due, still soaking: re-evaluated quietly (no second status report).
    setNow("2026-06-15T12:05:00Z");
    expect(await runDueProtectionRequests(deps)).toBe(1);
    expect(github.callbacks()).toHaveLength(1);
    expect((await requestRow(callback))?.nextAttemptAt).toEqual(new Date("2026-06-15T12:10:00Z"));

    // The scheduler, as server.ts starts it, answers once the soak is over.
    setNow("2026-06-15T12:20:00Z");
    const stop = startGateScheduler(deps, { intervalMs: 10 });
    try {
      for (let i = 0; i < 1000 && (await requestRow(callback))?.status === "pending"; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    } finally {
      await stop();
    }
    expect(github.callbacks().map((c) => c.body?.state)).toEqual([undefined, "approved"]);
    expect((await requestRow(callback))?.status).toBe("approved");
  });

  test("an internal error still answers: rejected, saying why", async () => {
    await createGate(t, { slug: "corrupt", applies_to: { services: ["broken"], environments: ["production"] }, rules: [] });
    await t.database.db.execute(sql`update gates set rules = '[{"type":"astrology"}]'::jsonb where slug = 'corrupt'`);
    const callback = await protectionRule("broken");
    const [answer] = github.callbacks();
    expect(answer?.body).toMatchObject({ state: "rejected" });
    expect(String(answer?.body?.comment)).toContain("Sluice could not evaluate its gates because of an internal error");
    expect((await requestRow(callback))?.status).toBe("rejected");
  });

  test("no gate applies: approved, saying so, with a token limited to the delivery's repository", async () => {
    const callback = await protectionRule("docs");
    expect(github.calls.map((c) => `${c.method} ${c.path}`)).toEqual(["POST /app/installations/42/access_tokens", `POST ${callback}`]);
    expect(github.calls[0]?.body).toEqual({ repositories: ["docs"] });
    expect(github.callbacks()[0]?.body).toMatchObject({ state: "approved", comment: expect.stringContaining("no gate applies to docs@") });
    expect(github.jwtProblems).toEqual([]);
  });

  test("a delivery without its installation is refused: no other installation is looked up", async () => {
    const callback = await protectionRule("docs", { installationId: null });
    expect(github.calls).toEqual([]);
    expect(await requestRow(callback)).toMatchObject({ status: "failed", lastError: "the delivery names no installation" });
  });

  test("GitHub failing to take the answer is retried with backoff", async () => {
    github.failCallbacks = 1;
    const callback = await protectionRule("docs");
    expect(await requestRow(callback)).toMatchObject({ status: "pending", attempts: 1, nextAttemptAt: new Date("2026-06-15T12:00:10Z") });
    expect((await requestRow(callback))?.lastError).toContain("GitHub answered 502");
    setNow("2026-06-15T12:00:10Z");
    await runDueProtectionRequests(deps);
    expect(github.callbacks().map((c) => c.body?.state)).toEqual(["approved", "approved"]);
    expect((await requestRow(callback))?.status).toBe("approved");
  });

  test("a redelivered callback is answered once, and a callback outside the API URL is never sent the token", async () => {
    const callbackUrl = `${github.url}/repos/octo/docs/actions/runs/5/deployment_protection_rule`;
    const request = {
      serviceId: await serviceId("docs"),
      environment: "production",
      deploymentCallbackUrl: callbackUrl,
      repository: "octo/docs",
      installationId: 42,
    };
    await handleDeploymentProtectionRule(deps, request);
    await handleDeploymentProtectionRule(deps, request);
    expect(github.callbacks()).toHaveLength(1);

    github.calls = [];
    await handleDeploymentProtectionRule(deps, { ...request, deploymentCallbackUrl: "https://attacker.example/repos/o/r/actions/runs/1/deployment_protection_rule" });
    expect(github.calls).toEqual([]);
    const [row] = await t.database.db
      .select()
      .from(gateProtectionRequests)
      .where(eq(gateProtectionRequests.callbackUrl, "https://attacker.example/repos/o/r/actions/runs/1/deployment_protection_rule"));
    expect(row).toMatchObject({ status: "failed", lastError: "deployment_callback_url is not under SLUICE_GITHUB_API_URL" });
  });

  test("two replicas working the same queue answer each request exactly once", async () => {
    const docs = await serviceId("docs");
    const count = 12;
    await t.database.db.insert(gateProtectionRequests).values(
      Array.from({ length: count }, (_, i) => ({
        serviceId: docs,
        environment: "production",
        callbackUrl: `${github.url}/repos/octo/docs/actions/runs/${9000 + i}/deployment_protection_rule`,
        repository: "octo/docs",
        installationId: 42,
        nextAttemptAt: now,
        receivedAt: now,
      })),
    );
    const replicaA = { ...deps };
    const replicaB = { ...deps };
    await Promise.all([runDueProtectionRequests(replicaA, 3), runDueProtectionRequests(replicaB, 3)]);
    await Promise.all([runDueProtectionRequests(replicaA, 20), runDueProtectionRequests(replicaB, 20)]);
    const answered = github.callbacks().map((c) => c.path);
    expect(answered).toHaveLength(count);
    expect(new Set(answered).size).toBe(count);
  });

  test("without the App configured, nothing is sent and the request records why", async () => {
    const unconfigured = { ...deps, config: loadConfig({ SLUICE_ADMIN_TOKEN: ADMIN_TOKEN, SLUICE_GITHUB_API_URL: github.url }) };
    const callbackUrl = `${github.url}/repos/octo/docs/actions/runs/6/deployment_protection_rule`;
    await handleDeploymentProtectionRule(unconfigured, {
      serviceId: await serviceId("docs"),
      environment: "production",
      deploymentCallbackUrl: callbackUrl,
      repository: "octo/docs",
    });
    expect(github.calls).toEqual([]);
    const [row] = await t.database.db.select().from(gateProtectionRequests).where(eq(gateProtectionRequests.callbackUrl, callbackUrl));
    expect(row).toMatchObject({ status: "failed", lastError: "the GitHub App is not configured" });
  });
});

describe("a deployment_protection_rule delivery, end to end through the webhook", () => {
  test("is acknowledged at once, reported pending during a freeze, then approved when it ends", async () => {
    const answering: Array<Promise<void>> = [];
    // The app as server.ts builds it: the webhook hands gate requests to the GitHub App.
    const app = createApp({ ...deps, onGateRequest: (request) => answering.push(handleDeploymentProtectionRule(deps, request)) });
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" };
    const integration = await read(app.request("/api/v1/integrations", { method: "POST", headers: admin, body: JSON.stringify({ source: "github" }) }));
    await createGate(t, {
      slug: "juice-freeze",
      applies_to: { services: ["juice-shop"], environments: ["production"] },
      rules: [{ type: "freeze", windows: [{ start: "2026-06-15T11:00:00Z", end: "2026-06-15T12:30:00Z" }] }],
    });

    // GitHub's documented example delivery, pointed at the fake GitHub.
    const fixture = JSON.parse(
      readFileSync(`${repoRoot}collectors/test/fixtures/github/deployment_protection_rule.requested.json`, "utf8"),
    ) as { deployment_callback_url: string };
    const callbackPath = new URL(fixture.deployment_callback_url).pathname;
    fixture.deployment_callback_url = `${github.url}${callbackPath}`;
    const body = JSON.stringify(fixture);
    const response = await deliver(app, integration, body);
    expect(response.status).toBe(202);
    expect(await read(response)).toMatchObject({ status: "processed" });
    await Promise.all(answering);

    expect(github.calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      "POST /app/installations/39129914/access_tokens",
      `POST ${callbackPath}`,
    ]);
    expect(github.callbacks()[0]?.body).toEqual({
      environment_name: "production",
      comment: expect.stringContaining("A freeze (2026-06-15T11:00:00Z to 2026-06-15T12:30:00Z) is in effect until 2026-06-15T12:30:00Z"),
    });

    setNow("2026-06-15T12:30:00Z");
    await runDueProtectionRequests(deps);
    expect(github.callbacks().map((c) => c.body?.state)).toEqual([undefined, "approved"]);
    expect(github.jwtProblems).toEqual([]);
  });
});

describe("a protection-rule verdict goes only to the repository the delivery names (SPEC 7 v2)", () => {
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" };

  /** GitHub's documented example delivery for `repository`, its callback set to `callbackUrl`. */
  function delivery(input: { repository: string; callbackUrl: string; installation?: number | null }) {
    const fixture = JSON.parse(
      readFileSync(`${repoRoot}collectors/test/fixtures/github/deployment_protection_rule.requested.json`, "utf8"),
    ) as Record<string, unknown> & { repository: Record<string, unknown> };
    fixture.repository = { ...fixture.repository, full_name: input.repository, name: input.repository.split("/")[1] };
    fixture.deployment_callback_url = input.callbackUrl;
    if (input.installation === null) delete fixture.installation;
    return JSON.stringify(fixture);
  }

  async function send(body: string) {
    const answering: Array<Promise<void>> = [];
    const app = createApp({ ...deps, logger: t.logger, onGateRequest: (request) => answering.push(handleDeploymentProtectionRule({ ...deps, logger: t.logger }, request)) });
    const integration = await read(app.request("/api/v1/integrations", { method: "POST", headers: admin, body: JSON.stringify({ source: "github" }) }));
    const response = await deliver(app, integration, body);
    expect(response.status).toBe(202);
    await Promise.all(answering);
  }

  test("a callback into another repository's run is refused and logged, and nothing is posted", async () => {
    const victim = `${github.url}/repos/octo/ledger/actions/runs/777/deployment_protection_rule`;
    await send(delivery({ repository: "octo/attacker-app", callbackUrl: victim }));
    expect(github.calls).toEqual([]);
    const [row] = await t.database.db.select().from(gateProtectionRequests).where(eq(gateProtectionRequests.callbackUrl, victim));
    expect(row).toMatchObject({ status: "failed", repository: "octo/attacker-app" });
    expect(row?.lastError).toContain("octo/ledger");
    expect(t.logs.some((line) => line.level === "error" && String(line.msg).includes("not the delivery's repository"))).toBe(true);
  });

  test("the repository is compared whole, case-insensitively, and dot segments cannot smuggle another path in", async () => {
    const tricks = [
      `${github.url}/repos/octo/attacker-app/../ledger/actions/runs/778/deployment_protection_rule`,
      `${github.url}/repos/octo/attacker-app/%2e%2e/ledger/actions/runs/779/deployment_protection_rule`,
      `${github.url}/repos/octo/attacker-app-x/actions/runs/780/deployment_protection_rule`,
      `${github.url.replace("127.0.0.1", "localhost")}/repos/octo/attacker-app/actions/runs/781/deployment_protection_rule`,
    ];
    for (const callbackUrl of tricks) await send(delivery({ repository: "octo/attacker-app", callbackUrl }));
    expect(github.calls).toEqual([]);

    await send(delivery({ repository: "Octo/Attacker-App", callbackUrl: `${github.url}/repos/octo/attacker-app/actions/runs/782/deployment_protection_rule` }));
    expect(github.calls.map((c) => c.path)).toEqual([
      "/app/installations/39129914/access_tokens",
      "/repos/octo/attacker-app/actions/runs/782/deployment_protection_rule",
    ]);
    expect(github.calls[0]?.body).toEqual({ repositories: ["Attacker-App"] });
  });

  test("a delivery without an installation is refused, not answered with another repository's installation", async () => {
    const callbackUrl = `${github.url}/repos/octo/nameless/actions/runs/783/deployment_protection_rule`;
    await send(delivery({ repository: "octo/nameless", callbackUrl, installation: null }));
    expect(github.calls).toEqual([]);
  });
});
