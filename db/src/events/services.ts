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
 * Who names an unknown repository or service, creating a service for it (SPEC 3's zero
 * configuration): a webhook integration or an ingest token. Admin writes pass none and are
 * not limited. Creations are counted per creator (services.auto_created_by) so that a token or
 * a leaked webhook secret cannot create services without end (docs/operations.md).
 */
export interface AutoCreator {
  /** "integration:<id>" or "token:<id>": stamped on what it creates. */
  key: string;
  /** How many services it may have created in all (SLUICE_AUTO_SERVICE_QUOTA); 0 = none. */
  quota: number;
  /** A team-limited token's team: what it creates belongs to that team. */
  teamId?: number | null;
}

/** The creator already has `quota` auto-created services; its transaction must roll back. */
export class ServiceQuotaExceededError extends Error {
  readonly creator: string;
  readonly quota: number;
  constructor(creator: string, quota: number) {
    super(`${creator} may create no more services by naming unknown repositories or services (quota ${quota})`);
    this.name = "ServiceQuotaExceededError";
    this.creator = creator;
    this.quota = quota;
  }
}

/**
 * Serializes one creator's creations until its transaction ends, so that concurrent first
 * events cannot both pass the quota check. Taken before the repository's row lock, always.
 */
async function lockCreator(tx: Executor, creator: AutoCreator) {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`sluice.auto-service:${creator.key}`}, 0))`);
}

async function assertQuota(tx: Executor, creator: AutoCreator) {
  const [row] = await tx
    .select({ created: sql<number>`count(*)::int` })
    .from(services)
    .where(eq(services.autoCreatedBy, creator.key));
  if ((row?.created ?? 0) >= creator.quota) throw new ServiceQuotaExceededError(creator.key, creator.quota);
}

/**
 * The services built from a repository, oldest first. When none claims it, a service
 * named after the repository is created (SPEC 3: "octo/checkout" -> "checkout", or
 * "octo-checkout" on a clash) so that zero configuration works: in the creator's team, counted
 * against its quota (ServiceQuotaExceededError past it). The repository row is locked while
 * deciding, so concurrent first events create one service, not two.
 */
export async function servicesForRepository(
  tx: Executor,
  input: RepositoryInput & { creator?: AutoCreator | null },
): Promise<number[]> {
  const { creator = null } = input;
  const claimed = async (repositoryId: number) =>
    (
      await tx
        .selectDistinct({ id: serviceRepositories.serviceId })
        .from(serviceRepositories)
        .where(eq(serviceRepositories.repositoryId, repositoryId))
        .orderBy(serviceRepositories.serviceId)
    ).map((row) => row.id);
  const [known] = await tx.select({ id: repositories.id }).from(repositories).where(eq(repositories.name, input.name.toLowerCase()));
  if (known) {
    const found = await claimed(known.id);
    if (found.length > 0) return found;
  }

  if (creator) await lockCreator(tx, creator);
  const repositoryId = known?.id ?? (await ensureRepository(tx, input));
  await tx.execute(sql`select id from ${repositories} where id = ${repositoryId} for update`);
  const afterLock = await claimed(repositoryId);
  if (afterLock.length > 0) return afterLock;

  if (creator) await assertQuota(tx, creator);
  const slug = await freeSlug(tx, input.name.toLowerCase());
  const [created] = await tx
    .insert(services)
    .values({ slug, name: slug, teamId: creator?.teamId ?? null, autoCreatedBy: creator?.key ?? null })
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

/**
 * A service by name, created (named after it) when none matches: webhooks need no set-up. A
 * creation is counted against the creator's quota, as in servicesForRepository.
 */
export async function ensureServiceByName(tx: Executor, input: { name: string; creator?: AutoCreator | null }): Promise<number> {
  const { name, creator = null } = input;
  const found = await serviceByName(tx, name);
  if (found !== undefined) return found;
  const slug = slugify(name);
  const bySlug = async () => (await tx.select({ id: services.id }).from(services).where(eq(services.slug, slug)))[0]?.id;
  if (creator) {
    await lockCreator(tx, creator);
    // A name that slugifies to an existing service's slug names that service: nothing is created.
    const existing = await bySlug();
    if (existing !== undefined) return existing;
    await assertQuota(tx, creator);
  }
  await tx
    .insert(services)
    .values({ slug, name: name.trim(), teamId: creator?.teamId ?? null, autoCreatedBy: creator?.key ?? null })
    .onConflictDoNothing({ target: services.slug });
  const id = await bySlug();
  if (id === undefined) throw new Error(`service ${slug} vanished`);
  return id;
}

export async function serviceRepositoryIds(tx: Executor, serviceId: number): Promise<number[]> {
  const rows = await tx
    .selectDistinct({ id: serviceRepositories.repositoryId })
    .from(serviceRepositories)
    .where(and(eq(serviceRepositories.serviceId, serviceId)));
  return rows.map((row) => row.id);
}
