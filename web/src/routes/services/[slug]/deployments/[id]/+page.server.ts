import { error } from "@sveltejs/kit";
import { ApiError } from "#lib/api.ts";
import { parseWindow } from "#lib/window.ts";
import type { PageServerLoad } from "./$types";

export const load: PageServerLoad = async ({ locals, params, url }) => {
  const id = Number(params.id);
  if (!Number.isInteger(id) || id <= 0) error(404, "There is no such deployment.");
  const notFound = (e: unknown) => {
    if (e instanceof ApiError && (e.status === 404 || e.status === 403)) error(e.status, e.message);
    throw e;
  };
  const [service, deployment] = await Promise.all([
    locals.api.service(params.slug).catch(notFound),
    locals.api.deployment(id).catch(notFound),
  ]);
  if (deployment.service !== service.slug) error(404, "This deployment belongs to another service.");
  return { service, deployment, window: parseWindow(url.searchParams) };
};
