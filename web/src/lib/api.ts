/**
 * The one typed client of the Sluice HTTP API v1. The dashboard reads and writes only through
 * it (SPEC section 2): server-side loads call the API over loopback HTTP with the user's token.
 */
import type {
  Breakdown,
  CreatedIntegration,
  CreatedSession,
  CreatedToken,
  CreateIntegration,
  CreateOverride,
  Deployment,
  DeploymentDetail,
  DeploymentsQuery,
  Delivery,
  ReprocessReport,
  Evaluation,
  EvaluationRecord,
  Gate,
  GroupBy,
  Incident,
  IncidentsQuery,
  Integration,
  Interval,
  MetricsObject,
  MetricsQuery,
  Override,
  Page,
  ReportQuery,
  Scope,
  Service,
  Team,
  Timeseries,
  Token,
} from "./api-types.ts";

export type * from "./api-types.ts";

/** A failed API call, carrying the API's own error code, sentence and field details. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(options: { status: number; code: string; message: string; details?: unknown }) {
    super(options.message);
    this.name = "ApiError";
    this.status = options.status;
    this.code = options.code;
    this.details = options.details;
  }

  /** The per-field messages of a 400, keyed by field path ("rules.0.max"). */
  fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    if (!Array.isArray(this.details)) return out;
    for (const item of this.details) {
      if (item && typeof item === "object" && "field" in item && "message" in item) {
        const field = String((item as { field: unknown }).field);
        out[field] ??= String((item as { message: unknown }).message);
      }
    }
    return out;
  }
}

type QueryValue = string | number | boolean | null | undefined;

/** `?a=1&b=x` from the defined values only; "" when none. */
export function queryString(query: object = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query as Record<string, QueryValue>)) {
    if (value === undefined || value === null || value === "") continue;
    params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

export interface ApiClientOptions {
  /** Where the API answers, e.g. http://127.0.0.1:3000 (no trailing /api/v1). */
  baseUrl: string;
  token?: string | undefined;
  fetch?: typeof fetch;
  /** Abort calls that take longer (a hung API must not hang the page). */
  timeoutMs?: number;
  /** Called instead of throwing when the API rejects the token (401): the session is over. */
  onUnauthorized?: () => never;
}

export type ApiClient = ReturnType<typeof createApiClient>;

export function createApiClient(options: ApiClientOptions) {
  const doFetch = options.fetch ?? fetch;
  const base = options.baseUrl.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 15_000;

  async function send(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new ApiError({
        status: 503,
        code: "api_unreachable",
        message: `the Sluice API at ${base} did not answer (${error instanceof Error ? error.message : String(error)})`,
      });
    }
    return response;
  }

  async function toError(response: Response): Promise<ApiError> {
    const text = await response.text().catch(() => "");
    try {
      const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
      if (parsed.error && typeof parsed.error.message === "string") {
        return new ApiError({
          status: response.status,
          code: typeof parsed.error.code === "string" ? parsed.error.code : "error",
          message: parsed.error.message,
          details: parsed.error.details,
        });
      }
    } catch {
      // not the API's JSON error shape: described below from the status alone
    }
    return new ApiError({
      status: response.status,
      code: response.status === 404 ? "not_found" : "http_error",
      message: `the API answered ${response.status} ${response.statusText || ""}`.trim(),
    });
  }

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await send(method, path, body);
    if (response.status === 401 && options.onUnauthorized) options.onUnauthorized();
    if (!response.ok) throw await toError(response);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  const get = <T>(path: string, query?: object) => call<T>("GET", `${path}${queryString(query)}`);
  const enc = encodeURIComponent;

  return {
    baseUrl: base,

    /** The raw response of any API path, for downloads (reports) that are not JSON. */
    raw: (path: string, query?: object) => send("GET", `${path}${queryString(query)}`),

    health: () => get<{ status: string; database: string }>("/healthz"),

    metrics: (query: MetricsQuery = {}) => get<MetricsObject>("/api/v1/metrics", query),
    timeseries: (query: MetricsQuery & { interval?: Interval } = {}) =>
      get<Timeseries>("/api/v1/metrics/timeseries", query),
    breakdown: async (query: MetricsQuery & { group_by: GroupBy }): Promise<Breakdown> => {
      const answer = await get<Partial<Breakdown> & { groups?: MetricsObject[] }>("/api/v1/metrics/breakdown", query);
      return { group_by: answer.group_by ?? query.group_by, items: answer.items ?? answer.groups ?? [] };
    },

    teams: (query: { limit?: number; cursor?: string } = {}) => get<Page<Team>>("/api/v1/teams", query),
    team: (slug: string) => get<Team>(`/api/v1/teams/${enc(slug)}`),
    services: (query: { team?: string; limit?: number; cursor?: string } = {}) =>
      get<Page<Service>>("/api/v1/services", query),
    service: (slug: string) => get<Service>(`/api/v1/services/${enc(slug)}`),

    deployments: (query: DeploymentsQuery = {}) => get<Page<Deployment>>("/api/v1/deployments", query),
    deployment: (id: number) => get<DeploymentDetail>(`/api/v1/deployments/${id}`),
    incidents: (query: IncidentsQuery = {}) => get<Page<Incident>>("/api/v1/incidents", query),

    gates: (query: { limit?: number; cursor?: string } = {}) => get<Page<Gate>>("/api/v1/gates", query),
    gate: (slug: string) => get<Gate>(`/api/v1/gates/${enc(slug)}`),
    createGate: (gate: Gate) => call<Gate>("POST", "/api/v1/gates", gate),
    updateGate: (slug: string, patch: Partial<Pick<Gate, "name" | "applies_to" | "mode" | "rules">>) =>
      call<Gate>("PATCH", `/api/v1/gates/${enc(slug)}`, patch),
    deleteGate: (slug: string) => call<void>("DELETE", `/api/v1/gates/${enc(slug)}`),
    evaluations: (
      slug: string,
      query: { service?: string; decision?: string; limit?: number; cursor?: string } = {},
    ) => get<Page<EvaluationRecord>>(`/api/v1/gates/${enc(slug)}/evaluations`, query),
    evaluate: (slug: string, body: { service: string; environment?: string; sha?: string }) =>
      call<Evaluation>("POST", `/api/v1/gates/${enc(slug)}/evaluate`, body),
    overrides: (slug: string, query: { active?: boolean; limit?: number; cursor?: string } = {}) =>
      get<Page<Override>>(`/api/v1/gates/${enc(slug)}/overrides`, query),
    createOverride: (slug: string, body: CreateOverride) =>
      call<Override>("POST", `/api/v1/gates/${enc(slug)}/overrides`, body),
    endOverride: (slug: string, id: number) => call<Override>("DELETE", `/api/v1/gates/${enc(slug)}/overrides/${id}`),

    integrations: () => get<Page<Integration>>("/api/v1/integrations"),
    createIntegration: (body: CreateIntegration) => call<CreatedIntegration>("POST", "/api/v1/integrations", body),
    /** Replaces the integration's secrets (PagerDuty makes its own signing secret after the URL exists). */
    setIntegrationSecrets: (id: string, secrets: string[]) =>
      call<Integration>("PATCH", `/api/v1/integrations/${enc(id)}`, { secrets }),
    deleteIntegration: (id: string) => call<void>("DELETE", `/api/v1/integrations/${enc(id)}`),
    deliveries: (
      query: { status?: string; source?: string; integration?: string; limit?: number; cursor?: string } = {},
    ) =>
      get<Page<Delivery>>("/api/v1/deliveries", query),
    reprocess: () => call<ReprocessReport>("POST", "/api/v1/admin/reprocess"),

    tokens: (query: { limit?: number; cursor?: string } = {}) => get<Page<Token>>("/api/v1/tokens", query),
    createToken: (body: { name: string; scopes: Scope[]; team?: string | undefined }) =>
      call<CreatedToken>("POST", "/api/v1/tokens", body),
    revokeToken: (id: number) => call<void>("DELETE", `/api/v1/tokens/${id}`),
    /** With the client's token: a session for the dashboard's cookie. */
    startSession: () => call<CreatedSession>("POST", "/api/v1/sessions"),
    /** With the client's session: ends it (sign-out). */
    endSession: () => call<void>("DELETE", "/api/v1/sessions/current"),

    reportPath: (query: ReportQuery) => `/api/v1/reports/dora${queryString(query)}`,
  };
}

/**
 * Which scopes a token has, found by asking the API (there is no introspection endpoint):
 * a list that needs `read`, and the token list that needs `admin`. `ingest` and `gate` are
 * not probed: the dashboard's edit controls all need `admin`.
 */
export async function probeScopes(client: ApiClient): Promise<Scope[]> {
  try {
    await client.teams({ limit: 1 });
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) return [];
    throw error;
  }
  try {
    await client.tokens({ limit: 1 });
    return ["admin"];
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) return ["read"];
    throw error;
  }
}

export type Settled<T> = { ok: true; data: T } | { ok: false; error: { status: number; code: string; message: string } };

/**
 * A call's outcome as plain data, so one failing endpoint (say, one not deployed yet) shows
 * its error in place instead of failing the whole page. 401 is rethrown: the session is over.
 */
export async function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, data: await promise };
  } catch (error) {
    if (error instanceof ApiError) {
      if (error.status === 401) throw error;
      return { ok: false, error: { status: error.status, code: error.code, message: error.message } };
    }
    throw error;
  }
}
