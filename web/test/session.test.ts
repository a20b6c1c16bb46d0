import { describe, expect, test } from "vitest";
import { decodeSession, encodeSession } from "../src/lib/server/session.ts";

describe("the session cookie", () => {
  test("round-trips the token, its scopes and name", () => {
    const session = { token: "slc_abc", scopes: ["read" as const], name: "dashboard" };
    expect(decodeSession(encodeSession(session))).toEqual(session);
  });

  test.each([undefined, "", "not base64 json", Buffer.from('{"v":2,"t":"x"}').toString("base64url"), Buffer.from('{"v":1,"t":""}').toString("base64url")])(
    "anything else is no session: %s",
    (value) => {
      expect(decodeSession(value)).toBeNull();
    },
  );

  test("unknown scopes are dropped, so a forged cookie cannot invent one", () => {
    const forged = Buffer.from(JSON.stringify({ v: 1, t: "slc_x", s: ["read", "root"], n: "x" })).toString("base64url");
    expect(decodeSession(forged)?.scopes).toEqual(["read"]);
  });
});
