import { canEdit } from "#lib/server/session.ts";
import type { LayoutServerLoad } from "./$types";

export const load: LayoutServerLoad = ({ locals }) => ({
  session: locals.session
    ? { name: locals.session.name, scopes: locals.session.scopes, canEdit: canEdit(locals.session) }
    : null,
});
