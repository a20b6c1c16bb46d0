import { error } from "@sveltejs/kit";
import { ApiError, settle } from "#lib/api.ts";
import { parseWindow } from "#lib/window.ts";
import type { PageServerLoad } from "./$types";

export const load: PageServerLoad = async ({ locals, params, url }) => {
  const window = parseWindow(url.searchParams);
  const status = url.searchParams.get("status");
  const [service, incidents] = await Promise.all([
    locals.api.service(params.slug).catch((e: unknown) => {
      if (e instanceof ApiError && (e.status === 404 || e.status === 403)) error(e.status, e.message);
      throw e;
    }),
    settle(
      locals.api.incidents({
        service: params.slug,
        from: window.api.from,
        to: window.api.to,
        status: status === "open" || status === "resolved" ? status : undefined,
        limit: 50,
        cursor: url.searchParams.get("cursor") ?? undefined,
      }),
    ),
  ]);
  return { service, window, incidents, status };
};
