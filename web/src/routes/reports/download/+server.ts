import { error } from "@sveltejs/kit";
import { parseWindow } from "#lib/window.ts";
import type { RequestHandler } from "./$types";

const FORMATS = { csv: "text/csv", pdf: "application/pdf", json: "application/json" } as const;

/**
 * The report files come from GET /api/v1/reports/dora, which needs the bearer token the
 * browser never sees: the dashboard fetches it with the session's token and passes it on.
 */
export const GET: RequestHandler = async ({ locals, url }) => {
  const format = url.searchParams.get("format") ?? "csv";
  if (!(format in FORMATS)) error(400, "format must be csv, pdf or json");
  const window = parseWindow(url.searchParams);
  const groupBy = url.searchParams.get("group_by") === "service" ? "service" : "team";
  const response = await locals.api.raw("/api/v1/reports/dora", { ...window.api, group_by: groupBy, format });
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
    const reason = body?.error?.message ?? `the API answered ${response.status}`;
    const missing = response.status === 404 && reason.startsWith("no route");
    error(
      response.status === 404 && !missing ? 404 : 502,
      missing ? "This Sluice server does not make report files yet (no GET /api/v1/reports/dora)." : `The report could not be made: ${reason}.`,
    );
  }
  const name = `sluice-dora-${groupBy}-${window.from}-to-${window.to}.${format}`;
  return new Response(response.body, {
    headers: {
      "content-type": response.headers.get("content-type") ?? FORMATS[format as keyof typeof FORMATS],
      "content-disposition": response.headers.get("content-disposition") ?? `attachment; filename="${name}"`,
    },
  });
};
