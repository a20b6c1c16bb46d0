import { createPrivateKey } from "node:crypto";
import { SignJWT } from "jose";

/**
 * The few GitHub App calls a deployment protection rule needs, against SLUICE_GITHUB_API_URL
 * (github.com, a GitHub Enterprise Server's /api/v3, or a test's fake).
 */
export interface GitHubApp {
  appId: string;
  privateKey: string;
  apiUrl: string;
}

export class GitHubError extends Error {
  readonly status: number | null;
  constructor(message: string, status: number | null) {
    super(message);
    this.name = "GitHubError";
    this.status = status;
  }

  /** 404, 410 and 422 will not change on a retry: the run was cancelled, removed or already decided. */
  get permanent(): boolean {
    return this.status === 404 || this.status === 410 || this.status === 422;
  }
}

const TIMEOUT_MS = 15_000;
const apiBase = (app: GitHubApp) => app.apiUrl.replace(/\/+$/, "");

/**
 * The App's JWT: RS256, issued 60 s in the past to allow for clock drift, valid for 9
 * minutes (GitHub refuses more than 10). GitHub's keys are PKCS#1 PEM, which node:crypto reads.
 */
export async function appJwt(app: GitHubApp, now: Date): Promise<string> {
  const issuedAt = Math.floor(now.getTime() / 1000) - 60;
  return new SignJWT({})
    .setProtectedHeader({ alg: "RS256", typ: "JWT" })
    .setIssuer(app.appId)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + 9 * 60)
    .sign(createPrivateKey(app.privateKey));
}

async function call(url: string, init: { method: string; token: string; body?: unknown }): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: init.method,
      headers: {
        accept: "application/vnd.github+json",
        authorization: `Bearer ${init.token}`,
        "user-agent": "sluice",
        "x-github-api-version": "2022-11-28",
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
      redirect: "error",
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: unknown } }).cause;
    throw new GitHubError(`GitHub could not be reached (${String(cause?.code ?? (error as Error).message)})`, null);
  }
  const text = await response.text();
  if (!response.ok) {
    const message = (() => {
      try {
        return String((JSON.parse(text) as { message?: unknown }).message ?? text);
      } catch {
        return text;
      }
    })();
    throw new GitHubError(`GitHub answered ${response.status}: ${message.slice(0, 300)}`, response.status);
  }
  return text === "" ? null : JSON.parse(text);
}

/**
 * An installation token limited to one repository of the installation: GitHub refuses to
 * mint it (422) when the installation does not cover that repository.
 */
export async function installationToken(app: GitHubApp, input: { installationId: number; repository: string; now: Date }): Promise<string> {
  const created = (await call(`${apiBase(app)}/app/installations/${input.installationId}/access_tokens`, {
    method: "POST",
    token: await appJwt(app, input.now),
    body: { repositories: [input.repository] },
  })) as { token?: unknown };
  if (typeof created?.token !== "string") throw new GitHubError("GitHub returned no installation token", null);
  return created.token;
}

/**
 * Answers a protection rule (REST "Review custom deployment protection rules for a workflow
 * run"): with a state it approves or rejects; without one it is a status report.
 */
export async function reviewProtectionRule(
  token: string,
  callbackUrl: string,
  body: { environment_name: string; state?: "approved" | "rejected"; comment: string },
): Promise<void> {
  await call(callbackUrl, { method: "POST", token, body });
}

const NAME = /^[A-Za-z0-9_.-]+$/;
const CALLBACK_PATH = /^\/repos\/([^/]+)\/([^/]+)\/actions\/runs\/\d+\/deployment_protection_rule$/;

/**
 * "owner/repo" of a callback URL under the configured API, or null when the URL points
 * elsewhere: the installation token is never sent to a host other than the configured API.
 * The URL must be already canonical (no dot segments, encodings, credentials, query or
 * fragment), so what is checked here is exactly the path that fetch will request.
 */
export function callbackRepository(app: GitHubApp, callbackUrl: string): string | null {
  let url: URL;
  let base: URL;
  try {
    url = new URL(callbackUrl);
    base = new URL(apiBase(app));
  } catch {
    return null;
  }
  if (url.href !== callbackUrl || url.origin !== base.origin || url.username || url.password || url.search || url.hash) return null;
  const basePath = base.pathname.replace(/\/+$/, "");
  if (!url.pathname.startsWith(`${basePath}/repos/`)) return null;
  const match = url.pathname.slice(basePath.length).match(CALLBACK_PATH);
  const [owner, repo] = [match?.[1], match?.[2]];
  if (!owner || !repo || !NAME.test(owner) || !NAME.test(repo) || /^\.+$/.test(owner) || /^\.+$/.test(repo)) return null;
  return `${owner}/${repo}`;
}
