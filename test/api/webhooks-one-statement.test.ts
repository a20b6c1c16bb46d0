import { collectors } from "@sluice/collectors";
import { inTransaction, rows } from "@sluice/db";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createLogger } from "../../ingest/src/logger.ts";
import { applyEvents } from "../../ingest/src/webhooks/apply.ts";
import { commitsOfOneRepository, storeChangesDelivery } from "../../ingest/src/webhooks/store-changes.ts";
import { type TestApp, createTestApp } from "../support/app.ts";
import { createIntegration, octokitExamples, postGithub } from "../support/webhooks.ts";

// A push of new commits to a known repository is stored with its commits in one statement
// (ingest/src/webhooks/store-changes.ts); everything else takes the general path. These tests
// pin that both give the same rows and keep every promise of SPEC 6 and 10.

// biome-ignore lint/suspicious/noExplicitAny: a vendor payload edited by path
type Loose = Record<string, any>;
type Answer = { status: string; events: Array<{ kind: string; service: string | null; ref: string; action: string }>; error?: string };

const sha = (n: number) => n.toString(16).padStart(40, "0");

function push(repository: string, commits: number[], options: { before?: number; message?: string } = {}): Loose {
  const p = octokitExamples("push").find((e) => Array.isArray(e.commits) && (e.commits as unknown[]).length > 0) as Loose;
  const template = p.commits[0];
  p.repository = { ...p.repository, full_name: repository, name: repository.split("/")[1] };
  p.ref = "refs/heads/main";
  p.before = sha(options.before ?? 0);
  p.commits = commits.map((n, i) => ({
    ...template,
    id: sha(n),
    timestamp: new Date(Date.UTC(2026, 5, 1) + n * 60_000).toISOString(),
    message: options.message ?? `commit ${n}`,
    added: i === 0 ? ["a.ts", "a.ts"] : [],
    modified: ["src/app.ts"],
    removed: [],
  }));
  p.after = sha(commits.at(-1) ?? 0);
  return p;
}

describe("a push stored with its commits in one statement", () => {
  let t: TestApp;
  let github: { id: string; url: string; secret: string };
  const changeRows = (repository: string) =>
    rows<Record<string, unknown>>(
      t.database.db,
      sql`select c.sha, c.committed_at::text, c.authored_at::text, c.author, c.message, c.branch, c.files, c.parents,
            c.pr_number, c.pr_url
          from changes c join repositories r on r.id = c.repository_id where r.name = ${repository} order by c.id`,
    );
  const delivery = (id: string) =>
    rows<{ status: string; error: string | null; event: string | null; events: unknown[] | null; body: string | null; processed: boolean }>(
      t.database.db,
      sql`select status, error, event, events, body, processed_at is not null as processed from deliveries where delivery_id = ${id}`,
    );

  const fallbacks = () => t.logs.filter((line) => String(line.msg).includes("one-statement write failed"));

  beforeAll(async () => {
    t = await createTestApp();
    github = await createIntegration(t, "github");
    // The first push to a repository creates its service (the general path).
    const first = await postGithub(t, github, "push", push("octo/fast", [1]), { deliveryId: "fast-0" });
    expect(((await first.json()) as Answer).status).toBe("processed");
  });
  afterAll(() => t.close());

  describe("happy path", () => {
    test("a push of new commits to a known repository is stored processed, with its commits and their queue entries", async () => {
      const response = await postGithub(t, github, "push", push("octo/fast", [2, 3], { before: 1 }), { deliveryId: "fast-1" });
      expect(response.status).toBe(202);
      expect(await response.json()).toEqual({
        delivery_id: "fast-1",
        status: "processed",
        events: [
          { kind: "change", service: "fast", ref: sha(2), action: "created" },
          { kind: "change", service: "fast", ref: sha(3), action: "created" },
        ],
      });
      const [stored] = await delivery("fast-1");
      expect(stored).toMatchObject({ status: "processed", error: null, event: "push", processed: true });
      expect(fallbacks()).toEqual([]);
      expect(stored?.events).toHaveLength(2);
      const commits = await changeRows("octo/fast");
      expect(commits.map((c) => c.sha)).toEqual([sha(1), sha(2), sha(3)]);
      expect(commits[1]).toMatchObject({ parents: [sha(1)], files: ["a.ts", "src/app.ts"], message: "commit 2", branch: "main" });
      expect(commits[2]).toMatchObject({ parents: [sha(2)], files: ["src/app.ts"] });
      const changes = (await (await t.request("/api/v1/changes?limit=100")).json()) as { items: Array<{ sha: string }> };
      expect(changes.items.map((c) => c.sha)).toEqual(expect.arrayContaining([sha(2), sha(3)]));
    });

    test("writes the same rows as the general path", async () => {
      // Two repositories claimed by services; the same commits go through each path.
      for (const repository of ["octo/one", "octo/two"]) {
        await postGithub(t, github, "push", push(repository, [100]), { deliveryId: `seed-${repository}` });
      }
      const map = (repository: string) => {
        const mapped = collectors.github.map({
          headers: { "x-github-event": "push", "content-type": "application/json" },
          body: JSON.stringify(push(repository, [101, 102], { before: 100 })),
          secrets: [],
        });
        if (mapped.status !== "processed") throw new Error("not processed");
        return mapped;
      };
      const fast = map("octo/one");
      const commits = commitsOfOneRepository(fast.events);
      expect(commits).not.toBeNull();
      const outcome = await storeChangesDelivery(
        t.database,
        { integrationId: github.id, source: "github", deliveryId: "direct-1", headers: {}, body: "{}", event: "push", now: new Date() },
        commits ?? [],
        fast.events,
        createLogger("silent"),
      );
      expect(outcome).toMatchObject({ outcome: "stored", owner: "one" });
      await inTransaction(t.database.db, (tx) => applyEvents(tx, map("octo/two").events, { source: "github", now: new Date() }));

      const [one, two] = [await changeRows("octo/one"), await changeRows("octo/two")];
      expect(one).toHaveLength(3);
      expect(one).toEqual(two);
      const queued = await rows<{ name: string; n: number }>(
        t.database.db,
        sql`select r.name, count(*)::int as n
            from derivation_queue q cross join unnest(q.shas) as s(sha) join repositories r on r.id = q.repository_id
            where s.sha in (${sha(101)}, ${sha(102)}) group by r.name order by r.name`,
      );
      expect(queued).toEqual([
        { name: "octo/one", n: 2 },
        { name: "octo/two", n: 2 },
      ]);
      // The one statement queues the push's commits as one entry (the general path, one per commit).
      const entries = await rows<{ shas: string[] }>(
        t.database.db,
        sql`select q.shas from derivation_queue q join repositories r on r.id = q.repository_id where r.name = 'octo/one' and ${sha(101)} = any(q.shas)`,
      );
      expect(entries.map((e) => [...e.shas].sort())).toEqual([[sha(101), sha(102)]]);
    });

    test("a service holding its repository under two path prefixes gets one entry naming each commit once", async () => {
      const created = await t.request("/api/v1/services", {
        method: "POST",
        json: {
          slug: "mono",
          repositories: [
            { provider: "github", name: "octo/mono", path_prefix: "api/" },
            { provider: "github", name: "octo/mono", path_prefix: "web/" },
          ],
        },
      });
      expect(created.status).toBe(201);
      const response = await postGithub(t, github, "push", push("octo/mono", [201, 202], { before: 200 }), { deliveryId: "mono-1" });
      expect(((await response.json()) as Answer).status).toBe("processed");
      expect(fallbacks()).toEqual([]);
      const entries = await rows<{ shas: string[] }>(
        t.database.db,
        sql`select q.shas from derivation_queue q join repositories r on r.id = q.repository_id where r.name = 'octo/mono'`,
      );
      expect(entries.map((e) => [...e.shas].sort())).toEqual([[sha(201), sha(202)]]);
    });

    test("a push naming a commit seen before merges into it, as recordChange does", async () => {
      // sha(3) is known from fast-1; its message stays unless the push gives one, parents accumulate.
      const response = await postGithub(t, github, "push", push("octo/fast", [3, 4], { before: 9, message: "amended" }), {
        deliveryId: "fast-merge",
      });
      const answer = (await response.json()) as Answer;
      expect(answer.status).toBe("processed");
      expect(answer.events.map((e) => e.action)).toEqual(["updated", "created"]);
      const commits = await changeRows("octo/fast");
      expect(commits.find((c) => c.sha === sha(3))).toMatchObject({ message: "amended", parents: [sha(2), sha(9)] });
    });

    test("a push naming an unknown repository creates its service and stores its commits", async () => {
      const response = await postGithub(t, github, "push", push("octo/brand-new", [200, 201]), { deliveryId: "fresh-repo" });
      const answer = (await response.json()) as Answer;
      expect(answer).toMatchObject({ status: "processed" });
      expect(answer.events.every((e) => e.service === "brand-new" && e.action === "created")).toBe(true);
      expect((await changeRows("octo/brand-new")).map((c) => c.sha)).toEqual([sha(200), sha(201)]);
    });

    test("concurrent pushes sharing new commits are each stored once and every commit once", async () => {
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          postGithub(t, github, "push", push("octo/fast", [300, 301, 302 + i], { before: 4 }), { deliveryId: `race-${i}` }),
        ),
      );
      const bodies = (await Promise.all(answers.map((r) => r.json()))) as Answer[];
      expect(bodies.map((b) => b.status)).toEqual(Array(8).fill("processed"));
      const stored = await rows<{ n: number }>(
        t.database.db,
        sql`select count(*)::int as n from deliveries where delivery_id like 'race-%' and status = 'processed'`,
      );
      expect(stored[0]?.n).toBe(8);
      const shas = (await changeRows("octo/fast")).map((c) => c.sha as string);
      expect(shas.filter((s) => s === sha(300))).toHaveLength(1);
      expect(shas.filter((s) => s >= sha(302) && s <= sha(309))).toHaveLength(8);
    });

    test("deliveries arriving together are written together, each with its own outcome", async () => {
      await postGithub(t, github, "push", push("octo/other", [600]), { deliveryId: "together-seed" });
      const sends = [
        postGithub(t, github, "push", push("octo/fast", [610, 611], { before: 4 }), { deliveryId: "together-1" }),
        postGithub(t, github, "push", push("octo/other", [612], { before: 600 }), { deliveryId: "together-2" }),
        // Names a known commit: merged through the general path.
        postGithub(t, github, "push", push("octo/other", [600, 613], { message: "again" }), { deliveryId: "together-3" }),
        // An id stored before: a duplicate, writing nothing.
        postGithub(t, github, "push", push("octo/fast", [614]), { deliveryId: "fast-1" }),
        // The same id twice in one arrival: one is stored, the other a duplicate.
        postGithub(t, github, "push", push("octo/fast", [615]), { deliveryId: "together-5" }),
        postGithub(t, github, "push", push("octo/fast", [615]), { deliveryId: "together-5" }),
        postGithub(t, github, "push", push("octo/fast", [616, 617], { before: 611 }), { deliveryId: "together-7" }),
      ];
      const answers = (await Promise.all(sends.map(async (r) => (await r).json()))) as Answer[];
      expect(answers.map((a) => a.status)).toEqual(["processed", "processed", "processed", "duplicate", ...[answers[4]?.status, answers[5]?.status], "processed"]);
      expect([answers[4]?.status, answers[5]?.status].sort()).toEqual(["duplicate", "processed"]);
      expect(answers[0]?.events).toEqual([
        { kind: "change", service: "fast", ref: sha(610), action: "created" },
        { kind: "change", service: "fast", ref: sha(611), action: "created" },
      ]);
      expect(answers[1]?.events).toEqual([{ kind: "change", service: "other", ref: sha(612), action: "created" }]);
      expect(answers[2]?.events.map((e) => e.action)).toEqual(["updated", "created"]);
      const fast = (await changeRows("octo/fast")).map((c) => c.sha);
      for (const n of [610, 611, 615, 616, 617]) expect(fast.filter((s) => s === sha(n))).toHaveLength(1);
      expect(fast).not.toContain(sha(614));
      expect((await changeRows("octo/other")).find((c) => c.sha === sha(600))).toMatchObject({ message: "again" });
      for (const id of ["together-1", "together-2", "together-3", "together-5", "together-7"]) {
        expect(await delivery(id)).toEqual([expect.objectContaining({ status: "processed" })]);
      }
    });
  });

  describe("reprocessing", () => {
    test("rebuilds the same commits, and a NUL dropped on arrival is dropped again", async () => {
      const withNul = await postGithub(t, github, "push", push("octo/fast", [800, 801], { before: 4, message: "nul\u0000here" }), {
        deliveryId: "nul-1",
      });
      expect(((await withNul.json()) as Answer).status).toBe("processed");
      const before = await changeRows("octo/fast");
      expect(before.find((c) => c.sha === sha(800))).toMatchObject({ message: "nulhere" });
      const response = await t.request("/api/v1/admin/reprocess", { method: "POST" });
      expect(response.status).toBe(200);
      expect(await changeRows("octo/fast")).toEqual(before);
      expect(await delivery("nul-1")).toEqual([expect.objectContaining({ status: "processed" })]);
    });
  });

  describe("security", () => {
    test("deliveries arriving together each read their own integration: its secret, or a 404 for none", async () => {
      const second = await createIntegration(t, "github");
      const [mine, theirs, wrongSecret, unknown] = await Promise.all([
        postGithub(t, github, "push", push("octo/fast", [700])),
        postGithub(t, second, "push", push("octo/fast", [701])),
        // Signed with the first integration's secret, sent to the second.
        postGithub(t, { url: second.url, secret: github.secret }, "push", push("octo/fast", [702])),
        postGithub(t, { url: `${second.url}-gone`, secret: second.secret }, "push", push("octo/fast", [703])),
      ]);
      expect([mine.status, theirs.status, wrongSecret.status, unknown.status]).toEqual([202, 202, 401, 404]);
      const storedWith = async (n: number) =>
        (
          await rows<{ integration_id: string }>(
            t.database.db,
            sql`select integration_id from deliveries where body like ${`%${sha(n)}%`}`,
          )
        ).map((d) => d.integration_id);
      expect(await storedWith(700)).toEqual([github.id]);
      expect(await storedWith(701)).toEqual([second.id]);
      expect(await storedWith(702)).toEqual([]);
      expect(await storedWith(703)).toEqual([]);
    });
  });

  describe("bad input", () => {
    test("a redelivery answers duplicate and writes nothing", async () => {
      const before = await changeRows("octo/fast");
      const again = push("octo/fast", [2, 3], { before: 1 });
      const response = await postGithub(t, github, "push", again, { deliveryId: "fast-1" });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ delivery_id: "fast-1", status: "duplicate" });
      // The same delivery id with commits nobody has seen: still a duplicate, still nothing written.
      const other = await postGithub(t, github, "push", push("octo/fast", [400, 401], { before: 3 }), { deliveryId: "fast-1" });
      expect(other.status).toBe(200);
      expect(await changeRows("octo/fast")).toEqual(before);
      expect(await delivery("fast-1")).toHaveLength(1);
    });

    test("a push whose commits cannot be written is still stored, failed, with its error", async () => {
      await t.database.db.execute(sql`alter table changes add constraint test_refuses check (message is distinct from 'refused')`);
      try {
        const response = await postGithub(t, github, "push", push("octo/fast", [500, 501], { before: 4, message: "refused" }), {
          deliveryId: "fast-refused",
        });
        expect(response.status).toBe(202);
        const answer = (await response.json()) as Answer;
        expect(answer.status).toBe("failed");
        expect(answer.error).toMatch(/test_refuses/);
        const [stored] = await delivery("fast-refused");
        expect(stored).toMatchObject({ status: "failed", processed: true, event: "push" });
        expect(stored?.error).toMatch(/test_refuses/);
        expect(stored?.body).toContain(sha(500));
        expect(stored?.events).toHaveLength(2);
        expect((await changeRows("octo/fast")).map((c) => c.sha)).not.toContain(sha(500));
        // The one-statement write's failure is logged: otherwise it would only show as a slower path.
        expect(fallbacks()).toEqual([expect.objectContaining({ level: "warn", delivery: "fast-refused" })]);
      } finally {
        await t.database.db.execute(sql`alter table changes drop constraint test_refuses`);
      }
    });

    test("a body that is not JSON is a 400 and stores nothing", async () => {
      const response = await postGithub(t, github, "push", "{not json", { deliveryId: "not-json" });
      expect(response.status).toBe(400);
      expect(await delivery("not-json")).toHaveLength(0);
    });
  });
});
