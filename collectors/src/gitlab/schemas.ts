import { z } from "zod";
import type { RepositoryRef, ServiceRef } from "../events.ts";

/** The `project` of project and group hooks; its full path names the repository. */
export const projectSchema = z.object({
  path_with_namespace: z.string().min(1),
  web_url: z.string().nullish(),
});

export type GitLabProject = z.output<typeof projectSchema>;

export function repositoryRef(project: GitLabProject): RepositoryRef {
  return { name: project.path_with_namespace, provider: "gitlab", url: project.web_url ?? undefined };
}

export function serviceOf(project: GitLabProject): ServiceRef {
  return { repository: project.path_with_namespace };
}
