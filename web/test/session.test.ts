import { describe, expect, test } from "vitest";
import { decodeSession, encodeSession } from "../src/lib/server/session.ts";
import { safeNext } from "../src/lib/server/safe-next.ts";

describe("the session cookie", () => {
  test("round-trips the session, its scopes and name", () => {
    const session = { token: "sls_abc", scopes: ["read" as const], name: "dashboard" };
    expect(decodeSession(encodeSession(session))).toEqual(session);
  });

  test.each([
    undefined,
    "",
    "not base64 json",
    Buffer.from('{"v":2,"t":"x"}').toString("base64url"),
    Buffer.from('{"v":2,"t":""}').toString("base64url"),
    // A cookie of the old kind held the raw API token: it is no session any more.
    Buffer.from('{"v":1,"t":"slc_raw-api-token","s":["admin"],"n":"x"}').toString("base64url"),
    Buffer.from('{"v":2,"t":"slc_raw-api-token","s":["admin"],"n":"x"}').toString("base64url"),
  ])("anything else is no session: %s", (value) => {
    expect(decodeSession(value)).toBeNull();
  });

  test("unknown scopes are dropped, so a forged cookie cannot invent one", () => {
    const forged = Buffer.from(JSON.stringify({ v: 2, t: "sls_x", s: ["read", "root"], n: "x" })).toString("base64url");
    expect(decodeSession(forged)?.scopes).toEqual(["read"]);
  });
});

describe("where sign-in goes next", () => {
  test.each(["/", "/services/checkout", "/gates/prod?tab=audit#top", "/reports?from=2026-01-01"])("a path of this site is kept: %s", (path) => {
    expect(safeNext(path)).toBe(path);
  });

  test.each([
    null,
    "",
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "/\t/evil.example/",
    "/\n/evil.example/",
    "/%09/evil.example/".replace("%09", "\t"),
    "/ /evil.example",
    "\u0000/",
    "/\u2028x".replace("\u2028", "\u0085"),
  ])("anything that could leave the site goes home instead: %j", (value) => {
    expect(safeNext(value)).toBe("/");
  });

  test("the answer is canonical, fit for a Location header", () => {
    expect(safeNext("/a/../gates/%7Efoo")).toBe("/gates/%7Efoo");
    expect(safeNext("/%2F%2Fevil.example")).toBe("/%2F%2Fevil.example");
  });
});
