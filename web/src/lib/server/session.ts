import type { Cookies } from "@sveltejs/kit";
import type { Scope } from "../api-types.ts";

/**
 * The cookie holds a session the API started for the signed-in token (sls_..., see the API's
 * /sessions), never the token itself: signing out ends it in the database, so a copied
 * cookie is dead afterwards, and revoking the token ends it too. The cookie is httpOnly and
 * SameSite=strict: the browser never hands it to page scripts and never sends it cross-site;
 * any replica can serve the next request. The scopes found at sign-in ride along to decide
 * which edit controls to show; the API enforces them on every call regardless.
 */
export interface Session {
  /** The session's secret, sent to the API as the bearer credential. */
  token: string;
  scopes: Scope[];
  /** The token's name when the API told us (admins only), else a description. */
  name: string;
}

export const SESSION_COOKIE = "sluice_session";
const MAX_AGE_SECONDS = 60 * 60 * 24 * 7;
const SCOPES = new Set<string>(["read", "ingest", "gate", "admin"]);

export function encodeSession(session: Session): string {
  return Buffer.from(JSON.stringify({ v: 2, t: session.token, s: session.scopes, n: session.name })).toString("base64url");
}

export function decodeSession(value: string | undefined): Session | null {
  if (!value) return null;
  try {
    const parsed = JSON.parse(Buffer.from(value, "base64url").toString("utf8")) as Record<string, unknown>;
    // v1 cookies held the raw API token: no longer honoured, their holders sign in again.
    if (parsed.v !== 2 || typeof parsed.t !== "string" || !parsed.t.startsWith("sls_") || parsed.t.length > 500) return null;
    const scopes = Array.isArray(parsed.s) ? parsed.s.filter((s): s is Scope => typeof s === "string" && SCOPES.has(s)) : [];
    return { token: parsed.t, scopes, name: typeof parsed.n === "string" ? parsed.n.slice(0, 200) : "token" };
  } catch {
    return null;
  }
}

/** Secure only over https: a cookie marked Secure is dropped on plain http (a LAN install). */
export function setSession(cookies: Cookies, session: Session, url: URL): void {
  cookies.set(SESSION_COOKIE, encodeSession(session), {
    path: "/",
    httpOnly: true,
    sameSite: "strict",
    secure: url.protocol === "https:",
    maxAge: MAX_AGE_SECONDS,
  });
}

export function clearSession(cookies: Cookies, url: URL): void {
  cookies.delete(SESSION_COOKIE, { path: "/", httpOnly: true, sameSite: "strict", secure: url.protocol === "https:" });
}

export const canEdit = (session: Session | null) => session?.scopes.includes("admin") ?? false;
