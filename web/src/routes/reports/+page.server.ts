import { settle } from "#lib/api.ts";
import type { GroupBy } from "#lib/api-types.ts";
import { parseWindow } from "#lib/window.ts";
import type { PageServerLoad } from "./$types";

export const load: PageServerLoad = async ({ locals, url }) => {
  const window = parseWindow(url.searchParams);
  const groupBy: GroupBy = url.searchParams.get("group_by") === "service" ? "service" : "team";
  const [org, groups] = await Promise.all([
    settle(locals.api.metrics(window.api)),
    settle(locals.api.breakdown({ ...window.api, group_by: groupBy })),
  ]);
  return { window, groupBy, org, groups, generatedAt: new Date().toISOString() };
};
