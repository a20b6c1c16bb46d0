import { isoTime, optional, parse, required } from "./args.ts";
import { CliError, type Client, EXIT, apiError } from "./client.ts";

export const DEPLOY_RECORD_USAGE = `Usage: sluice deploy record --service S --environment E --sha X [options]

Records a deployment (POST /api/v1/deployments). Recording the same deployment again
updates it instead of counting it twice.

  --service S         the service deployed (required)
  --environment E     where it went, e.g. production (required)
  --sha X             the commit deployed (required)
  --status STATUS     queued, in_progress, success (default), failure or canceled
  --started-at TIME   ISO-8601, or "now"
  --finished-at TIME  ISO-8601, or "now" (a success without it finishes when Sluice receives it)
  --external-id ID    your pipeline's id for this deployment (makes retries idempotent)
  --url URL           a link to the pipeline run
  --branch NAME       the branch deployed
  --rollback          this deployment rolls back an earlier one
  --hotfix            this deployment is a hotfix
  --json              print the recorded deployment as JSON`;

const STATUSES = ["queued", "in_progress", "success", "failure", "canceled"];

export async function deployRecord(argv: string[], client: () => Client, out: { stdout: (s: string) => void }) {
  const args = parse(
    argv,
    {
      service: { type: "string" },
      environment: { type: "string" },
      sha: { type: "string" },
      status: { type: "string" },
      "started-at": { type: "string" },
      "finished-at": { type: "string" },
      "external-id": { type: "string" },
      url: { type: "string" },
      branch: { type: "string" },
      rollback: { type: "boolean" },
      hotfix: { type: "boolean" },
      json: { type: "boolean" },
    },
    DEPLOY_RECORD_USAGE,
  );
  if (args.help) {
    out.stdout(DEPLOY_RECORD_USAGE);
    return EXIT.ok;
  }
  if (args.positionals.length > 0) throw new CliError(`unexpected argument "${args.positionals[0]}"\n\n${DEPLOY_RECORD_USAGE}`);
  const status = optional(args.values, "status");
  if (status !== undefined && !STATUSES.includes(status)) {
    throw new CliError(`--status must be one of ${STATUSES.join(", ")}`);
  }
  const body = {
    service: required(args.values, "service", DEPLOY_RECORD_USAGE),
    environment: required(args.values, "environment", DEPLOY_RECORD_USAGE),
    sha: required(args.values, "sha", DEPLOY_RECORD_USAGE),
    status,
    started_at: isoTime(optional(args.values, "started-at"), "started-at"),
    finished_at: isoTime(optional(args.values, "finished-at"), "finished-at"),
    external_id: optional(args.values, "external-id"),
    url: optional(args.values, "url"),
    branch: optional(args.values, "branch"),
    rollback: args.values.rollback === true ? true : undefined,
    hotfix: args.values.hotfix === true ? true : undefined,
  };
  const { status: code, body: answer } = await client().json<{ id: number; service: string; environment: string; sha: string; status: string }>(
    "POST",
    "/api/v1/deployments",
    body,
  );
  if (code !== 200 && code !== 201) throw apiError(code, answer);
  out.stdout(
    args.values.json
      ? JSON.stringify(answer, null, 2)
      : `deployment ${answer.id} of ${answer.service}@${answer.sha.slice(0, 12)} to ${answer.environment} ${code === 201 ? "recorded" : "updated"} (${answer.status})`,
  );
  return EXIT.ok;
}
