import { redirect } from "@sveltejs/kit";
import { clearSession } from "#lib/server/session.ts";
import type { Actions, PageServerLoad } from "./$types";

export const load: PageServerLoad = () => redirect(303, "/");

export const actions: Actions = {
  default: async ({ cookies, url, locals }) => {
    // Ended in the API first, so the cookie's secret is dead even where a copy of it survives.
    if (locals.session) await locals.api.endSession().catch(() => undefined);
    clearSession(cookies, url);
    redirect(303, "/signin?signed_out=1");
  },
};
