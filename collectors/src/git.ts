/** Git facts shared by the sources that report pushes and merges. */

/** A full commit id: SHA-1 (40 hex) or SHA-256 (64 hex) object format. */
export function isCommitSha(value: string): boolean {
  return /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i.test(value);
}

/** `before`/`after` of a branch creation or deletion. */
export function isZeroSha(value: string): boolean {
  return /^0+$/.test(value);
}

/** `refs/heads/feature/x` -> `feature/x`; tags and other refs name no branch. */
export function branchFromRef(ref: string | null | undefined): string | undefined {
  return ref?.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) || undefined : undefined;
}

/**
 * Parents as a push reports them (SPEC 4, "Changes of a deployment"): each commit's parent is the
 * commit before it in the list, and the first commit's parent is `before`, unless the push created
 * the branch (`before` is all zeros). Merge commits have more parents than a push can tell.
 */
export function pushParents(shas: string[], before: string | null | undefined): (string[] | undefined)[] {
  return shas.map((_, i) => {
    const parent = i === 0 ? before : shas[i - 1];
    return parent && !isZeroSha(parent) ? [parent] : undefined;
  });
}

/** Files touched by a commit, each once, in the order the source listed them. */
export function touchedFiles(...lists: (readonly string[] | null | undefined)[]): string[] {
  return [...new Set(lists.flatMap((list) => list ?? []))];
}
