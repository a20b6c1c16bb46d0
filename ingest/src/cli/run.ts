import { CliError, type Client, EXIT, clientFromEnv } from "./client.ts";
import { DEPLOY_RECORD_USAGE, deployRecord } from "./deploy-record.ts";
import { GATE_CHECK_USAGE, gateCheck } from "./gate-check.ts";
import { incident } from "./incident.ts";
import { report } from "./report.ts";

const USAGE = `Usage: sluice <command> [options]

Commands:
  gate check <gate>     may this change be promoted? (exit 0 allowed, 1 blocked, 2 pending, 3 error)
  deploy record         record a deployment
  incident open|resolve open or resolve an incident
  gates apply FILE      create or update gates from a YAML or JSON file
  report                download the DORA report (csv, json or pdf)

Environment:
  SLUICE_URL    Sluice's address (default http://localhost:3000)
  SLUICE_TOKEN  an API token: gate scope for "gate check", ingest for "deploy" and
                "incident" (plus read for "incident resolve"), admin for "gates apply",
                read for "report"

Run "sluice <command> --help" for a command's options.`;

type Out = { stdout: (s: string) => void; stderr: (s: string) => void };
type Command = (argv: string[], client: () => Client, out: Out) => Promise<number>;

/**
 * `gates apply` validates with the API's own schemas, which pull in zod and croner; it is
 * loaded only when used, so the other commands run on a bare Node with no packages installed.
 */
const gatesApply: Command = async (argv, client, out) => (await import("./gates-apply.ts")).gatesApply(argv, client, out);
const GATES_APPLY_USAGE = `Usage: sluice gates apply FILE [--dry-run]   (run "sluice gates apply --help" for the file format)`;

/** Two-word commands ("gate check") and their usage, so "sluice gate --help" can answer. */
const COMMANDS: Record<string, Record<string, { run: Command; usage: string }>> = {
  gate: { check: { run: gateCheck, usage: GATE_CHECK_USAGE } },
  deploy: { record: { run: deployRecord, usage: DEPLOY_RECORD_USAGE } },
  gates: { apply: { run: gatesApply, usage: GATES_APPLY_USAGE } },
};

export async function main(argv: string[], env: Record<string, string | undefined>, out: Out): Promise<number> {
  const [command, ...rest] = argv;
  const client = () => clientFromEnv(env);
  try {
    if (command === undefined || command === "--help" || command === "-h" || command === "help") {
      out.stdout(USAGE);
      return command === undefined ? EXIT.error : EXIT.ok;
    }
    if (command === "incident") return await incident(rest, client, out);
    if (command === "report") return await report(rest, client, out);
    const group = COMMANDS[command];
    if (!group) throw new CliError(`unknown command "${command}"\n\n${USAGE}`);
    const [sub, ...args] = rest;
    const entry = sub === undefined ? undefined : group[sub];
    if (!entry) {
      const usages = Object.values(group).map((c) => c.usage).join("\n\n");
      if (sub === "--help" || sub === "-h") {
        out.stdout(usages);
        return EXIT.ok;
      }
      throw new CliError(`${sub === undefined ? "a subcommand is missing" : `unknown subcommand "${sub}"`}\n\n${usages}`);
    }
    return await entry.run(args, client, out);
  } catch (error) {
    if (error instanceof CliError) {
      out.stderr(`sluice: ${error.message}`);
      return error.exitCode;
    }
    out.stderr(`sluice: unexpected error: ${(error as Error).stack ?? String(error)}`);
    return EXIT.error;
  }
}

