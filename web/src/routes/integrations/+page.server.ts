import { error } from "@sveltejs/kit";
import { ApiError, settle } from "#lib/api.ts";
import { SOURCES, type Source } from "#lib/api-types.ts";
import { canEdit } from "#lib/server/session.ts";
import type { Actions, PageServerLoad } from "./$types";
import { refused } from "#lib/server/refused.ts";

export const load: PageServerLoad = async ({ locals, url }) => {
  if (!canEdit(locals.session)) error(403, "Integrations hold webhook secrets: they need a token with the admin scope.");
  return { integrations: await settle(locals.api.integrations()), origin: url.origin };
};

const isSource = (value: unknown): value is Source => typeof value === "string" && (SOURCES as readonly string[]).includes(value);

export const actions: Actions = {
  create: async ({ locals, request }) => {
    const form = await request.formData();
    const source = form.get("source");
    const name = String(form.get("name") ?? "").trim();
    const secret = String(form.get("secret") ?? "").trim();
    const label = String(form.get("service_label") ?? "").trim();
    if (!isSource(source)) {
      return refused({ action: "create", message: "Choose a source.", errors: { source: "Choose a source." } as Record<string, string> });
    }
    try {
      const created = await locals.api.createIntegration({
        source,
        ...(name ? { name } : {}),
        ...(secret ? { secret } : {}),
        ...(source === "alertmanager" && label ? { settings: { service_label: label } } : {}),
      });
      // The secret is in this one answer only: it is never stored by the dashboard nor shown again.
      return { action: "create", created };
    } catch (e) {
      if (e instanceof ApiError && e.status < 500) {
        return refused({ action: "create", message: e.message, errors: e.fieldErrors() });
      }
      throw e;
    }
  },
  secret: async ({ locals, request }) => {
    const form = await request.formData();
    const id = String(form.get("id") ?? "");
    try {
      await locals.api.setIntegrationSecrets(id, [String(form.get("secret") ?? "").trim()]);
      return { action: "secret", id, saved: true };
    } catch (e) {
      if (e instanceof ApiError && e.status < 500) {
        const field = Object.values(e.fieldErrors())[0];
        return refused({ action: "secret", id, message: field ? `${e.message}: ${field}` : e.message, errors: e.fieldErrors() });
      }
      throw e;
    }
  },
  delete: async ({ locals, request }) => {
    const id = String((await request.formData()).get("id") ?? "");
    try {
      await locals.api.deleteIntegration(id);
      return { action: "delete", deleted: id };
    } catch (e) {
      if (e instanceof ApiError && e.status < 500) {
        return refused({ action: "delete", id, message: e.message, errors: {} as Record<string, string> });
      }
      throw e;
    }
  },
};
