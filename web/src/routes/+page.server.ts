import { settle } from "#lib/api.ts";
import { intervalFor, parseWindow } from "#lib/window.ts";
import type { PageServerLoad } from "./$types";

export const load: PageServerLoad = async ({ locals, url }) => {
  const window = parseWindow(url.searchParams);
  const query = window.api;
  const api = locals.api;
  // One round of parallel calls: the overview must render in well under a second.
  const [metrics, series, teams, services, anyDeployment] = await Promise.all([
    settle(api.metrics(query)),
    settle(api.timeseries({ ...query, interval: intervalFor(window.days) })),
    settle(api.breakdown({ ...query, group_by: "team" })),
    settle(api.breakdown({ ...query, group_by: "service" })),
    settle(api.deployments({ limit: 1 })),
  ]);
  return {
    window,
    metrics,
    series,
    teams,
    services,
    // Nothing recorded ever (not merely in this window): show the first steps.
    empty: anyDeployment.ok && anyDeployment.data.items.length === 0,
    origin: url.origin,
    now: new Date().toISOString(),
  };
};
