import { openDatabase, computeMetrics, gates, services } from "@sluice/db";
import { createLogger } from "@sluice/ingest";
import { eq } from "drizzle-orm";
import { evaluateGate } from "../../ingest/src/gates/evaluate.ts";
const url = process.argv[2]!;
const database = await openDatabase({ url, poolSize: 8 });
const [svc] = await database.db.select().from(services).where(eq(services.slug, "svc-1"));
const now = new Date();
const t0 = performance.now();
for (let i = 0; i < 50; i++) await computeMetrics(database.db, { serviceIds: [svc!.id], from: new Date(now.getTime() - 30 * 86400000), to: now, benchmark: "2024" });
console.log("computeMetrics ms", ((performance.now() - t0) / 50).toFixed(2));
const [gate] = await database.db.select().from(gates);
if (gate) {
  const deps = { database, logger: createLogger("silent"), clock: () => new Date() };
  const t1 = performance.now();
  for (let i = 0; i < 50; i++) await evaluateGate(deps, { target: { gate, service: { id: svc!.id, slug: svc!.slug }, environment: "production", sha: null }, caller: { name: "x", tokenId: null }, inputs: {} });
  console.log("evaluateGate ms", ((performance.now() - t1) / 50).toFixed(2));
}
await database.close();
