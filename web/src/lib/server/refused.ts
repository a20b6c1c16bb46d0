/**
 * A form the API (or the dashboard) refused, answered 200 with the messages so the page
 * shows them in place. A 4xx here would make browsers log a console error for what is an
 * ordinary outcome of filling in a form.
 */
export const refused = <T extends Record<string, unknown>>(data: T) => ({ ...data, refused: true as const });
