/**
 * The CLI's view of the Sluice HTTP API: SLUICE_URL and SLUICE_TOKEN from the
 * environment, JSON in and out, and every failure turned into a CliError (exit 3).
 */

export const EXIT = { ok: 0, blocked: 1, pending: 2, error: 3 } as const;

export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.error) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

export interface Client {
  baseUrl: string;
  request(method: string, path: string, options?: { body?: unknown; accept?: string }): Promise<Response>;
  json<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
}

export function clientFromEnv(env: Record<string, string | undefined>): Client {
  const baseUrl = (env.SLUICE_URL?.trim() || "http://localhost:3000").replace(/\/+$/, "");
  const token = env.SLUICE_TOKEN?.trim();
  if (!token) throw new CliError("SLUICE_TOKEN is not set: export a Sluice API token (for gate checks, one with the gate scope)");

  async function request(method: string, path: string, options: { body?: unknown; accept?: string } = {}) {
    try {
      return await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: options.accept ?? "application/json",
          "user-agent": "sluice-cli",
          ...(options.body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        signal: AbortSignal.timeout(60_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
      const reason = String(cause?.code ?? cause?.message ?? (error as Error).message);
      throw new CliError(`cannot reach Sluice at ${baseUrl} (${reason}); check SLUICE_URL`);
    }
  }

  return {
    baseUrl,
    request,
    async json<T>(method: string, path: string, body?: unknown) {
      const response = await request(method, path, body === undefined ? {} : { body });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = text === "" ? null : JSON.parse(text);
      } catch {
        throw new CliError(`Sluice at ${baseUrl} answered ${response.status} with something that is not JSON`);
      }
      return { status: response.status, body: parsed as T };
    },
  };
}

/** The API's error shape (SPEC 5) as lines a person reads. */
export function apiError(status: number, body: unknown): CliError {
  const error = (body as { error?: { message?: unknown; details?: unknown } } | null)?.error;
  const lines = [`Sluice answered ${status}: ${typeof error?.message === "string" ? error.message : "request failed"}`];
  if (Array.isArray(error?.details)) {
    for (const detail of error.details as Array<{ field?: unknown; message?: unknown }>) {
      lines.push(`  ${String(detail.field ?? "")}: ${String(detail.message ?? "")}`);
    }
  }
  if (status === 401) lines.push("  (check SLUICE_TOKEN)");
  return new CliError(lines.join("\n"));
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
