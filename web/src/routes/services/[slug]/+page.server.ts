import { error } from "@sveltejs/kit";
import { ApiError, settle } from "#lib/api.ts";
import { intervalFor, parseWindow } from "#lib/window.ts";
import type { PageServerLoad } from "./$types";

export const load: PageServerLoad = async ({ locals, params, url }) => {
  const window = parseWindow(url.searchParams);
  const query = { ...window.api, service: params.slug };
  const api = locals.api;
  const [service, metrics, series, openIncidents] = await Promise.all([
    api.service(params.slug).catch((e: unknown) => {
      if (e instanceof ApiError && (e.status === 404 || e.status === 403)) error(e.status, e.message);
      throw e;
    }),
    settle(api.metrics(query)),
    settle(api.timeseries({ ...query, interval: intervalFor(window.days) })),
    settle(api.incidents({ service: params.slug, status: "open", limit: 20 })),
  ]);
  return { service, window, metrics, series, openIncidents };
};
