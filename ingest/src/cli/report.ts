import { createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { optional, parse, required } from "./args.ts";
import { CliError, type Client, EXIT, apiError } from "./client.ts";

export const REPORT_USAGE = `Usage: sluice report --from TIME --to TIME [--group-by team|service] [--format csv|json|pdf]
                     [--benchmark 2021|2023|2024] [--output FILE]

Downloads the DORA report (GET /api/v1/reports/dora) to stdout or FILE.

  --from, --to     the window, ISO-8601 (required)
  --group-by       team (default) or service
  --format         csv (default), json or pdf
  --benchmark      the DORA benchmark for the levels (default 2024)
  --output FILE    write to FILE instead of stdout (use it for pdf)`;

const ACCEPT = { csv: "text/csv", json: "application/json", pdf: "application/pdf" } as const;

export async function report(argv: string[], client: () => Client, out: { stdout: (s: string) => void }) {
  const args = parse(
    argv,
    {
      from: { type: "string" },
      to: { type: "string" },
      "group-by": { type: "string" },
      format: { type: "string" },
      benchmark: { type: "string" },
      output: { type: "string", short: "o" },
    },
    REPORT_USAGE,
  );
  if (args.help) {
    out.stdout(REPORT_USAGE);
    return EXIT.ok;
  }
  const format = (optional(args.values, "format") ?? "csv") as keyof typeof ACCEPT;
  if (!(format in ACCEPT)) throw new CliError(`--format must be csv, json or pdf\n\n${REPORT_USAGE}`);
  const groupBy = optional(args.values, "group-by") ?? "team";
  if (groupBy !== "team" && groupBy !== "service") throw new CliError(`--group-by must be team or service\n\n${REPORT_USAGE}`);
  const query = new URLSearchParams({
    from: required(args.values, "from", REPORT_USAGE),
    to: required(args.values, "to", REPORT_USAGE),
    group_by: groupBy,
    format,
  });
  const benchmark = optional(args.values, "benchmark");
  if (benchmark) query.set("benchmark", benchmark);
  const response = await client().request("GET", `/api/v1/reports/dora?${query}`, { accept: ACCEPT[format] });
  if (!response.ok || !response.body) {
    const text = await response.text();
    let body: unknown = null;
    try {
      body = JSON.parse(text);
    } catch {
      // not the API's error shape: the status alone says enough
    }
    throw apiError(response.status, body);
  }
  const output = optional(args.values, "output");
  // Streamed, so a large PDF never sits in memory.
  const source = Readable.fromWeb(response.body as import("node:stream/web").ReadableStream<Uint8Array>);
  if (output) await pipeline(source, createWriteStream(output));
  else await pipeline(source, process.stdout, { end: false });
  return EXIT.ok;
}
