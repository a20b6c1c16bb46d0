import { describe, expect, test } from "vitest";
import { ApiError, createApiClient, probeScopes, queryString, settle } from "../src/lib/api.ts";

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

/** A fetch that answers from a table and records what it was asked. */
function fakeFetch(answer: (call: Call) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const call: Call = {
      url: String(input),
      method: init?.method ?? "GET",
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
      body: typeof init?.body === "string" ? init.body : undefined,
    };
    calls.push(call);
    return answer(call);
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

describe("the API client", () => {
  test("sends the token as a bearer and the query without empty values", async () => {
    const { fetch, calls } = fakeFetch(() => json(200, { scope: {}, level: "high" }));
    const api = createApiClient({ baseUrl: "http://127.0.0.1:3000/", token: "slc_secret", fetch });
    const metrics = await api.metrics({ service: "checkout", team: undefined, from: "2026-06-01T00:00:00.000Z", benchmark: "2023" });
    expect(metrics.level).toBe("high");
    expect(calls[0]?.url).toBe(
      "http://127.0.0.1:3000/api/v1/metrics?service=checkout&from=2026-06-01T00%3A00%3A00.000Z&benchmark=2023",
    );
    expect(calls[0]?.headers.authorization).toBe("Bearer slc_secret");
    expect(calls[0]?.method).toBe("GET");
  });

  test("posts JSON bodies", async () => {
    const { fetch, calls } = fakeFetch(() => json(201, { id: "abc", source: "github", secret: "s", url: "/webhooks/github/abc" }));
    const api = createApiClient({ baseUrl: "http://x", token: "t", fetch });
    const created = await api.createIntegration({ source: "github", name: "octo" });
    expect(created.url).toBe("/webhooks/github/abc");
    expect(calls[0]?.method).toBe("POST");
    expect(calls[0]?.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(calls[0]?.body ?? "")).toEqual({ source: "github", name: "octo" });
  });

  test("edits a gate with PATCH and escapes path segments", async () => {
    const { fetch, calls } = fakeFetch(() => json(200, {}));
    const api = createApiClient({ baseUrl: "http://x", fetch });
    await api.updateGate("prod/safety", { mode: "dry_run" });
    expect(calls[0]?.method).toBe("PATCH");
    expect(calls[0]?.url).toBe("http://x/api/v1/gates/prod%2Fsafety");
  });

  test("a 204 answers undefined", async () => {
    const { fetch } = fakeFetch(() => new Response(null, { status: 204 }));
    const api = createApiClient({ baseUrl: "http://x", fetch });
    await expect(api.deleteIntegration("abc")).resolves.toBeUndefined();
  });

  test("the API's error shape becomes an ApiError with code, message and field messages", async () => {
    const { fetch } = fakeFetch(() =>
      json(400, {
        error: {
          code: "invalid_request",
          message: "invalid body",
          details: [
            { field: "rules.0.max", message: "Too big: expected number to be <=1" },
            { field: "slug", message: "must be 1-63 lowercase letters" },
          ],
        },
      }),
    );
    const api = createApiClient({ baseUrl: "http://x", fetch });
    const error = await api.createGate({ slug: "X", name: "x", mode: "enforce", applies_to: { environments: [] }, rules: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    const apiError = error as ApiError;
    expect(apiError.status).toBe(400);
    expect(apiError.code).toBe("invalid_request");
    expect(apiError.message).toBe("invalid body");
    expect(apiError.fieldErrors()).toEqual({
      "rules.0.max": "Too big: expected number to be <=1",
      slug: "must be 1-63 lowercase letters",
    });
  });

  test("an answer that is not the API's JSON still becomes a readable error", async () => {
    const { fetch } = fakeFetch(() => new Response("<html>bad gateway</html>", { status: 502, statusText: "Bad Gateway" }));
    const api = createApiClient({ baseUrl: "http://x", fetch });
    const error = (await api.teams().catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(502);
    expect(error.code).toBe("http_error");
    expect(error.message).toBe("the API answered 502 Bad Gateway");
  });

  test("an unreachable API is a 503 naming the address", async () => {
    const fetch = (async () => {
      throw new TypeError("fetch failed");
    }) as typeof globalThis.fetch;
    const api = createApiClient({ baseUrl: "http://127.0.0.1:9", fetch });
    const error = (await api.teams().catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(503);
    expect(error.code).toBe("api_unreachable");
    expect(error.message).toContain("http://127.0.0.1:9");
  });

  test("a 401 ends the session through onUnauthorized", async () => {
    const { fetch } = fakeFetch(() => json(401, { error: { code: "unauthorized", message: "a valid bearer token is required" } }));
    const api = createApiClient({
      baseUrl: "http://x",
      fetch,
      onUnauthorized: () => {
        throw new Error("signed out");
      },
    });
    await expect(api.services()).rejects.toThrow("signed out");
  });

  test("the breakdown accepts items (and groups, as an older shape)", async () => {
    const { fetch } = fakeFetch((call) =>
      json(200, call.url.includes("team") ? { group_by: "team", items: [{ level: "elite" }] } : { groups: [{ level: "low" }] }),
    );
    const api = createApiClient({ baseUrl: "http://x", fetch });
    expect((await api.breakdown({ group_by: "team" })).items).toEqual([{ level: "elite" }]);
    const services = await api.breakdown({ group_by: "service" });
    expect(services).toEqual({ group_by: "service", items: [{ level: "low" }] });
  });
});

describe("probeScopes", () => {
  const answering = (teams: number, tokens: number) =>
    fakeFetch((call) => json(call.url.includes("/tokens") ? tokens : teams, tokens === 200 || teams === 200 ? { items: [], next_cursor: null } : { error: { code: "forbidden", message: "no" } }));

  test("an admin token lists tokens", async () => {
    const { fetch } = answering(200, 200);
    expect(await probeScopes(createApiClient({ baseUrl: "http://x", fetch }))).toEqual(["admin"]);
  });

  test("a read token reads but may not list tokens", async () => {
    const { fetch } = answering(200, 403);
    expect(await probeScopes(createApiClient({ baseUrl: "http://x", fetch }))).toEqual(["read"]);
  });

  test("an ingest-only token cannot read", async () => {
    const { fetch } = answering(403, 403);
    expect(await probeScopes(createApiClient({ baseUrl: "http://x", fetch }))).toEqual([]);
  });

  test("an unknown token is an error, not an empty scope list", async () => {
    const { fetch } = answering(401, 401);
    await expect(probeScopes(createApiClient({ baseUrl: "http://x", fetch }))).rejects.toMatchObject({ status: 401 });
  });
});

describe("settle", () => {
  test("turns an API error into data the page shows in place", async () => {
    const failed = await settle(Promise.reject(new ApiError({ status: 404, code: "not_found", message: "no route for GET /api/v1/reports/dora" })));
    expect(failed).toEqual({ ok: false, error: { status: 404, code: "not_found", message: "no route for GET /api/v1/reports/dora" } });
    expect(await settle(Promise.resolve(3))).toEqual({ ok: true, data: 3 });
  });

  test("rethrows 401 and anything that is not an API error", async () => {
    await expect(settle(Promise.reject(new ApiError({ status: 401, code: "unauthorized", message: "x" })))).rejects.toBeInstanceOf(ApiError);
    await expect(settle(Promise.reject(new TypeError("bug")))).rejects.toThrow("bug");
  });
});

test("queryString leaves out undefined, null and empty values", () => {
  expect(queryString({ a: 1, b: undefined, c: null, d: "", e: false, f: "x y" })).toBe("?a=1&e=false&f=x+y");
  expect(queryString({})).toBe("");
});
