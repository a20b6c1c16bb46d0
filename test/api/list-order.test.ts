import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestApp, createTestApp } from "../support/app.ts";
import { createService, deploy, openIncident, read, sha } from "./gates-helpers.ts";

// Issue 18, item 7 (SPEC 5 v2 list rules): deployments are ordered by finished_at (else started_at)
// descending, incidents by started_at descending, ties by id, whatever order the events arrived in;
// status=open lists every incident open now, whenever it started.

let t: TestApp;

/** Posting order differs from time order: the late arrivals belong in the middle. */
const DEPLOYMENTS = [
  { label: "d3", finished_at: "2026-06-03T10:00:00Z" },
  { label: "d1", finished_at: "2026-06-01T10:00:00Z" },
  { label: "d5", finished_at: "2026-06-05T10:00:00Z" },
  { label: "d2", started_at: "2026-06-02T10:00:00Z", status: "in_progress" },
  { label: "d4a", finished_at: "2026-06-04T10:00:00Z" },
  { label: "d4b", finished_at: "2026-06-04T10:00:00Z" },
];
const INCIDENTS = [
  { external_id: "i2", started_at: "2026-06-02T08:00:00Z" },
  { external_id: "i4", started_at: "2026-06-04T08:00:00Z", resolved_at: "2026-06-04T09:00:00Z" },
  { external_id: "i1", started_at: "2026-05-01T08:00:00Z" },
  { external_id: "i3", started_at: "2026-06-03T08:00:00Z" },
];

beforeAll(async () => {
  t = await createTestApp({ now: "2026-06-10T00:00:00Z" });
  await createService(t, "checkout");
  for (const d of DEPLOYMENTS) {
    const { label, ...rest } = d;
    await deploy(t, { service: "checkout", sha: sha(label), ...rest });
  }
  for (const i of INCIDENTS) await openIncident(t, { service: "checkout", ...i });
});
afterAll(() => t.close());

async function all(path: string, limit: number): Promise<Array<Record<string, unknown>>> {
  const seen: Array<Record<string, unknown>> = [];
  let cursor: string | null = null;
  for (let page = 0; page < 50; page++) {
    const body: { items: Array<Record<string, unknown>>; next_cursor: string | null } = await read(
      t.request(`${path}${path.includes("?") ? "&" : "?"}limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`),
    );
    seen.push(...body.items);
    cursor = body.next_cursor;
    if (!cursor) break;
  }
  return seen;
}

describe("list order", () => {
  for (const limit of [1, 2, 100]) {
    test(`deployments: newest finished (else started) first, ties by id, in pages of ${limit}`, async () => {
      const listed = await all("/api/v1/deployments?service=checkout", limit);
      const bySha = new Map(DEPLOYMENTS.map((d) => [sha(d.label), d.label]));
      expect(listed.map((d) => bySha.get(d.sha as string))).toEqual(["d5", "d4b", "d4a", "d3", "d2", "d1"]);
    });

    test(`incidents: newest started first, in pages of ${limit}`, async () => {
      const listed = await all("/api/v1/incidents?service=checkout", limit);
      expect(listed.map((i) => i.external_id)).toEqual(["i4", "i3", "i2", "i1"]);
    });
  }

  test("status=open lists every incident open now, also one that started before the window", async () => {
    const open = await all("/api/v1/incidents?service=checkout&status=open&from=2026-06-01T00:00:00Z&to=2026-06-10T00:00:00Z", 100);
    expect(open.map((i) => i.external_id)).toEqual(["i3", "i2", "i1"]);
  });
});
