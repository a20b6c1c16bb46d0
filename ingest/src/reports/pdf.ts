import type { Benchmark, Metrics } from "@sluice/db";
import PDFDocument from "pdfkit";
import { barChart, lineChart } from "./charts.ts";
import { formatChange, formatDuration, formatLevel, formatNumber, formatRate } from "./format.ts";
import type { Section } from "./sections.ts";

type Doc = InstanceType<typeof PDFDocument>;

const MARGIN = 50;
const WIDTH = 595.28 - 2 * MARGIN;

interface KeyRow {
  name: string;
  value: string;
  level: string;
  previous?: string;
  change?: string;
}

/** The four keys plus rework rate, as words a leader reads. */
function keyRows(m: Metrics, previous?: Metrics): KeyRow[] {
  const rows: Array<KeyRow & { now: number | null; before: number | null }> = [
    {
      name: "Deployment frequency",
      value: `${m.deployment_frequency.deployments} deployments (${formatNumber(m.deployment_frequency.per_week)} a week)`,
      level: formatLevel(m.deployment_frequency.level),
      now: m.deployment_frequency.deployments,
      before: previous?.deployment_frequency.deployments ?? null,
      previous: previous ? `${previous.deployment_frequency.deployments} deployments` : undefined,
    },
    {
      name: "Lead time for changes (median)",
      value: formatDuration(m.lead_time.median_seconds),
      level: formatLevel(m.lead_time.level),
      now: m.lead_time.median_seconds,
      before: previous?.lead_time.median_seconds ?? null,
      previous: previous ? formatDuration(previous.lead_time.median_seconds) : undefined,
    },
    {
      name: "Change failure rate",
      value: `${formatRate(m.change_failure_rate.rate)} (${m.change_failure_rate.failed} of ${m.change_failure_rate.deployments})`,
      level: formatLevel(m.change_failure_rate.level),
      now: m.change_failure_rate.rate,
      before: previous?.change_failure_rate.rate ?? null,
      previous: previous ? formatRate(previous.change_failure_rate.rate) : undefined,
    },
    {
      name: "Failed deployment recovery time (median)",
      value: `${formatDuration(m.recovery_time.median_seconds)} (${m.recovery_time.recovered} of ${m.recovery_time.failures} recovered)`,
      level: formatLevel(m.recovery_time.level),
      now: m.recovery_time.median_seconds,
      before: previous?.recovery_time.median_seconds ?? null,
      previous: previous ? formatDuration(previous.recovery_time.median_seconds) : undefined,
    },
    {
      name: "Rework rate",
      value: `${formatRate(m.rework_rate.rate)} (${m.rework_rate.rework} of ${m.rework_rate.deployments})`,
      level: "",
      now: m.rework_rate.rate,
      before: previous?.rework_rate.rate ?? null,
      previous: previous ? formatRate(previous.rework_rate.rate) : undefined,
    },
  ];
  return rows.map(({ now, before, ...row }) => (previous ? { ...row, change: formatChange(now, before) } : row));
}

function table(doc: Doc, y: number, rows: KeyRow[], withPrevious: boolean): number {
  const columns = withPrevious ? [150, 130, 55, 95, 65] : [170, 230, 95];
  const headers = withPrevious ? ["Metric", "This period", "Level", "Previous period", "Change"] : ["Metric", "Value", "Level"];
  const cells = (row: KeyRow) => (withPrevious ? [row.name, row.value, row.level, row.previous ?? "", row.change ?? ""] : [row.name, row.value, row.level]);
  const draw = (values: string[], top: number, bold: boolean) => {
    let x = MARGIN;
    let height = 0;
    values.forEach((value, i) => {
      doc.font(bold || i === 0 ? "Helvetica-Bold" : "Helvetica").fontSize(9).fillColor("#000000");
      height = Math.max(height, doc.heightOfString(value, { width: (columns[i] ?? 80) - 6 }));
      doc.text(value, x, top, { width: (columns[i] ?? 80) - 6 });
      x += columns[i] ?? 80;
    });
    return height + 6;
  };
  let top = y + draw(headers, y, true);
  doc.lineWidth(0.8).strokeColor("#000000").moveTo(MARGIN, top - 3).lineTo(MARGIN + WIDTH, top - 3).stroke();
  for (const row of rows) top += draw(cells(row), top, false);
  return top;
}

const shortDate = (iso: string) => iso.slice(5, 10);

function groupPage(doc: Doc, section: Section, groupBy: "team" | "service") {
  const { group, metrics, series = [] } = section;
  const title = groupBy === "team" ? `Team: ${group.team ?? "(no team)"}` : `Service: ${group.service}${group.team ? `  (team ${group.team})` : ""}`;
  doc.font("Helvetica-Bold").fontSize(16).fillColor("#000000").text(title, MARGIN, MARGIN, { width: WIDTH });
  doc.font("Helvetica").fontSize(10).text(`Overall level: ${formatLevel(metrics.level)}`, MARGIN, MARGIN + 24);
  let y = table(doc, MARGIN + 46, keyRows(metrics), false) + 14;
  const points = (pick: (m: Metrics) => number | null) => series.map((b) => ({ label: shortDate(b.start), value: pick(b) }));
  const half = (WIDTH - 20) / 2;
  const height = 150;
  barChart(doc, { x: MARGIN, y, width: half, height, title: "Production deployments" }, points((m) => m.deployment_frequency.deployments), (v) => formatNumber(v, 0));
  lineChart(
    doc,
    { x: MARGIN + half + 20, y, width: half, height, title: "Lead time (hours)" },
    [
      { name: "median", points: points((m) => (m.lead_time.median_seconds === null ? null : m.lead_time.median_seconds / 3600)) },
      { name: "p90", points: points((m) => (m.lead_time.p90_seconds === null ? null : m.lead_time.p90_seconds / 3600)), dashed: true },
    ],
    (v) => formatNumber(v),
  );
  y += height + 24;
  barChart(doc, { x: MARGIN, y, width: half, height, title: "Change failure rate (%)" }, points((m) => (m.change_failure_rate.rate === null ? null : m.change_failure_rate.rate * 100)), (v) => formatNumber(v, 0));
  lineChart(
    doc,
    { x: MARGIN + half + 20, y, width: half, height, title: "Recovery time, median (hours)" },
    [{ name: "median", points: points((m) => (m.recovery_time.median_seconds === null ? null : m.recovery_time.median_seconds / 3600)) }],
    (v) => formatNumber(v),
  );
}

export interface ReportHeader {
  from: Date;
  to: Date;
  benchmark: Benchmark;
  groupBy: "team" | "service";
  organisation: Metrics;
  previous: Metrics;
}

export interface ReportDrawing {
  /** Draws the section's page. */
  addSection(section: Section): void;
  /** Ends the document; `failed` adds a page saying the report is incomplete. */
  end(options: { failed: boolean }): void;
}

/**
 * The leadership report (SPEC 8): a summary page for the organisation with the change against
 * the previous period, then one page per group with its keys, levels and trend charts, drawn
 * as vector graphics. Pages are drawn as sections are added and their bytes handed to
 * `output.write` as the document produces them: the document streams. Drawing runs in the
 * report worker (pdf-worker.ts), off the request thread: hundreds of pages take seconds.
 */
export function drawReport(header: ReportHeader, output: { write(bytes: Uint8Array): void; done(): void }): ReportDrawing {
  const doc = new PDFDocument({ size: "A4", margin: MARGIN, info: { Title: "DORA report", Creator: "Sluice" } });
  doc.on("data", (chunk: Uint8Array) => output.write(chunk));
  doc.on("end", () => output.done());
  const days = Math.round((header.to.getTime() - header.from.getTime()) / 86_400_000);
  doc.font("Helvetica-Bold").fontSize(22).text("DORA report", MARGIN, MARGIN);
  doc
    .font("Helvetica")
    .fontSize(10)
    .text(
      `${header.from.toISOString().slice(0, 10)} to ${header.to.toISOString().slice(0, 10)} (${days} days), by ${header.groupBy}, benchmark ${header.benchmark}`,
      MARGIN,
      MARGIN + 30,
    );
  doc.font("Helvetica-Bold").fontSize(12).text(`Organisation level: ${formatLevel(header.organisation.level)}`, MARGIN, MARGIN + 56);
  const end = table(doc, MARGIN + 84, keyRows(header.organisation, header.previous), true);
  doc
    .font("Helvetica")
    .fontSize(8)
    .fillColor("#333333")
    .text(
      `The previous period is the ${days} days before this one. Levels are elite, high, medium and low against the DORA ${header.benchmark} ` +
        "benchmark; the overall level is the lowest level among the metrics that have data. Every definition, with worked examples, " +
        "is in docs/metrics.md. Each following page covers one group.",
      MARGIN,
      end + 16,
      { width: WIDTH },
    );

  return {
    addSection(section) {
      doc.addPage();
      groupPage(doc, section, header.groupBy);
    },
    end({ failed }) {
      if (failed) doc.addPage().font("Helvetica").fontSize(10).text("The report could not be completed; see Sluice's logs.", MARGIN, MARGIN);
      doc.end();
    },
  };
}
