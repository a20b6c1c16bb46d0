import { DAY_MS } from "./cron-calendar.ts";

/**
 * The UTC offsets of an IANA time zone as spans of constant offset, for the freeze rule's cron
 * schedules (cron-schedule.ts). Intl is the only source of time zone rules in Node, and one Intl
 * call costs about a microsecond, so each zone's spans are found once per 64-day chunk (a sample
 * every two days, then a binary search to the second where the offset changed) and kept.
 * Transition pairs less than two days apart would be missed; the time zone database has none
 * in this century.
 */

export interface Span {
  /** First instant (ms) with this offset, or the start of the chunk the span was found in. */
  start: number;
  /** First instant after the span. */
  end: number;
  /** Local wall-clock time minus UTC, in ms. */
  offset: number;
}

interface Chunk {
  starts: number[];
  offsets: number[];
  end: number;
}

const CHUNK_MS = 64 * DAY_MS;
const SAMPLE_MS = 2 * DAY_MS;
/** Bounds the memory a zone holds: 256 chunks are 45 years of spans. */
const MAX_CHUNKS = 256;
const MAX_ZONES = 1024;

const OFFSET = /GMT(?:([+-])(\d{2}):(\d{2})(?::(\d{2}))?)?$/;

export class Zone {
  private readonly format: Intl.DateTimeFormat;
  private readonly chunks = new Map<number, Chunk>();
  /** UTC and the Etc/ zones never change their offset. */
  private readonly fixed: number | null;

  constructor(name: string) {
    this.format = new Intl.DateTimeFormat("en-US", { timeZone: name, timeZoneName: "longOffset" });
    const resolved = this.format.resolvedOptions().timeZone;
    this.fixed = resolved === "UTC" || resolved.startsWith("Etc/") ? this.offsetAt(0) : null;
  }

  /** The offset at an instant, straight from Intl. */
  offsetAt(at: number): number {
    const match = OFFSET.exec(this.format.format(at));
    if (!match?.[1]) return 0;
    const seconds = Number(match[2]) * 3600 + Number(match[3]) * 60 + Number(match[4] ?? 0);
    return (match[1] === "-" ? -seconds : seconds) * 1000;
  }

  /** The span of constant offset that holds `at`. */
  span(at: number): Span {
    if (this.fixed !== null) return { start: Number.NEGATIVE_INFINITY, end: Number.POSITIVE_INFINITY, offset: this.fixed };
    const index = Math.floor(at / CHUNK_MS);
    let chunk = this.chunks.get(index);
    if (!chunk) {
      chunk = this.build(index);
      if (this.chunks.size >= MAX_CHUNKS) this.chunks.delete(this.chunks.keys().next().value as number);
      this.chunks.set(index, chunk);
    }
    const { starts, offsets } = chunk;
    let i = starts.length - 1;
    while (i > 0 && (starts[i] as number) > at) i--;
    return { start: starts[i] as number, end: starts[i + 1] ?? chunk.end, offset: offsets[i] as number };
  }

  private build(index: number): Chunk {
    const from = index * CHUNK_MS;
    const end = from + CHUNK_MS;
    const starts = [from];
    const offsets = [this.offsetAt(from)];
    let before = from;
    let beforeOffset = offsets[0] as number;
    for (let sample = from + SAMPLE_MS; sample <= end; sample += SAMPLE_MS) {
      const offset = this.offsetAt(sample);
      if (offset !== beforeOffset) {
        // The first second with the new offset lies in (before, sample].
        let low = before;
        let high = sample;
        while (high - low > 1000) {
          const middle = low + Math.floor((high - low) / 2000) * 1000;
          if (this.offsetAt(middle) === beforeOffset) low = middle;
          else high = middle;
        }
        if (high < end) {
          starts.push(high);
          offsets.push(offset);
        }
        beforeOffset = offset;
      }
      before = sample;
    }
    return { starts, offsets, end };
  }
}

const zones = new Map<string, Zone | null>();

/** The zone of an IANA name, or null for a name Intl does not know. */
export function zoneFor(name: string): Zone | null {
  let zone = zones.get(name);
  if (zone === undefined) {
    try {
      zone = new Zone(name);
    } catch {
      zone = null;
    }
    if (zones.size >= MAX_ZONES) zones.delete(zones.keys().next().value as string);
    zones.set(name, zone);
  }
  return zone;
}
