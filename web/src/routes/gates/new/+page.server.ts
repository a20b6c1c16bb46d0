import { error } from "@sveltejs/kit";
import { emptyDraft } from "#lib/gate-form.ts";
import { saveGateForm } from "#lib/server/gate-actions.ts";
import { canEdit } from "#lib/server/session.ts";
import type { Actions, PageServerLoad } from "./$types";

export const load: PageServerLoad = ({ locals }) => {
  if (!canEdit(locals.session)) error(403, "Creating gates needs a token with the admin scope.");
  return { draft: emptyDraft() };
};

export const actions: Actions = {
  default: (event) => saveGateForm(event, null),
};
