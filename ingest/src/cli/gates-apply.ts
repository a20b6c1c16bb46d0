import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { GateSpec } from "../gates/rule-schemas.ts";
import { parse } from "./args.ts";
import { CliError, type Client, EXIT, apiError } from "./client.ts";

export const GATES_APPLY_USAGE = `Usage: sluice gates apply FILE [--dry-run]

Creates or updates the gates in FILE (YAML or JSON; "-" reads stdin) by slug, and prints
what changed: created, updated or unchanged. Applying the same file again changes nothing.
Gates that are not in the file are left alone. The file is checked completely before
anything is changed. Needs an admin token.

FILE holds a list of gates, or {gates: [...]}:

  - slug: production-safety
    applies_to: { environments: [production] }
    rules:
      - { type: change_failure_rate, max: 0.15 }
      - { type: open_incidents, min_severity: high }

  --dry-run   print what would change, change nothing`;

type Spec = ReturnType<typeof GateSpec.parse>;

/** JSON with sorted keys, so a stored gate and a file's gate compare by content. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

const desired = (spec: Spec) => ({ name: spec.name ?? spec.slug, applies_to: spec.applies_to, mode: spec.mode, rules: spec.rules });

async function readSource(file: string): Promise<string> {
  if (file === "-") {
    let text = "";
    for await (const chunk of process.stdin) text += chunk;
    return text;
  }
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

/** Every gate of the file, validated with the API's own schema; all problems at once. */
export function readGates(text: string, file: string): Spec[] {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new CliError(`${file} is not valid YAML or JSON: ${(error as Error).message}`);
  }
  const list = Array.isArray(document)
    ? document
    : document && typeof document === "object" && Array.isArray((document as { gates?: unknown }).gates)
      ? (document as { gates: unknown[] }).gates
      : null;
  if (!list) throw new CliError(`${file} must hold a list of gates, or {gates: [...]}`);
  const problems: string[] = [];
  const specs: Spec[] = [];
  list.forEach((item, index) => {
    const parsed = GateSpec.safeParse(item);
    const label = typeof (item as { slug?: unknown })?.slug === "string" ? `${(item as { slug: string }).slug}` : `gates[${index}]`;
    if (parsed.success) specs.push(parsed.data);
    else for (const issue of parsed.error.issues) problems.push(`  ${label}: ${issue.path.join(".") || "(gate)"}: ${issue.message}`);
  });
  const seen = new Set<string>();
  for (const spec of specs) {
    if (seen.has(spec.slug)) problems.push(`  ${spec.slug}: appears more than once`);
    seen.add(spec.slug);
  }
  if (problems.length > 0) throw new CliError(`${file} has problems; nothing was changed:\n${problems.join("\n")}`);
  return specs;
}

export async function gatesApply(argv: string[], client: () => Client, out: { stdout: (s: string) => void }) {
  const args = parse(argv, { "dry-run": { type: "boolean" } }, GATES_APPLY_USAGE);
  if (args.help) {
    out.stdout(GATES_APPLY_USAGE);
    return EXIT.ok;
  }
  const [file, ...extra] = args.positionals;
  if (!file || extra.length > 0) throw new CliError(`name exactly one FILE\n\n${GATES_APPLY_USAGE}`);
  const specs = readGates(await readSource(file), file);
  const dryRun = args.values["dry-run"] === true;
  const api = client();
  const counts = { created: 0, updated: 0, unchanged: 0 };
  for (const spec of specs) {
    const path = `/api/v1/gates/${encodeURIComponent(spec.slug)}`;
    const existing = await api.json<Record<string, unknown>>("GET", path);
    let outcome: keyof typeof counts;
    if (existing.status === 404) {
      outcome = "created";
      if (!dryRun) {
        const created = await api.json("POST", "/api/v1/gates", spec);
        if (created.status !== 201) throw apiError(created.status, created.body);
      }
    } else if (existing.status === 200) {
      const stored = existing.body;
      const current = { name: stored.name, applies_to: stored.applies_to, mode: stored.mode, rules: stored.rules };
      outcome = canonical(current) === canonical(desired(spec)) ? "unchanged" : "updated";
      if (outcome === "updated" && !dryRun) {
        const updated = await api.json("PATCH", path, desired(spec));
        if (updated.status !== 200) throw apiError(updated.status, updated.body);
      }
    } else {
      throw apiError(existing.status, existing.body);
    }
    counts[outcome]++;
    out.stdout(`${(dryRun && outcome !== "unchanged" ? `would be ${outcome}` : outcome).padEnd(18)}${spec.slug}`);
  }
  out.stdout(`${counts.created} created, ${counts.updated} updated, ${counts.unchanged} unchanged${dryRun ? " (dry run: nothing changed)" : ""}`);
  return EXIT.ok;
}
