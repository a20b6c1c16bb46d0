import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { safeError, safeErrorText } from "@sluice/db";
import { type TestApp, createTestApp } from "../support/app.ts";

// SPEC 10 v2: errors are logged without the values of the statement that failed, so no
// secret, token or token hash appears in a log line even when the database fails.

let t: TestApp;
const HEX_DIGEST = /[0-9a-f]{64}/;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const unhandled = () => t.logs.filter((line) => line.msg === "unhandled error");

describe("a failing statement is logged without its values", () => {
  test("a new webhook secret does not reach the log when storing it fails", async () => {
    const secret = "whsec-do-not-log-4b1d9e0c7a";
    await t.database.db.execute(sql`alter table integrations add constraint refuse_all check (false) not valid`);
    try {
      const response = await t.request("/api/v1/integrations", { method: "POST", json: { source: "github", secret } });
      expect(response.status).toBe(500);
    } finally {
      await t.database.db.execute(sql`alter table integrations drop constraint refuse_all`);
    }
    expect(t.logText()).not.toContain(secret);
    // Still useful to an operator: the SQLSTATE, the constraint and the statement's shape.
    const [line] = unhandled().slice(-1);
    const err = line?.err as Record<string, unknown>;
    expect(JSON.stringify(err)).toContain("23514");
    expect(JSON.stringify(err)).toContain("refuse_all");
    expect(JSON.stringify(err)).toContain("insert into");
  });

  test("a new token's hash does not reach the log when storing it fails", async () => {
    await t.database.db.execute(sql`alter table api_tokens add constraint refuse_all check (false) not valid`);
    try {
      const response = await t.request("/api/v1/tokens", { method: "POST", json: { name: "ci", scopes: ["read"] } });
      expect(response.status).toBe(500);
    } finally {
      await t.database.db.execute(sql`alter table api_tokens drop constraint refuse_all`);
    }
    expect(unhandled().length).toBeGreaterThan(0);
    expect(t.logText()).not.toMatch(HEX_DIGEST);
    expect(t.logText()).not.toContain("slc_");
  });

  test("the hash of a presented token does not reach the log when looking it up fails", async () => {
    const token = "slc_presented-token-that-must-stay-secret";
    const hash = createHash("sha256").update(token).digest("hex");
    await t.database.db.execute(sql`alter table api_tokens rename to api_tokens_away`);
    try {
      const response = await t.request("/api/v1/services", { token });
      expect(response.status).toBeGreaterThanOrEqual(500);
    } finally {
      await t.database.db.execute(sql`alter table api_tokens_away rename to api_tokens`);
    }
    expect(unhandled().length).toBeGreaterThan(1);
    expect(t.logText()).not.toContain(hash);
    expect(t.logText()).not.toContain(token);
  });
});

describe("safeError and safeErrorText", () => {
  test("a value the database quotes back in its own message is redacted too", async () => {
    const secret = "not-a-number-but-a-secret";
    const error = await t.database.db.execute(sql`select ${secret}::bigint`).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).not.toBeNull();
    expect(JSON.stringify(safeError(error))).not.toContain(secret);
    expect(safeErrorText(error)).not.toContain(secret);
    expect(safeErrorText(error)).toContain("invalid input syntax for type bigint");
  });
});
