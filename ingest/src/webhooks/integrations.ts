import { type Db, integrations } from "@sluice/db";
import { sql } from "drizzle-orm";
import { Coalescer, coalescerFor } from "./coalesce.ts";

type Integration = typeof integrations.$inferSelect;

interface Waiting {
  id: string;
  resolve: (row: Integration | undefined) => void;
  reject: (error: unknown) => void;
}

// Every delivery reads its integration. Deliveries arriving together share one read, one at a
// time per database (coalesce.ts): each still sees the row as it is after it arrived. The
// statement is built once per database.
const queries = new WeakMap<Db, ReturnType<typeof integrationsQuery>>();
const coalescers = new WeakMap<Db, Coalescer<Waiting>>();

const integrationsQuery = (db: Db) =>
  db
    .select()
    .from(integrations)
    .where(sql`${integrations.id} in (select jsonb_array_elements_text(${sql.placeholder("ids")}::jsonb))`)
    .prepare("webhook_integrations");

export function findIntegration(db: Db, id: string): Promise<Integration | undefined> {
  const coalescer = coalescerFor(coalescers, db, () => new Coalescer({ concurrency: 1, maxBatch: 500, run: (batch) => load(db, batch) }));
  return new Promise((resolve, reject) => coalescer.add({ id, resolve, reject }));
}

async function load(db: Db, batch: Waiting[]) {
  let query = queries.get(db);
  if (!query) {
    query = integrationsQuery(db);
    queries.set(db, query);
  }
  try {
    const found = await query.execute({ ids: JSON.stringify([...new Set(batch.map((w) => w.id))]) });
    const byId = new Map(found.map((row) => [row.id, row]));
    for (const { id, resolve } of batch) resolve(byId.get(id));
  } catch (error) {
    for (const { reject } of batch) reject(error);
  }
}
