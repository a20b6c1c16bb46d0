import type { Service } from "./api-types.ts";

/**
 * A link to a commit when the service's repository is on GitHub (github.com): the only host
 * a repository mapping pins down. Other providers may be self-hosted, so no link is guessed.
 */
export function commitUrl(service: Pick<Service, "repositories">, sha: string): string | null {
  const repo = service.repositories.find((r) => r.provider === "github");
  return repo ? `https://github.com/${repo.name}/commit/${sha}` : null;
}

export const FAILURE_LABEL: Record<string, string> = {
  incident: "incident",
  rolled_back: "rolled back",
  fixed: "fixed forward",
  marked: "marked failed",
};

export const REWORK_LABEL: Record<string, string> = {
  rollback: "rollback",
  hotfix: "hotfix",
  fix_forward: "fix-forward",
  after_failure: "first after a failure",
};

/** Only http(s) links from the API are rendered as links (a URL field could hold anything). */
export const safeHref = (url: string | null | undefined): string | null =>
  url && /^https?:\/\//i.test(url) ? url : null;
