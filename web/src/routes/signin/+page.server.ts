import { redirect } from "@sveltejs/kit";
import { ApiError, createApiClient, probeScopes } from "#lib/api.ts";
import { apiBaseUrl } from "#lib/server/api-base.ts";
import { clearSession, setSession } from "#lib/server/session.ts";
import type { Actions, PageServerLoad } from "./$types";
import { refused } from "#lib/server/refused.ts";
import { safeNext } from "#lib/server/safe-next.ts";

export const load: PageServerLoad = ({ locals, url, cookies }) => {
  const expired = url.searchParams.has("expired");
  if (expired && locals.session) clearSession(cookies, url);
  else if (locals.session) redirect(303, safeNext(url.searchParams.get("next")));
  return {
    next: safeNext(url.searchParams.get("next")),
    expired,
    signedOut: url.searchParams.has("signed_out"),
  };
};

export const actions: Actions = {
  default: async ({ request, cookies, url }) => {
    const form = await request.formData();
    const token = String(form.get("token") ?? "").trim();
    const next = safeNext(String(form.get("next") ?? "/"));
    if (!token) return refused({ error: "Paste a Sluice API token." });
    if (token.length > 500 || /\s/.test(token)) return refused({ error: "That does not look like a Sluice token." });

    const client = createApiClient({ baseUrl: apiBaseUrl(), token });
    let scopes: Awaited<ReturnType<typeof probeScopes>>;
    try {
      scopes = await probeScopes(client);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        return refused({ error: "Sluice does not accept this token: it is unknown or was revoked." });
      }
      const message = error instanceof Error ? error.message : String(error);
      return refused({ error: `Sluice could not check the token: ${message}` });
    }
    if (scopes.length === 0) {
      return refused({ error: "This token cannot read: the dashboard needs a token with the read (or admin) scope." });
    }

    let name = scopes.includes("admin") ? "admin token" : "read token";
    if (scopes.includes("admin")) {
      // Tokens are listed with the first characters of their secret: enough to find our name.
      const listed = await client.tokens({ limit: 1000 }).catch(() => null);
      const mine = listed?.items.find((t) => t.revoked_at === null && token.startsWith(t.prefix));
      if (mine) name = mine.name;
    }
    let session: string;
    try {
      session = (await client.startSession()).session;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return refused({ error: `Sluice could not start a session: ${message}` });
    }
    setSession(cookies, { token: session, scopes, name }, url);
    redirect(303, next);
  },
};
