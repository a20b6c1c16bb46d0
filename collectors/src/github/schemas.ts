import { z } from "zod";
import type { RepositoryRef, ServiceRef } from "../events.ts";

/** The `repository` every repository event carries; we need its full name and page. */
export const repositorySchema = z.object({
  full_name: z.string().min(1),
  html_url: z.string().nullish(),
});

export type GitHubRepository = z.output<typeof repositorySchema>;

export function repositoryRef(repository: GitHubRepository): RepositoryRef {
  return { name: repository.full_name, provider: "github", url: repository.html_url ?? undefined };
}

export function serviceOf(repository: GitHubRepository): ServiceRef {
  return { repository: repository.full_name };
}
