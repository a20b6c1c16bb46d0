/**
 * Proleptic Gregorian calendar arithmetic on day numbers (days since 1970-01-01), for the freeze
 * rule's cron schedules (cron-schedule.ts): plain integer math, no Date objects, because one gate
 * evaluation may ask thousands of these questions (SPEC 7 v2: under 50 ms of CPU).
 */

export const DAY_MS = 86_400_000;

/** Day number of a civil date (month 1-12); Howard Hinnant's days_from_civil. */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

export interface Civil {
  year: number;
  /** 1-12 */
  month: number;
  day: number;
}

/** The civil date of a day number; Howard Hinnant's civil_from_days. */
export function civilFromDays(days: number): Civil {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

const isLeap = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
const LENGTHS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export const monthLength = (year: number, month: number): number =>
  month === 2 && isLeap(year) ? 29 : (LENGTHS[month - 1] as number);

/** 0 = Sunday ... 6 = Saturday (1970-01-01 was a Thursday). */
export const weekday = (days: number): number => (((days + 4) % 7) + 7) % 7;

/** Two ASCII digits at `at` as a number, or -1000 when either is not a digit (which every range check refuses). */
const twoDigits = (text: string, at: number): number => {
  const tens = text.charCodeAt(at) - 48;
  const ones = text.charCodeAt(at + 1) - 48;
  return (tens | ones | (9 - tens) | (9 - ones)) < 0 ? -1000 : tens * 10 + ones;
};

/**
 * Milliseconds of an ISO-8601 date-time with a Z or ±HH:MM offset, as the freeze windows store it
 * (rule-schemas.ts validates the shape): that shape by hand, three times faster than Date.parse,
 * which a gate of 50 freeze rules of 500 windows would call 50,000 times an evaluation; anything
 * else (fractions of a second) through Date.parse.
 */
export function parseInstant(text: string): number {
  const length = text.length;
  const shaped =
    (length === 20 || length === 25) &&
    text.charCodeAt(4) === 45 &&
    text.charCodeAt(7) === 45 &&
    text.charCodeAt(10) === 84 &&
    text.charCodeAt(13) === 58 &&
    text.charCodeAt(16) === 58;
  if (!shaped) return Date.parse(text);
  const sign = text.charCodeAt(19);
  let offset = 0;
  if (length === 25 && (sign === 43 || sign === 45) && text.charCodeAt(22) === 58) {
    const hours = twoDigits(text, 20);
    const minutes = twoDigits(text, 23);
    if (hours < 0 || minutes < 0) return Date.parse(text);
    offset = (hours * 60 + minutes) * (sign === 45 ? -60_000 : 60_000);
  } else if (length !== 20 || sign !== 90) {
    return Date.parse(text);
  }
  const century = twoDigits(text, 0);
  const yearOfCentury = twoDigits(text, 2);
  const year = century * 100 + yearOfCentury;
  const month = twoDigits(text, 5);
  const day = twoDigits(text, 8);
  const hour = twoDigits(text, 11);
  const minute = twoDigits(text, 14);
  const second = twoDigits(text, 17);
  const valid =
    century >= 0 && yearOfCentury >= 0 && month >= 1 && month <= 12 && day >= 1 && day <= monthLength(year, month) && hour >= 0 && hour < 24;
  if (!valid || minute < 0 || minute >= 60 || second < 0 || second >= 60) return Date.parse(text);
  return (daysFromCivil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second) * 1000 - offset;
}
