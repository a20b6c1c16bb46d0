import { error } from "@sveltejs/kit";
import { ApiError, settle } from "#lib/api.ts";
import type { Scope } from "#lib/api-types.ts";
import { canEdit } from "#lib/server/session.ts";
import type { Actions, PageServerLoad } from "./$types";
import { refused } from "#lib/server/refused.ts";

const SCOPES: Scope[] = ["read", "ingest", "gate", "admin"];

export const load: PageServerLoad = async ({ locals }) => {
  if (!canEdit(locals.session)) error(403, "Managing tokens needs a token with the admin scope.");
  const [tokens, teams] = await Promise.all([settle(locals.api.tokens({ limit: 200 })), settle(locals.api.teams({ limit: 1000 }))]);
  return { tokens, teams: teams.ok ? teams.data.items.map((t) => t.slug) : [] };
};

export const actions: Actions = {
  create: async ({ locals, request }) => {
    const form = await request.formData();
    const scopes = form.getAll("scopes").map(String).filter((s): s is Scope => SCOPES.includes(s as Scope));
    const team = String(form.get("team") ?? "").trim();
    try {
      const created = await locals.api.createToken({
        name: String(form.get("name") ?? "").trim(),
        scopes,
        ...(team ? { team } : {}),
      });
      return { action: "create", created };
    } catch (e) {
      if (e instanceof ApiError && e.status < 500) {
        return refused({ action: "create", message: e.message, errors: e.fieldErrors() });
      }
      throw e;
    }
  },
  revoke: async ({ locals, request }) => {
    const id = Number((await request.formData()).get("id"));
    try {
      await locals.api.revokeToken(id);
      return { action: "revoke", revoked: id };
    } catch (e) {
      if (e instanceof ApiError && e.status < 500) return refused({ action: "revoke", message: e.message, errors: {} });
      throw e;
    }
  },
};
