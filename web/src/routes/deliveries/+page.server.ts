import { error } from "@sveltejs/kit";
import { ApiError, settle } from "#lib/api.ts";
import { canEdit } from "#lib/server/session.ts";
import type { Actions, PageServerLoad } from "./$types";
import { refused } from "#lib/server/refused.ts";

const STATUSES = ["processed", "ignored", "failed", "duplicate"] as const;

export const load: PageServerLoad = async ({ locals, url }) => {
  if (!canEdit(locals.session)) error(403, "Deliveries hold raw webhook bodies: they need a token with the admin scope.");
  const status = url.searchParams.get("status") ?? undefined;
  const integration = url.searchParams.get("integration") ?? undefined;
  const deliveries = await settle(
    locals.api.deliveries({
      status: STATUSES.includes(status as (typeof STATUSES)[number]) ? status : undefined,
      integration,
      limit: 100,
      cursor: url.searchParams.get("cursor") ?? undefined,
    }),
  );
  return { deliveries, status: status ?? null, integration: integration ?? null };
};

export const actions: Actions = {
  reprocess: async ({ locals }) => {
    try {
      return { report: await locals.api.reprocess() };
    } catch (e) {
      if (e instanceof ApiError && e.status < 500) return refused({ message: e.message });
      throw e;
    }
  },
};
