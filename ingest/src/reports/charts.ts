import type PDFDocument from "pdfkit";

type Doc = InstanceType<typeof PDFDocument>;

export interface ChartBox {
  x: number;
  y: number;
  width: number;
  height: number;
  title: string;
}

export interface Point {
  label: string;
  value: number | null;
}

const AXIS = "#000000";
const GRID = "#bbbbbb";

/** Title, frame and the y range's labels; returns the plotting area. */
function frame(doc: Doc, box: ChartBox, max: number, format: (v: number) => string) {
  doc.font("Helvetica-Bold").fontSize(9).fillColor(AXIS).text(box.title, box.x, box.y, { width: box.width });
  const plot = { x: box.x + 48, y: box.y + 16, width: box.width - 52, height: box.height - 34 };
  doc.lineWidth(0.5).strokeColor(GRID);
  for (const fraction of [0, 0.5, 1]) {
    const y = plot.y + plot.height * (1 - fraction);
    doc.moveTo(plot.x, y).lineTo(plot.x + plot.width, y).stroke();
    doc.font("Helvetica").fontSize(7).fillColor(AXIS).text(format(max * fraction), box.x, y - 4, { width: 44, align: "right" });
  }
  doc.lineWidth(0.8).strokeColor(AXIS).moveTo(plot.x, plot.y).lineTo(plot.x, plot.y + plot.height).lineTo(plot.x + plot.width, plot.y + plot.height).stroke();
  return plot;
}

function xLabels(doc: Doc, plot: { x: number; y: number; width: number; height: number }, points: Point[]) {
  const step = Math.max(1, Math.ceil(points.length / 6));
  const slot = plot.width / Math.max(points.length, 1);
  points.forEach((point, i) => {
    if (i % step !== 0) return;
    doc.font("Helvetica").fontSize(6.5).fillColor(AXIS).text(point.label, plot.x + slot * i, plot.y + plot.height + 3, { width: slot * step, align: "left" });
  });
}

/** Vector bars in grey with a black outline: readable printed in black and white. */
export function barChart(doc: Doc, box: ChartBox, points: Point[], format: (v: number) => string): void {
  const max = Math.max(1, ...points.map((p) => p.value ?? 0));
  const plot = frame(doc, box, max, format);
  const slot = plot.width / Math.max(points.length, 1);
  points.forEach((point, i) => {
    if (point.value === null || point.value === 0) return;
    const height = (point.value / max) * plot.height;
    doc.lineWidth(0.5).rect(plot.x + slot * i + slot * 0.15, plot.y + plot.height - height, slot * 0.7, height).fillAndStroke("#8c8c8c", AXIS);
  });
  xLabels(doc, plot, points);
}

export interface Line {
  name: string;
  points: Point[];
  /** Solid for the first series, dashed for the second: tells lines apart without colour. */
  dashed?: boolean;
}

export function lineChart(doc: Doc, box: ChartBox, lines: Line[], format: (v: number) => string): void {
  const values = lines.flatMap((line) => line.points.map((p) => p.value ?? 0));
  const max = Math.max(1, ...values);
  const plot = frame(doc, box, max, format);
  const count = Math.max(...lines.map((line) => line.points.length), 1);
  const slot = plot.width / count;
  lines.forEach((line, n) => {
    doc.lineWidth(1.2).strokeColor(AXIS);
    if (line.dashed) doc.dash(3, { space: 2 });
    let drawing = false;
    line.points.forEach((point, i) => {
      const x = plot.x + slot * (i + 0.5);
      if (point.value === null) {
        drawing = false;
        return;
      }
      const y = plot.y + plot.height - (point.value / max) * plot.height;
      if (drawing) doc.lineTo(x, y);
      else doc.moveTo(x, y);
      drawing = true;
    });
    doc.stroke().undash();
    // A marker on every point: a week with data between empty weeks is a point, not a segment.
    line.points.forEach((point, i) => {
      if (point.value === null) return;
      const x = plot.x + slot * (i + 0.5);
      const y = plot.y + plot.height - (point.value / max) * plot.height;
      if (line.dashed) doc.rect(x - 1.8, y - 1.8, 3.6, 3.6).fill(AXIS);
      else doc.circle(x, y, 1.8).fill(AXIS);
    });
    // Legend, top right.
    const legendX = plot.x + plot.width - 90;
    const legendY = box.y + 1 + n * 9;
    if (line.dashed) doc.dash(3, { space: 2 });
    doc.lineWidth(1.2).moveTo(legendX, legendY + 4).lineTo(legendX + 14, legendY + 4).stroke().undash();
    doc.font("Helvetica").fontSize(7).fillColor(AXIS).text(line.name, legendX + 17, legendY, { width: 73 });
  });
  xLabels(doc, plot, lines[0]?.points ?? []);
}
