import { isoTime, optional, parse, required } from "./args.ts";
import { CliError, type Client, EXIT, apiError } from "./client.ts";

export const INCIDENT_USAGE = `Usage: sluice incident open --service S --id ID [--title T] [--severity SEV] [--at TIME]
       sluice incident resolve --service S --id ID [--at TIME] [--started-at TIME]

Opens or resolves an incident on a service (POST /api/v1/incidents). Needs a token with the
ingest scope; "resolve" also reads the open incident's start (the read scope).

  --service S         the service affected (required)
  --id ID             your incident tool's id for it (required)
  --title T           a short description
  --severity SEV      e.g. critical, high, P1, SEV-2
  --at TIME           when it started (open) or was resolved (resolve); ISO-8601, default now
  --started-at TIME   resolve only: when it started, if Sluice has not seen it open
  --json              print the incident as JSON`;

interface Incident {
  id: number;
  service: string;
  external_id: string;
  started_at: string;
  resolved_at: string | null;
}

async function openStartedAt(api: Client, service: string, externalId: string): Promise<string | null> {
  let cursor: string | null = null;
  do {
    const query: URLSearchParams = new URLSearchParams({ service, status: "open", limit: "1000", ...(cursor ? { cursor } : {}) });
    const page: { status: number; body: { items: Incident[]; next_cursor: string | null } } = await api.json("GET", `/api/v1/incidents?${query}`);
    const { status, body } = page;
    if (status !== 200) throw apiError(status, body);
    const found = body.items.find((item: Incident) => item.external_id === externalId);
    if (found) return found.started_at;
    cursor = body.next_cursor;
  } while (cursor);
  return null;
}

export async function incident(argv: string[], client: () => Client, out: { stdout: (s: string) => void }) {
  const args = parse(
    argv,
    {
      service: { type: "string" },
      id: { type: "string" },
      title: { type: "string" },
      severity: { type: "string" },
      at: { type: "string" },
      "started-at": { type: "string" },
      json: { type: "boolean" },
    },
    INCIDENT_USAGE,
  );
  const [action, ...extra] = args.positionals;
  if (args.help) {
    out.stdout(INCIDENT_USAGE);
    return EXIT.ok;
  }
  if ((action !== "open" && action !== "resolve") || extra.length > 0) {
    throw new CliError(`say "open" or "resolve"\n\n${INCIDENT_USAGE}`);
  }
  const service = required(args.values, "service", INCIDENT_USAGE);
  const externalId = required(args.values, "id", INCIDENT_USAGE);
  const at = isoTime(optional(args.values, "at"), "at") ?? new Date().toISOString();
  const api = client();
  let body: Record<string, unknown>;
  if (action === "open") {
    body = {
      service,
      external_id: externalId,
      started_at: at,
      title: optional(args.values, "title"),
      severity: optional(args.values, "severity"),
    };
  } else {
    // The API upserts by (service, id) and needs started_at, which the open incident has.
    const startedAt = isoTime(optional(args.values, "started-at"), "started-at") ?? (await openStartedAt(api, service, externalId));
    if (!startedAt) {
      throw new CliError(`no open incident "${externalId}" on ${service}; pass --started-at to record one that Sluice never saw open`);
    }
    body = { service, external_id: externalId, started_at: startedAt, resolved_at: at };
  }
  const { status, body: answer } = await api.json<Incident>("POST", "/api/v1/incidents", body);
  if (status !== 200 && status !== 201) throw apiError(status, answer);
  out.stdout(
    args.values.json
      ? JSON.stringify(answer, null, 2)
      : answer.resolved_at
        ? `incident ${answer.external_id} on ${answer.service} resolved at ${answer.resolved_at}`
        : `incident ${answer.external_id} on ${answer.service} open since ${answer.started_at}`,
  );
  return EXIT.ok;
}
