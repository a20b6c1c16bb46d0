import { and, eq, sql } from "drizzle-orm";
import type { Executor } from "../client.ts";
import { repositories, serviceRepositories, services } from "../schema/index.ts";

export interface RepositoryInput {
  name: string;
  provider?: string;
  url?: string | undefined;
}

/** The repository row for a full path, created on first sight. */
export async function ensureRepository(tx: Executor, input: RepositoryInput): Promise<number> {
  const name = input.name.toLowerCase();
  // Almost always known already: one read, and the insert only on first sight.
  const [known] = await tx.select({ id: repositories.id }).from(repositories).where(eq(repositories.name, name));
  if (known) return known.id;
  const [inserted] = await tx
    .insert(repositories)
    .values({ name, provider: input.provider ?? "git", url: input.url ?? null })
    .onConflictDoNothing({ target: repositories.name })
    .returning({ id: repositories.id });
  if (inserted) return inserted.id;
  const [existing] = await tx.select({ id: repositories.id }).from(repositories).where(eq(repositories.name, name));
  if (!existing) throw new Error(`repository ${name} vanished`);
  return existing.id;
}

/**
 * The services built from a repository, oldest first. When none claims it, a service
 * named after the repository is created (SPEC 3: "octo/checkout" -> "checkout", or
 * "octo-checkout" on a clash) so that zero configuration works. The repository row is
 * locked while deciding, so concurrent first events create one service, not two.
 */
export async function servicesForRepository(
  tx: Executor,
  input: RepositoryInput & { teamId?: number | null },
): Promise<number[]> {
  const repositoryId = await ensureRepository(tx, input);
  const claimed = async () =>
    (
      await tx
        .selectDistinct({ id: serviceRepositories.serviceId })
        .from(serviceRepositories)
        .where(eq(serviceRepositories.repositoryId, repositoryId))
        .orderBy(serviceRepositories.serviceId)
    ).map((row) => row.id);
  const found = await claimed();
  if (found.length > 0) return found;

  await tx.execute(sql`select id from ${repositories} where id = ${repositoryId} for update`);
  const afterLock = await claimed();
  if (afterLock.length > 0) return afterLock;

  const slug = await freeSlug(tx, input.name.toLowerCase());
  const [created] = await tx
    .insert(services)
    .values({ slug, name: slug, teamId: input.teamId ?? null })
    .returning({ id: services.id });
  if (!created) throw new Error("service insert returned no row");
  await tx.insert(serviceRepositories).values({ serviceId: created.id, repositoryId, pathPrefix: "" });
  return [created.id];
}

function slugify(value: string): string {
  return (
    value
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, "-")
      .replace(/^[^a-z0-9]+/, "")
      .slice(0, 63)
      .replace(/-+$/, "") || "service"
  );
}

async function freeSlug(tx: Executor, repository: string): Promise<string> {
  const parts = repository.split("/");
  const last = slugify(parts.at(-1) ?? repository);
  const full = slugify(parts.join("-"));
  const candidates = [last, full];
  for (let n = 2; n < 1000; n++) candidates.push(`${full.slice(0, 58)}-${n}`);
  for (const candidate of candidates) {
    const [taken] = await tx.select({ id: services.id }).from(services).where(eq(services.slug, candidate));
    if (!taken) return candidate;
  }
  throw new Error(`no free service slug for ${repository}`);
}

/** A service by slug, name or alias (case-insensitive), as incident tools and alerts name it. */
export async function serviceByName(tx: Executor, name: string): Promise<number | undefined> {
  const wanted = name.trim().toLowerCase();
  const [row] = await tx
    .select({ id: services.id })
    .from(services)
    .where(
      sql`${services.slug} = ${wanted} or lower(${services.name}) = ${wanted}
          or exists (select 1 from unnest(${services.aliases}) a where lower(a) = ${wanted})`,
    )
    .orderBy(sql`${services.slug} = ${wanted} desc`, services.id)
    .limit(1);
  return row?.id;
}

/** A service by name, created (named after it) when none matches: webhooks need no set-up. */
export async function ensureServiceByName(tx: Executor, name: string, teamId?: number | null): Promise<number> {
  const found = await serviceByName(tx, name);
  if (found !== undefined) return found;
  const slug = slugify(name);
  await tx
    .insert(services)
    .values({ slug, name: name.trim(), teamId: teamId ?? null })
    .onConflictDoNothing({ target: services.slug });
  const [row] = await tx.select({ id: services.id }).from(services).where(eq(services.slug, slug));
  if (!row) throw new Error(`service ${slug} vanished`);
  return row.id;
}

export async function serviceRepositoryIds(tx: Executor, serviceId: number): Promise<number[]> {
  const rows = await tx
    .selectDistinct({ id: serviceRepositories.repositoryId })
    .from(serviceRepositories)
    .where(and(eq(serviceRepositories.serviceId, serviceId)));
  return rows.map((row) => row.id);
}
