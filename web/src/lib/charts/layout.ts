import { scaleBand, scaleLinear } from "d3-scale";

/** Shared geometry of the dashboard's charts: plain SVG, computed the same on server and client. */
export const MARGIN = { top: 12, right: 12, bottom: 28, left: 64 };

export interface Frame {
  width: number;
  height: number;
  innerWidth: number;
  innerHeight: number;
}

export function frame(width: number, height: number): Frame {
  return {
    width,
    height,
    innerWidth: Math.max(10, width - MARGIN.left - MARGIN.right),
    innerHeight: Math.max(10, height - MARGIN.top - MARGIN.bottom),
  };
}

/** A y scale from 0 to a nice maximum (at least `minMax`, so an all-zero series still draws). */
export function yScale(values: Array<number | null | undefined>, f: Frame, minMax = 1) {
  const max = Math.max(minMax, ...values.filter((v): v is number => typeof v === "number" && Number.isFinite(v)));
  return scaleLinear().domain([0, max]).nice(4).range([f.innerHeight, 0]);
}

export function xBand(labels: string[], f: Frame, padding = 0.2) {
  return scaleBand<number>()
    .domain(labels.map((_, i) => i))
    .range([0, f.innerWidth])
    .padding(padding);
}

/** Which x labels to print so they do not collide: about one per 70 px. */
export function labelEvery(count: number, innerWidth: number): number {
  return Math.max(1, Math.ceil(count / Math.max(1, Math.floor(innerWidth / 70))));
}

/** "2026-06-08" -> "8 Jun": bucket starts as axis labels. */
export function shortDay(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getUTCDate()} ${d.toLocaleString("en-GB", { month: "short", timeZone: "UTC" })}`;
}
