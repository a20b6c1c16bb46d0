import { error } from "@sveltejs/kit";
import { ApiError, settle } from "#lib/api.ts";
import { parseWindow } from "#lib/window.ts";
import type { PageServerLoad } from "./$types";

export const load: PageServerLoad = async ({ locals, params, url }) => {
  const window = parseWindow(url.searchParams);
  const all = url.searchParams.get("environments") === "all";
  const failedOnly = url.searchParams.get("failed") === "true";
  const [service, deployments] = await Promise.all([
    locals.api.service(params.slug).catch((e: unknown) => {
      if (e instanceof ApiError && (e.status === 404 || e.status === 403)) error(e.status, e.message);
      throw e;
    }),
    settle(
      locals.api.deployments({
        service: params.slug,
        from: window.api.from,
        to: window.api.to,
        production: all ? undefined : true,
        failed: failedOnly ? true : undefined,
        limit: 50,
        cursor: url.searchParams.get("cursor") ?? undefined,
      }),
    ),
  ]);
  return { service, window, deployments, all, failedOnly };
};
