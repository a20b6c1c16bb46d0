/**
 * Normalized events: what every source is mapped to, and what the ingest layer stores.
 * Plain JSON (times as ISO-8601 UTC strings) so a delivery's events can be stored with it.
 */

export type SourceName = "github" | "gitlab" | "pagerduty" | "alertmanager" | "cdevents";

/** How an event names its service; the ingest layer resolves it (SPEC 3). */
export interface ServiceRef {
  /** Full repository path, "octo/checkout" or "group/sub/project". Unknown repositories create a service. */
  repository?: string;
  /** A service slug, name or alias (incident tools, alerts, CDEvents). */
  name?: string;
}

export interface RepositoryRef {
  name: string;
  provider: SourceName | "git";
  url?: string;
}

export interface PullRequestData {
  number: number;
  opened_at?: string;
  merged_at?: string;
  first_commit_at?: string;
  url?: string;
}

export interface ChangeEvent {
  kind: "change";
  repository: RepositoryRef;
  sha: string;
  committed_at?: string;
  authored_at?: string;
  author?: string;
  message?: string;
  branch?: string;
  /** Files added, modified or removed; omitted when the source does not say. */
  files?: string[];
  parents?: string[];
  pull_request?: PullRequestData;
}

export type DeploymentStatus = "queued" | "in_progress" | "success" | "failure" | "canceled";

export interface DeploymentEvent {
  kind: "deployment";
  service: ServiceRef;
  repository?: RepositoryRef;
  environment: string;
  sha: string;
  status: DeploymentStatus;
  started_at?: string;
  finished_at?: string;
  /** Stable per deployment within its source, so status updates upsert one row. */
  external_id: string;
  url?: string;
  branch?: string;
  rollback?: boolean;
  hotfix?: boolean;
  /** When set, the event is a deployment only if this CI workflow name matches the service's deployment_pattern. */
  workflow?: string;
  /**
   * The deployed artifact as the source names it (CDEvents `artifactId`, a package URL). When it
   * names no git commit, `sha` holds this same value: an opaque but stable name of what was deployed.
   */
  artifact?: string;
}

export interface IncidentEvent {
  kind: "incident";
  service: ServiceRef;
  external_id: string;
  title?: string;
  severity?: string;
  url?: string;
  started_at: string;
  /** null = open (again); undefined = not stated by this event. */
  resolved_at?: string | null;
  /** The deployment the source says caused it, by sha. */
  sha?: string;
}

/** GitHub's deployment_protection_rule: a request for a gate verdict (SPEC 7). */
export interface GateRequestEvent {
  kind: "gate_request";
  service: ServiceRef;
  environment: string;
  sha?: string;
  deployment_callback_url: string;
  installation_id?: number;
}

export type NormalizedEvent = ChangeEvent | DeploymentEvent | IncidentEvent | GateRequestEvent;

/** What a collector is given: the request as received, and the integration's settings. */
export interface CollectorInput {
  /** Header names lower-cased. */
  headers: Record<string, string>;
  /** The body as text (decoded as UTF-8, a leading byte order mark dropped). */
  body: string;
  /**
   * The body's bytes as received, when the sender's bytes are at hand: signatures are computed
   * over these, since different bytes may decode to the same text. Without it, over `body`.
   */
  raw?: Uint8Array;
  /** The integration's active secrets (several during a rotation). */
  secrets: string[];
  settings?: Record<string, unknown>;
}

export type MapResult =
  | { status: "processed"; event: string; events: NormalizedEvent[] }
  | { status: "ignored"; event: string; reason: string };

export type CollectorErrorCode = "invalid_json" | "invalid_payload" | "unauthenticated";

/** The only error a collector throws. */
export class CollectorError extends Error {
  readonly code: CollectorErrorCode;
  constructor(code: CollectorErrorCode, message: string) {
    super(message);
    this.name = "CollectorError";
    this.code = code;
  }
}

export interface Collector {
  source: SourceName;
  /** True when the request carries a valid signature or token for one of the secrets (constant time). */
  verify(input: CollectorInput): boolean;
  /** The sender's delivery id, or one derived from the body, for exactly-once storage. */
  deliveryId(input: CollectorInput): string;
  /** The body's JSON text, for sources that may wrap it (GitHub's form encoding); default: the body. */
  payloadText?(input: CollectorInput): string;
  /** Turns a verified delivery into events; throws CollectorError on bodies it cannot read. */
  map(input: CollectorInput): MapResult;
}
