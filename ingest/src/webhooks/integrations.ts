import { type Db, integrations } from "@sluice/db";
import { sql } from "drizzle-orm";
import { batchThisTurn } from "./this-turn.ts";

type Integration = typeof integrations.$inferSelect;

interface Waiting {
  id: string;
  resolve: (row: Integration | undefined) => void;
  reject: (error: unknown) => void;
}

// Every delivery reads its integration. Deliveries arriving together share one read (each
// still sees the row as it is when it arrives), from a statement built once per database.
const queries = new WeakMap<Db, ReturnType<typeof integrationsQuery>>();
const waiting = new WeakMap<Db, Waiting[]>();

const integrationsQuery = (db: Db) =>
  db
    .select()
    .from(integrations)
    .where(sql`${integrations.id} in (select jsonb_array_elements_text(${sql.placeholder("ids")}::jsonb))`)
    .prepare("webhook_integrations");

export function findIntegration(db: Db, id: string): Promise<Integration | undefined> {
  return new Promise((resolve, reject) => batchThisTurn(waiting, db, { id, resolve, reject }, (batch) => void load(db, batch)));
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
