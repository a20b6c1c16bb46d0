import type { SubmitFunction } from "$app/forms";

/** Progressive enhancement that keeps what was typed: a refused form comes back as a 200. */
export const keepValues: SubmitFunction = () => async ({ update }) => update({ reset: false });
