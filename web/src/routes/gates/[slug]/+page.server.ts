import { error, redirect } from "@sveltejs/kit";
import { ApiError, settle } from "#lib/api.ts";
import { canEdit } from "#lib/server/session.ts";
import type { Actions, PageServerLoad } from "./$types";
import { refused } from "#lib/server/refused.ts";
import { OVERRIDE_HOURS, overrideExpiry } from "#lib/override-expiry.ts";

export const load: PageServerLoad = async ({ locals, params, url }) => {
  const api = locals.api;
  const admin = canEdit(locals.session);
  const service = url.searchParams.get("service") ?? undefined;
  const [gate, evaluations, overrides, services] = await Promise.all([
    api.gate(params.slug).catch((e: unknown) => {
      if (e instanceof ApiError && e.status === 404) error(404, e.message);
      throw e;
    }),
    settle(api.evaluations(params.slug, { limit: 50, service, cursor: url.searchParams.get("cursor") ?? undefined })),
    admin ? settle(api.overrides(params.slug, { limit: 50 })) : null,
    settle(api.services({ limit: 1000 })),
  ]);
  return {
    gate,
    evaluations,
    overrides,
    services: services.ok ? services.data.items.map((s) => s.slug) : [],
    serviceFilter: service ?? null,
    saved: url.searchParams.has("saved"),
  };
};

const problem = (error: unknown, action: string) => {
  if (error instanceof ApiError && error.status < 500) {
    return refused({ action, message: error.message, errors: error.fieldErrors() });
  }
  throw error;
};

export const actions: Actions = {
  evaluate: async ({ locals, params, request }) => {
    const form = await request.formData();
    const body = {
      service: String(form.get("service") ?? "").trim(),
      ...(String(form.get("environment") ?? "").trim() ? { environment: String(form.get("environment")).trim() } : {}),
      ...(String(form.get("sha") ?? "").trim() ? { sha: String(form.get("sha")).trim() } : {}),
    };
    try {
      return { action: "evaluate", evaluation: await locals.api.evaluate(params.slug, body) };
    } catch (e) {
      return problem(e, "evaluate");
    }
  },
  override: async ({ locals, params, request }) => {
    const form = await request.formData();
    const expiresAt = overrideExpiry(form.get("hours"), new Date());
    if (expiresAt === null) {
      const message = `Give the override's length in hours, from ${OVERRIDE_HOURS.min} to ${OVERRIDE_HOURS.max}.`;
      return refused({ action: "override", message, errors: { expires_at: message } });
    }
    const body = {
      service: String(form.get("service") ?? "").trim(),
      ...(String(form.get("sha") ?? "").trim() ? { sha: String(form.get("sha")).trim() } : {}),
      reason: String(form.get("reason") ?? "").trim(),
      expires_at: expiresAt,
    };
    try {
      await locals.api.createOverride(params.slug, body);
      return { action: "override", created: true };
    } catch (e) {
      return problem(e, "override");
    }
  },
  end_override: async ({ locals, params, request }) => {
    const id = Number((await request.formData()).get("id"));
    try {
      await locals.api.endOverride(params.slug, id);
      return { action: "end_override", ended: true };
    } catch (e) {
      return problem(e, "end_override");
    }
  },
  mode: async ({ locals, params, request }) => {
    const mode = (await request.formData()).get("mode") === "dry_run" ? "dry_run" : "enforce";
    try {
      await locals.api.updateGate(params.slug, { mode });
      return { action: "mode", mode };
    } catch (e) {
      return problem(e, "mode");
    }
  },
  delete: async ({ locals, params }) => {
    try {
      await locals.api.deleteGate(params.slug);
    } catch (e) {
      return problem(e, "delete");
    }
    redirect(303, "/gates");
  },
};
