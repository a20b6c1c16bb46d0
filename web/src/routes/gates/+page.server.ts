import { settle } from "#lib/api.ts";
import type { PageServerLoad } from "./$types";

export const load: PageServerLoad = async ({ locals, url }) => {
  const gates = await settle(locals.api.gates({ limit: 200 }));
  const recent = gates.ok
    ? await Promise.all(gates.data.items.map((g) => settle(locals.api.evaluations(g.slug, { limit: 6 }))))
    : [];
  return { gates, recent, origin: url.origin };
};
