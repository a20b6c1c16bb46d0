import { error } from "@sveltejs/kit";
import { ApiError } from "#lib/api.ts";
import { gateToDraft } from "#lib/gate-form.ts";
import { saveGateForm } from "#lib/server/gate-actions.ts";
import { canEdit } from "#lib/server/session.ts";
import type { Actions, PageServerLoad } from "./$types";

export const load: PageServerLoad = async ({ locals, params }) => {
  if (!canEdit(locals.session)) error(403, "Editing gates needs a token with the admin scope.");
  const gate = await locals.api.gate(params.slug).catch((e: unknown) => {
    if (e instanceof ApiError && e.status === 404) error(404, e.message);
    throw e;
  });
  return { gate, draft: gateToDraft(gate) };
};

export const actions: Actions = {
  default: (event) => saveGateForm(event, event.params.slug),
};
