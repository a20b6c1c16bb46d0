import { CronPattern } from "croner";
import { DAY_MS, civilFromDays, daysFromCivil, monthLength, weekday } from "./cron-calendar.ts";
import { type Span, type Zone, zoneFor } from "./cron-zone.ts";

/**
 * The runs of a freeze rule's cron expression, found in bounded time (SPEC 7 v2: one gate
 * evaluation costs under 50 ms of CPU). croner parses the expression, so the syntax and its
 * meaning are croner's (five fields, six with seconds, L, W, #, names; day of month OR day of
 * week when both are restricted, AND with a leading "+"), but croner's own search walks wall-clock
 * time with an Intl call per step and, for an expression that never fires, for centuries (seconds
 * a call). Here a month is one lookup: each expression knows, for the 28 possible months (28 to 31
 * days, starting on any weekday), which days match; time zones are spans of constant offset
 * (cron-zone.ts); and every search has an end the caller names.
 *
 * Daylight saving time is croner's: a run whose wall-clock time falls into a spring-forward gap
 * runs at the end of the gap when the expression names one time of day (croner's "fixed time"),
 * and is skipped otherwise; in a fall-back overlap a fixed-time run happens once, at the first of
 * the two instants, and other runs happen at both.
 */

const SECOND = 1000;

/** For each x in 0..size: the smallest value >= x in the set (-1 if none). */
function nextTable(values: number[], size: number): Int8Array {
  const table = new Int8Array(size + 1).fill(-1);
  for (let x = size - 1; x >= 0; x--) table[x] = values[x] ? x : (table[x + 1] as number);
  return table;
}

/** For each x in -1..size-1, at index x + 1: the largest value <= x in the set (-1 if none). */
function previousTable(values: number[], size: number): Int8Array {
  const table = new Int8Array(size + 1).fill(-1);
  for (let x = 0; x < size; x++) table[x + 1] = values[x] ? x : (table[x] as number);
  return table;
}

const NTH = [1, 2, 4, 8, 16];

function yearBits(years: number[]): Uint8Array {
  const bits = new Uint8Array(1250);
  years.forEach((on, year) => {
    if (on) bits[year >> 3] = (bits[year >> 3] as number) | (1 << (year & 7));
  });
  return bits;
}

/** A cron expression as a set of wall-clock times. */
export class CronCalendar {
  /** Whether any date at all matches (not "30 2 *"): an expression that never fires has no runs. */
  readonly fires: boolean;
  /** croner's "fixed time": one second, one minute and one hour, no wildcard or step. */
  readonly fixedTime: boolean;
  private readonly months: Uint8Array;
  private readonly days: Uint8Array;
  private readonly weekdays: Uint8Array;
  /** Days of month with W (nearest weekday). */
  private readonly nearest: number[];
  private readonly flags: Pick<CronPattern, "lastDayOfMonth" | "lastWeekday" | "starDOM" | "starDOW" | "useAndLogic">;
  /** Years allowed by a seventh field, one bit each (null: every year). */
  private readonly years: Uint8Array | null;
  private readonly nextH: Int8Array;
  private readonly nextM: Int8Array;
  private readonly nextS: Int8Array;
  private readonly previousH: Int8Array;
  private readonly previousM: Int8Array;
  private readonly previousS: Int8Array;
  private readonly firstTime: number;
  private readonly lastTime: number;
  /** Matching days (bit d-1 for day d) per month shape: (length - 28) * 7 + weekday of the 1st. */
  private readonly masks = new Int32Array(28).fill(-1);

  constructor(expression: string) {
    // Only compact copies are kept: croner's pattern holds a 10,000-entry array of years.
    const pattern = new CronPattern(expression);
    this.months = Uint8Array.from(pattern.month);
    this.days = Uint8Array.from(pattern.day);
    this.weekdays = Uint8Array.from(pattern.dayOfWeek.slice(0, 7));
    this.nearest = pattern.nearestWeekdays.flatMap((on, index) => (on ? [index + 1] : []));
    const { lastDayOfMonth, lastWeekday, starDOM, starDOW, useAndLogic } = pattern;
    this.flags = { lastDayOfMonth, lastWeekday, starDOM, starDOW, useAndLogic };
    this.fixedTime = pattern.isFixedTime;
    this.years = pattern.starYear ? null : yearBits(pattern.year);
    this.nextH = nextTable(pattern.hour, 24);
    this.nextM = nextTable(pattern.minute, 60);
    this.nextS = nextTable(pattern.second, 60);
    this.previousH = previousTable(pattern.hour, 24);
    this.previousM = previousTable(pattern.minute, 60);
    this.previousS = previousTable(pattern.second, 60);
    const [h, m, s] = [this.nextH[0] as number, this.nextM[0] as number, this.nextS[0] as number];
    const [lh, lm, ls] = [this.previousH[24] as number, this.previousM[60] as number, this.previousS[60] as number];
    this.firstTime = h < 0 || m < 0 || s < 0 ? -1 : h * 3600 + m * 60 + s;
    this.lastTime = lh * 3600 + lm * 60 + ls;
    this.fires = this.firstTime >= 0 && this.anyDate();
  }

  /** The smallest matching wall-clock time (ms, as if UTC) >= from and < limit, or null. */
  nextWall(from: number, limit: number): number | null {
    const start = Math.ceil(from / SECOND) * SECOND;
    if (start >= limit || !this.fires) return null;
    const startDay = Math.floor(start / DAY_MS);
    let secondOfDay = (start - startDay * DAY_MS) / SECOND;
    let { year, month, day } = civilFromDays(startDay);
    for (;;) {
      if (!this.yearMatches(year)) {
        year = this.nextYear(year);
        if (year < 0) return null;
        [month, day, secondOfDay] = [1, 1, 0];
      }
      const first = daysFromCivil(year, month, 1);
      if (first * DAY_MS >= limit) return null;
      if (this.months[month - 1]) {
        let days = this.mask(year, month, first) & ~((1 << (day - 1)) - 1);
        while (days !== 0) {
          const lowest = days & -days;
          const d = 32 - Math.clz32(lowest);
          const time = d === day ? this.nextTime(secondOfDay) : this.firstTime;
          if (time >= 0) {
            const wall = (first + d - 1) * DAY_MS + time * SECOND;
            return wall < limit ? wall : null;
          }
          days ^= lowest;
        }
      }
      if (month === 12) [year, month] = [year + 1, 1];
      else month++;
      [day, secondOfDay] = [1, 0];
    }
  }

  /** The largest matching wall-clock time (ms, as if UTC) <= to and >= lower, or null. */
  previousWall(to: number, lower: number): number | null {
    const end = Math.floor(to / SECOND) * SECOND;
    if (end < lower || !this.fires) return null;
    const endDay = Math.floor(end / DAY_MS);
    let secondOfDay = (end - endDay * DAY_MS) / SECOND;
    let { year, month, day } = civilFromDays(endDay);
    for (;;) {
      if (!this.yearMatches(year)) {
        year = this.previousYear(year);
        if (year < 0) return null;
        [month, day, secondOfDay] = [12, 31, 86_399];
      }
      const first = daysFromCivil(year, month, 1);
      const length = monthLength(year, month);
      if ((first + length) * DAY_MS <= lower) return null;
      if (this.months[month - 1]) {
        let days = this.mask(year, month, first) & (day >= 31 ? 0x7fffffff : (1 << day) - 1);
        while (days !== 0) {
          const d = 32 - Math.clz32(days);
          const time = d === day ? this.previousTime(secondOfDay) : this.lastTime;
          if (time >= 0) {
            const wall = (first + d - 1) * DAY_MS + time * SECOND;
            return wall >= lower ? wall : null;
          }
          days ^= 1 << (d - 1);
        }
      }
      if (month === 1) [year, month] = [year - 1, 12];
      else month--;
      [day, secondOfDay] = [monthLength(year, month), 86_399];
    }
  }

  private yearMatches(year: number): boolean {
    if (year < 1 || year > 9999) return false;
    return this.years === null || ((this.years[year >> 3] as number) & (1 << (year & 7))) !== 0;
  }

  private nextYear(year: number): number {
    for (let y = Math.max(year + 1, 1); y <= 9999; y++) if (this.yearMatches(y)) return y;
    return -1;
  }

  private previousYear(year: number): number {
    for (let y = Math.min(year - 1, 9999); y >= 1; y--) if (this.yearMatches(y)) return y;
    return -1;
  }

  private nextTime(secondOfDay: number): number {
    const h0 = Math.floor(secondOfDay / 3600);
    const m0 = Math.floor((secondOfDay % 3600) / 60);
    const s0 = secondOfDay % 60;
    let h = this.nextH[h0] as number;
    if (h < 0) return -1;
    if (h === h0) {
      let m = this.nextM[m0] as number;
      if (m === m0) {
        const s = this.nextS[s0] as number;
        if (s >= 0) return h * 3600 + m * 60 + s;
        m = this.nextM[m0 + 1] as number;
      }
      if (m >= 0) return h * 3600 + m * 60 + (this.nextS[0] as number);
      h = this.nextH[h0 + 1] as number;
      if (h < 0) return -1;
    }
    return h * 3600 + (this.nextM[0] as number) * 60 + (this.nextS[0] as number);
  }

  private previousTime(secondOfDay: number): number {
    const h0 = Math.floor(secondOfDay / 3600);
    const m0 = Math.floor((secondOfDay % 3600) / 60);
    const s0 = secondOfDay % 60;
    let h = this.previousH[h0 + 1] as number;
    if (h < 0) return -1;
    if (h === h0) {
      let m = this.previousM[m0 + 1] as number;
      if (m === m0) {
        const s = this.previousS[s0 + 1] as number;
        if (s >= 0) return h * 3600 + m * 60 + s;
        m = this.previousM[m0] as number;
      }
      if (m >= 0) return h * 3600 + m * 60 + (this.previousS[60] as number);
      h = this.previousH[h0] as number;
      if (h < 0) return -1;
    }
    return h * 3600 + (this.previousM[60] as number) * 60 + (this.previousS[60] as number);
  }

  private mask(year: number, month: number, first: number): number {
    return this.shapeMask(monthLength(year, month), weekday(first));
  }

  private shapeMask(length: number, firstWeekday: number): number {
    const key = (length - 28) * 7 + firstWeekday;
    let mask = this.masks[key] as number;
    if (mask < 0) {
      mask = 0;
      for (let d = 1; d <= length; d++) if (this.dayMatches(d, length, firstWeekday)) mask |= 1 << (d - 1);
      this.masks[key] = mask;
    }
    return mask;
  }

  /** croner's CronDate._matchDayValue, for a month of `length` days whose 1st is `firstWeekday`. */
  private dayMatches(d: number, length: number, firstWeekday: number): boolean {
    const p = this.flags;
    let matches = this.days[d - 1] === 1;
    if (!matches) matches = this.nearest.some((day) => nearestWeekday(day, length, firstWeekday) === d);
    if (p.lastWeekday && d === lastWeekday(length, firstWeekday)) matches = true;
    if (p.lastDayOfMonth && d === length) matches = true;
    if (!p.starDOW) {
      const flags = this.weekdays[(firstWeekday + d - 1) % 7] as number;
      const nth = Math.floor((d - 1) / 7);
      const onWeekday = flags !== 0 && ((flags & (NTH[nth] as number)) !== 0 || ((flags & 32) !== 0 && d + 7 > length));
      matches = p.useAndLogic || p.starDOM ? matches && onWeekday : matches || onWeekday;
    }
    return matches;
  }

  /** Whether any date matches: for any year, the 28 month shapes; else each allowed year (the calendar repeats every 400 years). */
  private anyDate(): boolean {
    if (this.years === null) {
      for (let month = 1; month <= 12; month++) {
        if (!this.months[month - 1]) continue;
        for (const length of month === 2 ? [28, 29] : [monthLength(2001, month)]) {
          for (let first = 0; first < 7; first++) if (this.shapeMask(length, first) !== 0) return true;
        }
      }
      return false;
    }
    const seen = new Set<number>();
    for (let year = 1; year <= 9999; year++) {
      if (!this.yearMatches(year) || seen.has(year % 400)) continue;
      seen.add(year % 400);
      for (let month = 1; month <= 12; month++) {
        if (this.months[month - 1] && this.mask(year, month, daysFromCivil(year, month, 1)) !== 0) return true;
      }
    }
    return false;
  }
}

function nearestWeekday(d: number, length: number, firstWeekday: number): number {
  if (d > length) return -1;
  const day = (firstWeekday + d - 1) % 7;
  if (day === 0) return d === length ? d - 2 : d + 1;
  if (day === 6) return d === 1 ? d + 2 : d - 1;
  return d;
}

function lastWeekday(length: number, firstWeekday: number): number {
  const day = (firstWeekday + length - 1) % 7;
  return day === 0 ? length - 2 : day === 6 ? length - 1 : length;
}

const sameDay = (a: number, b: number) => Math.floor(a / DAY_MS) === Math.floor(b / DAY_MS);

/** Spans visited by one search: a year has two transitions and six 64-day chunks. */
const MAX_SPANS = 64;
/** The largest clock change there is (Antarctica/Troll: two hours). */
const MAX_SHIFT = 3 * 3_600_000;

/** A cron expression's runs as instants in one time zone. */
export class Schedule {
  readonly calendar: CronCalendar;
  private readonly zone: Zone;

  constructor(calendar: CronCalendar, zone: Zone) {
    this.calendar = calendar;
    this.zone = zone;
  }

  /** The earliest run after `after` and before `before` (ms), or null. */
  earliest(after: number, before: number): number | null {
    const { calendar, zone } = this;
    if (!calendar.fires) return null;
    const from = Math.floor(after / SECOND) * SECOND + SECOND;
    let span = zone.span(from);
    for (let visited = 0; visited < MAX_SPANS; visited++) {
      const offset = span.offset;
      let wallFrom = Math.max(from, span.start) + offset;
      if (calendar.fixedTime) wallFrom = Math.max(wallFrom, this.afterOverlap(span));
      const wallLimit = Math.min(span.end, before) + offset;
      if (wallFrom < wallLimit) {
        const wall = calendar.nextWall(wallFrom, wallLimit);
        if (wall !== null) return wall - offset;
      }
      if (span.end >= before) return null;
      const next = zone.span(span.end);
      if (calendar.fixedTime && next.offset > offset && this.gapRun(span.end, offset, next.offset)) return span.end;
      span = next;
    }
    return null;
  }

  /** The latest run at or before `at` and not before `notBefore` (ms), or null. */
  latest(at: number, notBefore: number): number | null {
    const { calendar, zone } = this;
    if (!calendar.fires) return null;
    const to = Math.floor(at / SECOND) * SECOND;
    let span = zone.span(to);
    for (let visited = 0; visited < MAX_SPANS; visited++) {
      const offset = span.offset;
      const wallTo = Math.min(to, span.end - SECOND) + offset;
      let wallLower = Math.max(notBefore, span.start) + offset;
      if (calendar.fixedTime) wallLower = Math.max(wallLower, this.afterOverlap(span));
      if (wallLower <= wallTo) {
        const wall = calendar.previousWall(wallTo, wallLower);
        if (wall !== null) return wall - offset;
      }
      if (!Number.isFinite(span.start) || span.start < notBefore) return null;
      const previous = zone.span(span.start - 1);
      if (calendar.fixedTime && previous.offset < offset && span.start <= to && this.gapRun(span.start, previous.offset, offset)) {
        return span.start;
      }
      if (span.start === notBefore) return null;
      span = previous;
    }
    return null;
  }

  /**
   * The first wall-clock time of a span that a fixed-time run may use: after a fall-back, the
   * wall-clock times of the overlap come round a second time, and a fixed-time run happened at
   * the first. The span may start at the transition or, where cron-zone.ts split it into chunks,
   * up to three hours after it.
   */
  private afterOverlap(span: Span): number {
    let start = span.start;
    for (let step = 0; step < 2 && Number.isFinite(start) && span.start - start < MAX_SHIFT; step++) {
      const previous = this.zone.span(start - 1);
      if (previous.offset > span.offset) return start + previous.offset;
      if (previous.offset !== span.offset) break;
      start = previous.start;
    }
    return Number.NEGATIVE_INFINITY;
  }

  /** A fixed-time run whose wall-clock time the spring-forward at `at` skipped runs at `at`, if on the same day. */
  private gapRun(at: number, before: number, after: number): boolean {
    const wall = this.calendar.nextWall(at + before, at + after);
    return wall !== null && sameDay(wall, at + after);
  }
}

/**
 * Compiled expressions, kept (a gate is evaluated again and again) in two generations: a lookup
 * is one or two Map reads, and when the young generation is full it becomes the old one, so what
 * was used since then survives. A gate holds at most 2,500 recurring entries; one compiled
 * expression is about a kilobyte.
 */
const GENERATION = 8192;
let young = new Map<string, CronCalendar | Error>();
let old = new Map<string, CronCalendar | Error>();

/** The compiled expression, or croner's parse error. */
export function compileCron(expression: string): CronCalendar | Error {
  let found = young.get(expression);
  if (found !== undefined) return found;
  found = old.get(expression);
  if (found === undefined) {
    try {
      found = new CronCalendar(expression);
    } catch (error) {
      found = error instanceof Error ? error : new Error(String(error));
    }
  }
  if (young.size >= GENERATION) [old, young] = [young, new Map()];
  young.set(expression, found);
  return found;
}

/** The runs of `expression` in `timezone`, or null when either cannot be used (no runs). */
export function scheduleFor(expression: string, timezone: string): Schedule | null {
  const calendar = compileCron(expression);
  const zone = zoneFor(timezone);
  return calendar instanceof Error || zone === null || !calendar.fires ? null : new Schedule(calendar, zone);
}
