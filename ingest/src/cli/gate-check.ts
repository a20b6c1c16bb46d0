import { parseDuration } from "../gates/durations.ts";
import { optional, parse, required } from "./args.ts";
import { CliError, type Client, EXIT, apiError, sleep } from "./client.ts";

export const GATE_CHECK_USAGE = `Usage: sluice gate check <gate> --service S [--sha X] [--environment E] [--wait 15m] [--json]

Asks Sluice whether a change may be promoted, printing each rule's sentence.

  --service S        the service being promoted (required)
  --sha X            the commit being promoted
  --environment E    where it is going (default: the gate's first environment)
  --wait DURATION    while the gate is pending, ask again (honouring its retry time)
                     for up to this long, e.g. 90s, 15m, 1h
  --json             print the final evaluation as JSON on stdout

Exit codes: 0 allowed (pass, warn or dry run), 1 blocked, 2 still pending after --wait,
3 error (Sluice unreachable, bad token, unknown gate or service).`;

interface Evaluation {
  evaluation_id: number;
  gate: string;
  service: string;
  environment: string;
  sha: string | null;
  decision: "pass" | "warn" | "fail" | "pending";
  allow: boolean;
  enforced: boolean;
  rules: Array<{ type: string; status: string; message: string }>;
  retry_after_seconds: number | null;
  override: { reason: string; expires_at: string } | null;
}

function describe(evaluation: Evaluation): string {
  const target = `${evaluation.service}${evaluation.sha ? `@${evaluation.sha.slice(0, 12)}` : ""} to ${evaluation.environment}`;
  const verdict = evaluation.allow ? (evaluation.enforced ? "allowed" : "allowed (dry run)") : "blocked";
  const lines = [`gate ${evaluation.gate}: ${evaluation.decision.toUpperCase()} for ${target}, ${verdict} (evaluation ${evaluation.evaluation_id})`];
  if (evaluation.override) {
    lines.push(`  override  ${evaluation.override.reason} (until ${evaluation.override.expires_at})`);
  }
  for (const rule of evaluation.rules) lines.push(`  ${rule.status.padEnd(8)}${rule.type}: ${rule.message}`);
  if (evaluation.decision === "pending" && evaluation.retry_after_seconds !== null) {
    lines.push(`  retry after ${evaluation.retry_after_seconds}s`);
  }
  return lines.join("\n");
}

export async function gateCheck(argv: string[], client: () => Client, out: { stdout: (s: string) => void; stderr: (s: string) => void }) {
  const args = parse(
    argv,
    {
      service: { type: "string" },
      sha: { type: "string" },
      environment: { type: "string" },
      wait: { type: "string" },
      json: { type: "boolean" },
    },
    GATE_CHECK_USAGE,
  );
  if (args.help) {
    out.stdout(GATE_CHECK_USAGE);
    return EXIT.ok;
  }
  const [gate, ...extra] = args.positionals;
  if (!gate || extra.length > 0) throw new CliError(`name exactly one gate\n\n${GATE_CHECK_USAGE}`);
  const service = required(args.values, "service", GATE_CHECK_USAGE);
  const waitText = optional(args.values, "wait");
  const waitSeconds = waitText === undefined ? 0 : parseDuration(waitText);
  if (waitSeconds === null) throw new CliError(`--wait must be a duration like 90s, 15m or 1h\n\n${GATE_CHECK_USAGE}`);
  const body = {
    service,
    ...(optional(args.values, "sha") ? { sha: optional(args.values, "sha") } : {}),
    ...(optional(args.values, "environment") ? { environment: optional(args.values, "environment") } : {}),
  };
  const api = client();
  const deadline = Date.now() + waitSeconds * 1000;

  for (;;) {
    const { status, body: answer } = await api.json<Evaluation>("POST", `/api/v1/gates/${encodeURIComponent(gate)}/evaluate`, body);
    if (status !== 200) throw apiError(status, answer);
    const finish = (code: number) => {
      out.stdout(args.values.json ? JSON.stringify(answer, null, 2) : describe(answer));
      return code;
    };
    if (answer.allow) return finish(EXIT.ok);
    if (answer.decision === "fail") return finish(EXIT.blocked);
    const remaining = deadline - Date.now();
    if (remaining <= 0) return finish(EXIT.pending);
    // Ask again when the gate says it may have changed, or at the deadline for a last look.
    const wait = Math.min(Math.max(1, answer.retry_after_seconds ?? 10) * 1000, remaining);
    const reasons = answer.rules.filter((rule) => rule.status === "pending").map((rule) => rule.message);
    out.stderr(`gate ${answer.gate} is pending; asking again in ${Math.ceil(wait / 1000)}s. ${reasons.join(" ")}`);
    await sleep(wait);
  }
}
