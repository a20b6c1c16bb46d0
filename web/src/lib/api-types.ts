/**
 * Shapes of the Sluice HTTP API v1 (SPEC sections 5, 5.1, 7, 8), as the dashboard reads them.
 * Field names are the API's (snake_case); durations are seconds, rates 0..1.
 */

export type Level = "elite" | "high" | "medium" | "low";
export type Benchmark = "2021" | "2023" | "2024";
export type Scope = "read" | "ingest" | "gate" | "admin";

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface ApiErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export interface MetricsObject {
  scope: { team: string | null; service: string | null; environment: string | null };
  window: { from: string; to: string; days: number };
  benchmark: Benchmark;
  deployment_frequency: {
    deployments: number;
    per_day: number | null;
    per_week: number | null;
    deploy_days: number;
    median_deploy_days_per_week?: number;
    level: Level | null;
  };
  lead_time: {
    changes: number;
    median_seconds: number | null;
    p75_seconds: number | null;
    p90_seconds: number | null;
    level: Level | null;
    breakdown?: {
      pull_requests?: number;
      coding_median_seconds: number | null;
      review_median_seconds: number | null;
      deploy_median_seconds: number | null;
    } | null;
  };
  change_failure_rate: { deployments: number; failed: number; rate: number | null; level: Level | null };
  recovery_time: {
    failures: number;
    recovered: number;
    median_seconds: number | null;
    p90_seconds: number | null;
    level: Level | null;
  };
  time_to_restore: { incidents: number; median_seconds: number | null; p90_seconds: number | null; level?: Level | null };
  rework_rate: { deployments: number; rework: number; rate: number | null };
  level: Level | null;
}

export type Interval = "day" | "week" | "month";

export interface TimeseriesBucket
  extends Pick<
    MetricsObject,
    "deployment_frequency" | "lead_time" | "change_failure_rate" | "recovery_time"
  > {
  start: string;
  time_to_restore?: MetricsObject["time_to_restore"];
  rework_rate?: MetricsObject["rework_rate"];
}

export interface Timeseries {
  interval: Interval;
  buckets: TimeseriesBucket[];
}

export type GroupBy = "team" | "service";

export interface Breakdown {
  group_by: GroupBy;
  items: MetricsObject[];
}

export interface MetricsQuery {
  team?: string | undefined;
  service?: string | undefined;
  environment?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  benchmark?: Benchmark | undefined;
}

export interface Team {
  id: number;
  slug: string;
  name: string;
  services?: string[];
  created_at: string;
  updated_at: string;
}

export interface RepositoryMapping {
  provider: string;
  name: string;
  path_prefix: string;
}

export interface Service {
  id: number;
  slug: string;
  name: string;
  team: string | null;
  repositories: RepositoryMapping[];
  production_pattern: string;
  deployment_pattern: string;
  aliases: string[];
  attribution_window_seconds: number;
  created_at: string;
  updated_at: string;
}

export type DeploymentStatus = "queued" | "in_progress" | "success" | "failure" | "canceled";
export type FailureReason = "incident" | "rolled_back" | "fixed" | "marked";
export type ReworkReason = "rollback" | "hotfix" | "fix_forward" | "after_failure";

export interface Deployment {
  id: number;
  service: string;
  environment: string;
  sha: string;
  status: DeploymentStatus;
  started_at: string | null;
  finished_at: string | null;
  source: string;
  external_id: string;
  url: string | null;
  branch: string | null;
  rollback: boolean;
  hotfix: boolean;
  fixes: number | null;
  production: boolean;
  baseline: boolean;
  changes: number;
  lead_time: { median_seconds: number | null; max_seconds: number | null; counted: boolean };
  failed: boolean;
  failure_reasons: FailureReason[];
  rolled_back_by: number | null;
  fixed_by: number | null;
  recovered_at: string | null;
  recovery_seconds: number | null;
  rework: boolean;
  rework_reasons: ReworkReason[];
  created_at: string;
  updated_at: string;
}

export interface DeploymentCommit {
  sha: string;
  repository: string | null;
  committed_at: string | null;
  author: string | null;
  message: string | null;
  in_scope: boolean;
  lead_time_seconds: number | null;
  pull_request: { number: number; opened_at: string | null; merged_at: string | null; url: string | null } | null;
}

export interface DeploymentDetail extends Deployment {
  commits: DeploymentCommit[];
}

export interface DeploymentsQuery extends Omit<MetricsQuery, "benchmark"> {
  status?: DeploymentStatus | undefined;
  production?: boolean | undefined;
  failed?: boolean | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

export interface Incident {
  id: number;
  service: string;
  external_id: string;
  source: string;
  title: string | null;
  severity: string | null;
  url: string | null;
  started_at: string;
  resolved_at: string | null;
  time_to_restore_seconds: number | null;
  deployment: { id: number; sha: string; finished_at: string | null } | null;
  created_at: string;
  updated_at: string;
}

export interface IncidentsQuery extends Omit<MetricsQuery, "benchmark" | "environment"> {
  status?: "open" | "resolved" | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

export const SOURCES = ["github", "gitlab", "pagerduty", "alertmanager", "cdevents"] as const;
export type Source = (typeof SOURCES)[number];

export interface Integration {
  id: string;
  source: Source;
  name: string;
  url: string;
  settings: Record<string, unknown>;
  created_at: string;
  last_delivery_at: string | null;
}

export interface CreatedIntegration extends Integration {
  secret: string;
}

export interface CreateIntegration {
  source: Source;
  name?: string | undefined;
  secret?: string | undefined;
  settings?: { service_label?: string | undefined } | undefined;
}

export type DeliveryStatus = "received" | "processed" | "ignored" | "failed" | "duplicate";

export interface Delivery {
  id: number;
  integration_id: string;
  source: string;
  delivery_id: string;
  event: string | null;
  status: DeliveryStatus;
  /** Why it failed, or why it was ignored. */
  error: string | null;
  /** How many normalized events it carried. */
  events: number;
  body_retained: boolean;
  received_at: string;
  processed_at: string | null;
}

export interface ReprocessReport {
  deliveries: number;
  processed: number;
  ignored: number;
  failed: number;
  events: number;
  services: number;
}

export interface Token {
  id: number;
  name: string;
  scopes: Scope[];
  team: string | null;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface CreatedToken extends Token {
  token: string;
}

/** A dashboard session: its secret stands for the token it was started with. */
export interface CreatedSession {
  session: string;
  expires_at: string;
  name: string;
  scopes: Scope[];
}

export type GateMode = "enforce" | "dry_run";
export type Decision = "pass" | "warn" | "fail" | "pending";
export const RULE_TYPES = [
  "change_failure_rate",
  "open_incidents",
  "lead_time",
  "recovery_time",
  "soak",
  "freeze",
  "prometheus",
  "deployment_frequency",
] as const;
export type RuleType = (typeof RULE_TYPES)[number];

/** A gate rule as stored: its type, on_fail, and the type's own fields (SPEC 7). */
export interface GateRule {
  type: RuleType;
  on_fail?: "block" | "warn";
  [field: string]: unknown;
}

export interface Gate {
  id?: number;
  slug: string;
  name: string;
  applies_to: { teams?: string[]; services?: string[]; environments: string[] };
  mode: GateMode;
  rules: GateRule[];
  created_at?: string;
  updated_at?: string;
}

export type Threshold = number | string | null | { min: number | null; max: number | null };

export interface RuleResult {
  type: RuleType | string;
  status: Decision;
  observed: number | string | null;
  threshold: Threshold;
  message: string;
  retry_after_seconds?: number;
}

/** The answer of POST /gates/<slug>/evaluate. */
export interface Evaluation {
  evaluation_id: number;
  gate: string;
  service: string;
  environment: string;
  sha: string | null;
  decision: Decision;
  allow: boolean;
  enforced: boolean;
  rules: RuleResult[];
  retry_after_seconds: number | null;
  evaluated_at: string;
  override: { id: number; reason: string; sha: string | null; expires_at: string; created_by: string } | null;
}

/** A stored evaluation, as GET /gates/<slug>/evaluations lists them. */
export interface EvaluationRecord {
  id: number;
  gate: string;
  service: string;
  environment: string;
  sha: string | null;
  decision: Decision;
  allow: boolean;
  enforced: boolean;
  rules: RuleResult[];
  retry_after_seconds: number | null;
  override_id: number | null;
  caller: string;
  caller_token_id?: number | null;
  inputs: Record<string, unknown>;
  evaluated_at: string;
}

export interface Override {
  id: number;
  gate: string;
  service: string;
  sha: string | null;
  reason: string;
  expires_at: string;
  created_by: string;
  created_at: string;
  active: boolean;
}

export interface CreateOverride {
  service: string;
  sha?: string | undefined;
  reason: string;
  expires_at: string;
}

export interface ReportQuery {
  from?: string | undefined;
  to?: string | undefined;
  group_by?: GroupBy | undefined;
  benchmark?: Benchmark | undefined;
  format?: "csv" | "json" | "pdf" | undefined;
}
