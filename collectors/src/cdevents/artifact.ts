import { isCommitSha } from "../git.ts";

/** Package URL types whose version is a commit of the repository they name. */
const GIT_PURL_TYPES = new Set(["git", "github", "gitlab", "bitbucket"]);

/**
 * The git commit an artifactId (a package URL) names, if any:
 * - `pkg:github/octo/checkout@<sha>` (and git, gitlab, bitbucket): the version is the commit;
 * - any type with a `vcs_url=git+https://host/repo@<sha>` qualifier.
 * An OCI image digest (`pkg:oci/app@sha256:...`) names an image, not a commit.
 */
export function commitOfArtifact(artifactId: string): string | undefined {
  const match = /^pkg:([a-z0-9.+-]+)\/([^?#]*?)(?:@([^?#]*))?(?:\?([^#]*))?(?:#.*)?$/i.exec(artifactId);
  if (!match) return undefined;
  const [, type = "", , version, qualifiers] = match;
  const decodedVersion = safeDecode(version ?? "");
  if (GIT_PURL_TYPES.has(type.toLowerCase()) && isCommitSha(decodedVersion)) return decodedVersion.toLowerCase();
  for (const pair of (qualifiers ?? "").split("&")) {
    const [key, value = ""] = pair.split("=");
    if (key !== "vcs_url") continue;
    const commit = /@([0-9a-f]{40}|[0-9a-f]{64})$/i.exec(safeDecode(value))?.[1];
    if (commit) return commit.toLowerCase();
  }
  return undefined;
}

/**
 * What a deployment or incident names as deployed: the commit when the artifact names one, else the
 * artifactId itself, an opaque but stable name of what ran. Deployments and incidents from CDEvents
 * then still match each other, and a redeploy of an earlier artifact is still seen as a rollback.
 */
export function deployedRef(artifactId: string): string {
  return commitOfArtifact(artifactId) ?? artifactId;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
