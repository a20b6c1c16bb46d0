import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestApp, createTestApp } from "../support/app.ts";
import { createIntegration, octokitExamples, postGithub } from "../support/webhooks.ts";
import { read } from "./gates-helpers.ts";

// Issue 18, item 4: a delivery id is unique per integration, not per source. Two GitHub
// integrations (two organisations, or an App and a repository webhook) may be sent the same
// X-GitHub-Delivery; neither is the other's duplicate.

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const pushTo = (repository: string, sha: string) => {
  const payload = octokitExamples("push").find((p) => Array.isArray(p.commits) && (p.commits as unknown[]).length > 0) as Record<string, unknown>;
  const commits = (payload.commits as Array<Record<string, unknown>>).map((commit, i) => ({ ...commit, id: `${sha.slice(0, 39)}${i}` }));
  return { ...payload, repository: { ...(payload.repository as object), full_name: repository, name: repository.split("/")[1] }, commits, head_commit: commits.at(-1) };
};

describe("delivery ids are unique per integration", () => {
  for (const event of ["push", "ping"]) {
    test(`the same ${event} delivery id sent to two integrations is processed by each`, async () => {
      const first = await createIntegration(t, "github");
      const second = await createIntegration(t, "github");
      const deliveryId = `shared-${event}-72d3162e-cc78-11e3-81ab-4c9367dc0958`;
      const payload = (n: number) => (event === "push" ? pushTo(`org-${n}/app-${event}`, "a".repeat(40)) : { zen: "Keep it logically awesome.", hook_id: n });
      const a = await postGithub(t, first, event, payload(1), { deliveryId });
      const b = await postGithub(t, second, event, payload(2), { deliveryId });
      expect(a.status).toBe(202);
      expect(b.status).toBe(202);
      expect(await read(b)).not.toMatchObject({ status: "duplicate" });
      // And within one integration it is still a duplicate.
      const again = await postGithub(t, second, event, payload(2), { deliveryId });
      expect(again.status).toBe(200);
      expect(await read(again)).toMatchObject({ status: "duplicate" });
      const listed = await read(t.request(`/api/v1/deliveries?source=github&limit=1000`));
      expect(listed.items.filter((d: { delivery_id: string }) => d.delivery_id === deliveryId)).toHaveLength(2);
    });
  }
});
