import { type RequestEvent, redirect } from "@sveltejs/kit";
import { ApiError } from "../api.ts";
import { type GateDraft, draftFromForm, draftToGate, newRule, placeErrors } from "../gate-form.ts";
import { refused } from "./refused.ts";

/**
 * Saves the gate form through the API. Add/remove rule buttons work without scripts too:
 * they come back here as intents and return the changed draft unsaved.
 */
export async function saveGateForm(event: RequestEvent, existingSlug: string | null) {
  const form = await event.request.formData();
  const draft: GateDraft = draftFromForm(form);
  if (existingSlug) draft.slug = existingSlug;
  const intent = String(form.get("intent") ?? "save");
  if (intent === "add") {
    draft.rules.push(newRule());
    return { draft };
  }
  if (intent.startsWith("remove:")) {
    draft.rules.splice(Number(intent.slice("remove:".length)), 1);
    return { draft };
  }
  if (intent === "refresh") {
    draft.rules = draft.rules.map((rule) => (Object.values(rule.values).some(Boolean) ? rule : newRule(rule.type)));
    return { draft };
  }

  const gate = draftToGate(draft);
  try {
    if (existingSlug) {
      await event.locals.api.updateGate(existingSlug, {
        name: gate.name,
        mode: gate.mode,
        applies_to: gate.applies_to,
        rules: gate.rules,
      });
    } else {
      await event.locals.api.createGate(gate);
    }
  } catch (error) {
    if (!(error instanceof ApiError) || error.status >= 500) throw error;
    const { byField, general } = placeErrors(error.fieldErrors(), draft);
    return refused({
      draft,
      errors: byField,
      general,
      message: `The API did not accept the gate: ${error.message}.`,
    });
  }
  redirect(303, `/gates/${encodeURIComponent(gate.slug)}?saved=1`);
}
