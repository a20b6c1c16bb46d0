import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type Database,
  deploymentChanges,
  deployments,
  inTransaction,
  recordChange,
  recordDeployment,
  recordIncident,
  rows,
  servicesForRepository,
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

  const push = (n: number, parent: number, at: string) =>
    inTransaction(database.db, (tx) =>
      recordChange(tx, { repositoryId, sha: sha(n), committedAt: t(at), parents: [sha(parent)] }),
    );
  const deploy = (externalId: string, n: number, at: string, extra: Record<string, unknown> = {}) =>
    inTransaction(database.db, (tx) =>
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
    const result = await inTransaction(database.db, (tx) =>
      recordIncident(tx, { serviceId, externalId: "inc-1", source: "api", startedAt: t("11:45:00") }, t("12:00:00")),
    );
    const [latest] = await database.db.select().from(deployments).where(eq(deployments.externalId, "d4"));
    expect(result.incident.deploymentId).toBe(latest?.id);
    expect(latest?.failed).toBe(true);
    expect(latest?.recoveredAt).toBeNull();
    await inTransaction(database.db, (tx) =>
      recordIncident(
        tx,
        { serviceId, externalId: "inc-1", source: "api", startedAt: t("11:45:00"), resolvedAt: t("12:15:00") },
        t("12:20:00"),
      ),
    );
    const [after] = await database.db.select().from(deployments).where(eq(deployments.externalId, "d4"));
    expect(after?.recoveredAt?.toISOString()).toBe(t("12:15:00").toISOString());
  });
});
