import { type Db, integrations } from "@sluice/db";
import { sql } from "drizzle-orm";

type Integration = typeof integrations.$inferSelect;

interface Loader {
  query: ReturnType<typeof integrationsQuery>;
  /** Ids asked for in this turn of the event loop, with who is waiting for each. */
  pending: Map<string, Array<{ resolve: (row: Integration | undefined) => void; reject: (error: unknown) => void }>> | null;
}

// Every delivery reads its integration. Deliveries arriving together share one read (each
// still sees the row as it is when it arrives), from a statement built once per database.
const loaders = new WeakMap<Db, Loader>();

const integrationsQuery = (db: Db) =>
  db
    .select()
    .from(integrations)
    .where(sql`${integrations.id} in (select jsonb_array_elements_text(${sql.placeholder("ids")}::jsonb))`)
    .prepare("webhook_integrations");

export function findIntegration(db: Db, id: string): Promise<Integration | undefined> {
  let loader = loaders.get(db);
  if (!loader) {
    loader = { query: integrationsQuery(db), pending: null };
    loaders.set(db, loader);
  }
  const current = loader;
  return new Promise((resolve, reject) => {
    if (!current.pending) {
      const pending: NonNullable<Loader["pending"]> = new Map();
      current.pending = pending;
      setImmediate(() => {
        current.pending = null;
        void load(current, pending);
      });
    }
    const waiting = current.pending.get(id) ?? [];
    waiting.push({ resolve, reject });
    current.pending.set(id, waiting);
  });
}

async function load(loader: Loader, pending: NonNullable<Loader["pending"]>) {
  try {
    const found = await loader.query.execute({ ids: JSON.stringify([...pending.keys()]) });
    const byId = new Map(found.map((row) => [row.id, row]));
    for (const [id, waiting] of pending) for (const { resolve } of waiting) resolve(byId.get(id));
  } catch (error) {
    for (const waiting of pending.values()) for (const { reject } of waiting) reject(error);
  }
}
