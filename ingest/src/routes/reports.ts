import { Readable } from "node:stream";
import { setImmediate as turn } from "node:timers/promises";
import { createRoute, z } from "@hono/zod-openapi";
import { computeMetrics } from "@sluice/db";
import { stringify } from "csv-stringify";
import { requireScope } from "../auth.ts";
import { ApiError } from "../errors.ts";
import { renderReportPdf } from "../reports/pdf-render.ts";
import { CSV_COLUMNS, csvRow } from "../reports/rows.ts";
import { reportSections } from "../reports/sections.ts";
import { createRouter } from "../router.ts";
import { errorResponses } from "../schemas.ts";
import { visibleServiceIds } from "./filters.ts";
import { breakdownGroups } from "./metrics.ts";
import { MetricsObject, metricsQuery, resolveWindow } from "./metrics-schemas.ts";

const FORMATS = ["csv", "json", "pdf"] as const;
type Format = (typeof FORMATS)[number];

const MEDIA: Record<Format, string> = { csv: "text/csv", json: "application/json", pdf: "application/pdf" };

/** ?format= wins; else the Accept header; a request for something else is a 406. */
function negotiate(format: Format | undefined, accept: string | undefined): Format {
  if (format) return format;
  if (!accept) return "json";
  const wanted = accept
    .split(",")
    .map((part) => part.split(";")[0]?.trim().toLowerCase() ?? "")
    .filter(Boolean);
  for (const media of wanted) {
    if (media === "*/*" || media === "application/*" || media === "application/json") return "json";
    const match = FORMATS.find((f) => MEDIA[f] === media || (media === "text/*" && f === "csv"));
    if (match) return match;
  }
  throw new ApiError({
    status: 406,
    code: "not_acceptable",
    message: "reports are available as text/csv, application/json or application/pdf",
  });
}

const ReportJson = z
  .object({
    period: z.object({ from: z.string(), to: z.string(), days: z.number() }),
    benchmark: z.string(),
    group_by: z.enum(["team", "service"]),
    organisation: MetricsObject,
    previous: MetricsObject,
    groups: z.array(MetricsObject),
  })
  .openapi("DoraReport");

export const reportsRouter = createRouter();

reportsRouter.openapi(
  createRoute({
    method: "get",
    path: "/reports/dora",
    tags: ["reports"],
    security: [{ bearer: [] }],
    middleware: [requireScope("read")] as const,
    request: {
      query: z.object({
        ...metricsQuery,
        group_by: z.enum(["team", "service"]).default("team"),
        format: z.enum(FORMATS).optional().openapi({ description: "csv, json or pdf; default: from the Accept header, else json" }),
      }),
    },
    responses: {
      200: {
        description: "the report: CSV (one row per group), JSON, or a PDF for leadership",
        content: {
          "application/json": { schema: ReportJson },
          "text/csv": { schema: z.string() },
          "application/pdf": { schema: z.string().openapi({ format: "binary" }) },
        },
      },
      ...errorResponses(400, 401, 403, 404),
      406: { description: "the Accept header names no format Sluice offers" },
    },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const format = negotiate(query.format, c.req.header("accept"));
    const { db } = c.var.deps.database;
    const { from, to } = resolveWindow(query, c.var.deps.clock());
    const groups = await breakdownGroups(db, c.var.principal, { ...query, group_by: query.group_by });
    const base = { environment: query.environment, benchmark: query.benchmark };
    const sections = (withSeries: boolean) => reportSections({ db, groups, from, to, ...base, withSeries });
    const stamp = `${from.toISOString().slice(0, 10)}_${to.toISOString().slice(0, 10)}`;
    const attachment = (extension: string) => ({ "content-disposition": `attachment; filename="dora-report_${query.group_by}_${stamp}.${extension}"` });

    if (format === "csv") {
      // UTF-8 with a byte-order mark: spreadsheet programs then read non-ASCII names correctly.
      const csv = stringify({ header: true, columns: [...CSV_COLUMNS], bom: true, cast: { number: (value) => String(value) } });
      void (async () => {
        try {
          for await (const section of sections(false)) {
            if (!csv.write(csvRow({ groupBy: query.group_by, team: section.group.team, service: section.group.service, metrics: section.metrics }))) {
              await new Promise((resolve) => csv.once("drain", resolve));
            }
          }
          csv.end();
        } catch (error) {
          c.var.deps.logger.error({ msg: "report failed", request_id: c.var.requestId, err: error });
          csv.destroy(error instanceof Error ? error : new Error(String(error)));
        }
      })();
      return new Response(Readable.toWeb(csv) as ReadableStream, {
        status: 200,
        headers: { "content-type": "text/csv; charset=utf-8", ...attachment("csv") },
      });
    }

    const serviceIds = await visibleServiceIds(db, c.var.principal, query);
    const previousFrom = new Date(from.getTime() - (to.getTime() - from.getTime()));
    const [organisation, previous] = await Promise.all([
      computeMetrics(db, { ...base, serviceIds, from, to }),
      computeMetrics(db, { ...base, serviceIds, from: previousFrom, to: from }),
    ]);
    // A turn for other requests between statements (on PGlite they run on this thread; reportSections does the same).
    await turn();

    if (format === "pdf") {
      const pdf = renderReportPdf({
        header: { from, to, benchmark: query.benchmark, groupBy: query.group_by, organisation, previous },
        sections: sections(true),
        onError: (error) => c.var.deps.logger.error({ msg: "report failed", request_id: c.var.requestId, err: error }),
      });
      return new Response(Readable.toWeb(pdf) as ReadableStream, {
        status: 200,
        headers: { "content-type": "application/pdf", ...attachment("pdf") },
      });
    }

    const items = [];
    for await (const section of sections(false)) {
      items.push({ scope: { team: section.group.team, service: section.group.service, environment: query.environment ?? null }, ...section.metrics });
    }
    const scope = { team: query.team ?? null, service: query.service ?? null, environment: query.environment ?? null };
    return c.json(
      {
        period: { from: from.toISOString(), to: to.toISOString(), days: organisation.window.days },
        benchmark: query.benchmark,
        group_by: query.group_by,
        organisation: { scope, ...organisation },
        previous: { scope, ...previous },
        groups: items,
      },
      200,
    );
  },
);
