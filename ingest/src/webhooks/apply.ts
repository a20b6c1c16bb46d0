import type { ChangeEvent, DeploymentEvent, GateRequestEvent, IncidentEvent, NormalizedEvent, ServiceRef } from "@sluice/collectors";
import {
  type AutoCreator,
  type ChangeInput,
  type Executor,
  deployments,
  ensureRepository,
  ensureServiceByName,
  matchesPattern,
  patchDeployment,
  recordChange,
  recordDeployment,
  recordIncident,
  rows,
  services,
  servicesForRepository,
} from "@sluice/db";
import { and, eq, like, ne, sql } from "drizzle-orm";

export interface EventOutcome {
  kind: NormalizedEvent["kind"];
  service: string | null;
  /** sha for changes and deployments, external id for incidents. */
  ref: string;
  action: "created" | "updated" | "ignored";
  reason?: string;
}

export interface PendingGateRequest {
  serviceId: number;
  environment: string;
  sha?: string;
  deploymentCallbackUrl: string;
  /** "owner/name" the delivery names: the only repository whose callback may be answered (SPEC 7 v2). */
  repository: string;
  installationId?: number;
}

const date = (value: string | undefined) => (value === undefined ? undefined : new Date(value));

/** What applying one delivery's events needs besides the events. */
interface EventContext {
  source: string;
  now: Date;
  /** Who creates the services the events name (null: not limited). */
  creator: AutoCreator | null;
  /** Set when a rebuild applies the events again: its start, stamped on every row they reach (reprocess.ts). */
  rebuild?: Date | undefined;
}

/**
 * Resolves how an event names its service (SPEC 3): by repository (creating a service for a
 * repository nobody claims), else by slug, name or alias (creating one named after it); what
 * it creates counts against the creator's quota. Several services may claim one monorepo; a
 * deployment then goes to the one whose slug the environment names ("checkout/production"),
 * else to the oldest.
 */
async function findOrCreateService(options: {
  tx: Executor;
  ref: ServiceRef;
  hint?: string | undefined;
  creator: AutoCreator | null;
}): Promise<{ id: number; slug: string; deploymentPattern: string } | null> {
  const { tx, ref, hint, creator } = options;
  let id: number | undefined;
  if (ref.repository) {
    const ids = await servicesForRepository(tx, { name: ref.repository, creator });
    if (ids.length > 1 && hint) {
      const named = await tx.select({ id: services.id, slug: services.slug }).from(services);
      const lowered = hint.toLowerCase();
      id = named.find((s) => ids.includes(s.id) && lowered.split(/[^a-z0-9._-]+/).includes(s.slug))?.id;
    }
    id ??= ids[0];
  } else if (ref.name) {
    id = await ensureServiceByName(tx, { name: ref.name, creator });
  }
  if (id === undefined) return null;
  const [row] = await tx
    .select({ id: services.id, slug: services.slug, deploymentPattern: services.deploymentPattern })
    .from(services)
    .where(eq(services.id, id));
  return row ?? null;
}

async function applyDeployment(tx: Executor, event: DeploymentEvent, context: EventContext): Promise<EventOutcome> {
  const { source, now } = context;
  const service = await findOrCreateService({ tx, ref: event.service, hint: event.environment, creator: context.creator });
  const base = { kind: "deployment" as const, ref: event.sha, service: service?.slug ?? null };
  if (!service) return { ...base, action: "ignored", reason: "the event names no service" };

  if (event.workflow !== undefined) {
    if (!matchesPattern(service.deploymentPattern, event.workflow)) {
      return { ...base, action: "ignored", reason: `workflow "${event.workflow}" does not match the service's deployment pattern` };
    }
    // A repository using GitHub Deployments reports each deployment precisely; its workflow
    // runs would count the same deployment twice (docs: README "GitHub").
    if (await usesDeploymentsApi(tx, service.id, event.environment)) {
      // A run recorded before the first GitHub deployment stays, canceled (supersedeWorkflowRuns):
      // a rebuild reaching it again keeps it.
      if (context.rebuild) await stampRebuilt(tx, service.id, event.external_id, context.rebuild);
      return { ...base, action: "ignored", reason: "the service reports this environment through GitHub deployments" };
    }
  }

  const { created } = await recordDeployment(
    tx,
    {
      serviceId: service.id,
      environment: event.environment,
      sha: event.sha,
      status: event.status,
      startedAt: date(event.started_at),
      finishedAt: date(event.finished_at),
      source,
      externalId: event.external_id,
      url: event.url,
      branch: event.branch,
      rollback: event.rollback,
      hotfix: event.hotfix,
      rebuiltAt: context.rebuild,
    },
    now,
  );
  if (event.workflow === undefined && event.external_id.startsWith("github-deployment-")) {
    await supersedeWorkflowRuns(tx, service.id, event, now);
  }
  return { ...base, action: created ? "created" : "updated" };
}

async function usesDeploymentsApi(tx: Executor, serviceId: number, environment: string): Promise<boolean> {
  const [found] = await tx
    .select({ id: deployments.id })
    .from(deployments)
    .where(and(eq(deployments.serviceId, serviceId), eq(deployments.environment, environment), like(deployments.externalId, "github-deployment-%")))
    .limit(1);
  return found !== undefined;
}

async function stampRebuilt(tx: Executor, serviceId: number, externalId: string, rebuild: Date) {
  await tx
    .update(deployments)
    .set({ rebuiltAt: rebuild })
    .where(and(eq(deployments.serviceId, serviceId), eq(deployments.externalId, externalId)));
}

/** Workflow-run deployments recorded before the first GitHub deployment of the same sha stop counting. */
async function supersedeWorkflowRuns(tx: Executor, serviceId: number, event: DeploymentEvent, now: Date) {
  const twins = await tx
    .select({ id: deployments.id })
    .from(deployments)
    .where(
      and(
        eq(deployments.serviceId, serviceId),
        eq(deployments.environment, event.environment),
        eq(deployments.sha, event.sha),
        like(deployments.externalId, "github-workflow-run-%"),
        // Canceled already: the same event applied again (a redelivery, a rebuild) changes nothing.
        ne(deployments.status, "canceled"),
      ),
    );
  for (const twin of twins) await patchDeployment(tx, twin.id, { status: "canceled" }, now);
}

async function applyIncident(tx: Executor, event: IncidentEvent, context: EventContext): Promise<EventOutcome> {
  const { source, now } = context;
  const service = await findOrCreateService({ tx, ref: event.service, creator: context.creator });
  const base = { kind: "incident" as const, ref: event.external_id, service: service?.slug ?? null };
  if (!service) return { ...base, action: "ignored", reason: "the event names no service" };
  const { created } = await recordIncident(
    tx,
    {
      serviceId: service.id,
      externalId: event.external_id,
      source,
      title: event.title,
      severity: event.severity,
      url: event.url,
      startedAt: new Date(event.started_at),
      resolvedAt: event.resolved_at === undefined ? undefined : event.resolved_at === null ? null : new Date(event.resolved_at),
      causeSha: event.sha && /^[0-9a-f]{7,64}$/i.test(event.sha) ? event.sha.toLowerCase() : undefined,
      rebuiltAt: context.rebuild,
    },
    now,
  );
  return { ...base, action: created ? "created" : "updated" };
}

/** A commit's repository, with the service named as its owner in the outcome (created, by the creator, if none claims it). */
async function resolveRepository(
  tx: Executor,
  options: { repository: { name: string; provider?: string | undefined; url?: string | undefined }; creator: AutoCreator | null },
) {
  const { repository, creator } = options;
  // Almost always a repository seen before and claimed: one read.
  const [known] = await rows<{ repository_id: number; slug: string | null }>(
    tx,
    sql`select r.id::int as repository_id, s.slug
        from repositories r
        left join service_repositories sr on sr.repository_id = r.id
        left join services s on s.id = sr.service_id
        where r.name = ${repository.name.toLowerCase()}
        order by s.id nulls last limit 1`,
  );
  if (known?.slug) return { repositoryId: known.repository_id, owner: known.slug };
  const input = { name: repository.name, provider: repository.provider, url: repository.url };
  const serviceIds = await servicesForRepository(tx, { ...input, creator });
  const repositoryId = await ensureRepository(tx, input);
  const [owner] = await tx.select({ slug: services.slug }).from(services).where(eq(services.id, serviceIds[0] ?? -1));
  return { repositoryId, owner: owner?.slug ?? null };
}

/** A change event as the row recordChange writes (shas lower-cased, times as dates). */
export function changeInput(event: ChangeEvent, repositoryId: number): ChangeInput {
  const pr = event.pull_request;
  return {
    repositoryId,
    sha: event.sha.toLowerCase(),
    committedAt: date(event.committed_at),
    authoredAt: date(event.authored_at),
    author: event.author,
    message: event.message,
    branch: event.branch,
    files: event.files,
    parents: event.parents?.map((p) => p.toLowerCase()),
    pullRequest: pr && {
      number: pr.number,
      openedAt: date(pr.opened_at),
      mergedAt: date(pr.merged_at),
      firstCommitAt: date(pr.first_commit_at),
      url: pr.url,
    },
  };
}

/**
 * Stores a delivery's normalized events and queues their derivation, inside the
 * caller's transaction. Gate requests are returned to be answered after the commit.
 * Services created for unknown names are the creator's (the delivery's integration) and count
 * against its quota: past it, ServiceQuotaExceededError is thrown and the caller rolls back.
 * Without a creator (reprocessing, an admin's rebuild) creations are not limited.
 */
export async function applyEvents(
  tx: Executor,
  events: NormalizedEvent[],
  options: { source: string; now: Date; creator?: AutoCreator | null; rebuild?: Date | undefined },
): Promise<{ outcomes: EventOutcome[]; gateRequests: PendingGateRequest[] }> {
  const creator = options.creator ?? null;
  const context: EventContext = { source: options.source, now: options.now, creator, rebuild: options.rebuild };
  const outcomes: EventOutcome[] = [];
  const gateRequests: PendingGateRequest[] = [];
  const repositories = new Map<string, { repositoryId: number; owner: string | null }>();
  for (const event of events) {
    switch (event.kind) {
      case "change": {
        // A push names one repository for all its commits: resolved once per delivery.
        const key = event.repository.name.toLowerCase();
        let resolved = repositories.get(key);
        if (!resolved) {
          resolved = await resolveRepository(tx, { repository: event.repository, creator });
          repositories.set(key, resolved);
        }
        const { repositoryId, owner } = resolved;
        const { created } = await recordChange(tx, changeInput(event, repositoryId));
        outcomes.push({ kind: "change", service: owner, ref: event.sha, action: created ? "created" : "updated" });
        break;
      }
      case "deployment":
        outcomes.push(await applyDeployment(tx, { ...event, sha: event.sha.toLowerCase() }, context));
        break;
      case "incident":
        outcomes.push(await applyIncident(tx, event, context));
        break;
      case "gate_request": {
        const request = event as GateRequestEvent;
        const repository = request.service.repository;
        const service = repository ? await findOrCreateService({ tx, ref: request.service, hint: request.environment, creator }) : null;
        if (!service || !repository) {
          outcomes.push({ kind: "gate_request", service: null, ref: request.sha ?? "", action: "ignored", reason: "the event names no service" });
          break;
        }
        gateRequests.push({
          serviceId: service.id,
          environment: request.environment,
          deploymentCallbackUrl: request.deployment_callback_url,
          repository,
          ...(request.sha ? { sha: request.sha.toLowerCase() } : {}),
          ...(request.installation_id !== undefined ? { installationId: request.installation_id } : {}),
        });
        outcomes.push({ kind: "gate_request", service: service.slug, ref: request.sha ?? "", action: "created" });
        break;
      }
    }
  }
  return { outcomes, gateRequests };
}
