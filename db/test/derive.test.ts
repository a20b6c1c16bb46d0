import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type Database,
  deploymentChanges,
  deployments,
  derivationQueue,
  incidents,
  inTransaction,
  recordChange,
  recordDeployment,
  recordIncident,
  rows,
  servicesForRepository,
  settleDerivation,
  type Tx,
} from "../src/index.ts";
import { createTestDatabase } from "../src/testing.ts";

const t = (iso: string) => new Date(`2026-03-01T${iso}Z`);
const sha = (n: number) => n.toString(16).padStart(40, "0");

describe("ingest-time derivation", () => {
  let database: Database;
  let serviceId: number;
  let repositoryId: number;

  beforeAll(async () => {
    database = await createTestDatabase();
    const ids = await inTransaction(database.db, (tx) => servicesForRepository(tx, { name: "octo/checkout" }));
    serviceId = ids[0] as number;
    const [repo] = await rows<{ id: number }>(database.db, sql`select id::int from repositories`);
    repositoryId = Number(repo?.id);
  });
  afterAll(() => database.close());

  // Each event derived before the next arrives; the batched case has its own test below.
  const write = async <T>(fn: (tx: Tx) => Promise<T>) => {
    const result = await inTransaction(database.db, fn);
    await settleDerivation(database.db);
    return result;
  };

  const push = (n: number, parent: number, at: string) =>
    write((tx) =>
      recordChange(tx, { repositoryId, sha: sha(n), committedAt: t(at), parents: [sha(parent)] }),
    );
  const deploy = (externalId: string, n: number, at: string, extra: Record<string, unknown> = {}) =>
    write((tx) =>
      recordDeployment(
        tx,
        { serviceId, environment: "production", sha: sha(n), status: "success", finishedAt: t(at), source: "api", externalId, ...extra },
        t("23:59:00"),
      ),
    );
  const changesOf = async (id: number) =>
    (await database.db.select().from(deploymentChanges).where(eq(deploymentChanges.deploymentId, id)))
      .map((r) => r.sha)
      .sort();

  test("walks commits back to the previous production deployment, in any arrival order", async () => {
    const second = await deploy("d2", 3, "10:00:00");
    await push(1, 0, "08:00:00");
    await push(2, 1, "08:30:00");
    await push(3, 2, "09:00:00");
    expect(await changesOf(second.deployment.id)).toEqual([sha(0), sha(1), sha(2), sha(3)].sort());
    const first = await deploy("d1", 1, "09:00:00");
    expect(await changesOf(first.deployment.id)).toEqual([sha(0), sha(1)].sort());
    expect(await changesOf(second.deployment.id)).toEqual([sha(2), sha(3)].sort());
    const [row] = await database.db.select().from(deployments).where(eq(deployments.id, first.deployment.id));
    expect(row?.baseline).toBe(true);
  });

  test("a redeploy of an earlier sha rolls back everything in between", async () => {
    await push(4, 3, "10:30:00");
    const third = await deploy("d3", 4, "11:00:00");
    const back = await deploy("d4", 3, "11:30:00");
    const [rolled] = await database.db.select().from(deployments).where(eq(deployments.id, third.deployment.id));
    expect(rolled?.failed).toBe(true);
    expect(rolled?.failureReasons).toEqual(["rolled_back"]);
    expect(rolled?.recoveredAt?.toISOString()).toBe(t("11:30:00").toISOString());
    const [rollback] = await database.db.select().from(deployments).where(eq(deployments.id, back.deployment.id));
    expect(rollback?.reworkReasons).toEqual(["rollback"]);
  });

  test("an incident is attributed to the latest production deployment before it", async () => {
    const result = await write((tx) =>
      recordIncident(tx, { serviceId, externalId: "inc-1", source: "api", startedAt: t("11:45:00") }, t("12:00:00")),
    );
    const [latest] = await database.db.select().from(deployments).where(eq(deployments.externalId, "d4"));
    const [incident] = await database.db.select().from(incidents).where(eq(incidents.id, result.incident.id));
    expect(incident?.deploymentId).toBe(latest?.id);
    expect(latest?.failed).toBe(true);
    expect(latest?.recoveredAt).toBeNull();
    await write((tx) =>
      recordIncident(
        tx,
        { serviceId, externalId: "inc-1", source: "api", startedAt: t("11:45:00"), resolvedAt: t("12:15:00") },
        t("12:20:00"),
      ),
    );
    const [after] = await database.db.select().from(deployments).where(eq(deployments.externalId, "d4"));
    expect(after?.recoveredAt?.toISOString()).toBe(t("12:15:00").toISOString());
  });

  test("a batch of queued writes derives to what deriving each write at once gives", async () => {
    // The same history twice, on two services: once derived after every write, once
    // written whole (out of order, with updates to the same rows) and derived in one pass.
    const history = async (service: number, settleEach: boolean) => {
      const run = async <T>(fn: (tx: Tx) => Promise<T>) => {
        const result = await inTransaction(database.db, fn);
        if (settleEach) await settleDerivation(database.db);
        return result;
      };
      const d = (externalId: string, n: number, at: string, extra: Record<string, unknown> = {}) =>
        run((tx) =>
          recordDeployment(
            tx,
            { serviceId: service, environment: "production", sha: sha(n), status: "success", finishedAt: t(at), source: "api", externalId, ...extra },
            t("23:59:00"),
          ),
        );
      await d("b3", 23, "15:00:00");
      await d("b1", 21, "13:00:00");
      await run((tx) => recordIncident(tx, { serviceId: service, externalId: "x1", source: "api", startedAt: t("15:30:00") }, t("16:00:00")));
      await d("b2", 22, "14:00:00", { status: "in_progress", finishedAt: undefined });
      await d("b4", 21, "16:00:00");
      await d("b2", 22, "14:00:00");
      await run((tx) =>
        recordIncident(tx, { serviceId: service, externalId: "x1", source: "api", startedAt: t("15:30:00"), resolvedAt: t("16:30:00") }, t("17:00:00")),
      );
      await d("b5", 25, "17:00:00", { fixes: { sha: sha(23) } });
      if (!settleEach) {
        expect((await database.db.select().from(derivationQueue).where(eq(derivationQueue.serviceId, service))).length).toBe(8);
        await settleDerivation(database.db);
      }
      const found = await database.db.select().from(deployments).where(eq(deployments.serviceId, service)).orderBy(deployments.externalId);
      return found.map((r) => ({
        id: r.externalId,
        baseline: r.baseline,
        failed: r.failed,
        reasons: r.failureReasons,
        recoveredAt: r.recoveredAt?.toISOString() ?? null,
        rework: r.reworkReasons,
      }));
    };
    const [one, two] = await inTransaction(database.db, async (tx) => [
      (await servicesForRepository(tx, { name: "octo/batch-one" }))[0] as number,
      (await servicesForRepository(tx, { name: "octo/batch-two" }))[0] as number,
    ]);
    const each = await history(one, true);
    const batched = await history(two, false);
    expect(batched).toEqual(each);
    expect(each.find((r) => r.id === "b3")).toMatchObject({ failed: true, reasons: ["incident", "rolled_back", "fixed"] });
  });
});
