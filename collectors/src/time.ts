import { CollectorError } from "./events.ts";

/**
 * Every timestamp a source sends becomes an ISO-8601 UTC string ("2016-08-12T15:23:28.000Z").
 * Shapes seen in real payloads:
 * - ISO 8601 with `Z` or an offset, with or without fractions: `2021-04-15T21:06:04+02:00`,
 *   Alertmanager's nanoseconds `2021-02-01T03:37:13.293116502Z`
 * - GitLab: `2016-08-12 15:23:28 UTC`, `2021-04-28 21:50:00 +0200`, `2011-12-12T14:27:31+02:00`
 * - GitHub push: `pushed_at` / `repository.created_at` as Unix seconds (number or digit string)
 * - milliseconds since the epoch (numbers of 1e11 and more: as seconds that is after the year 5000)
 * A time without a zone is read as UTC: no source we map sends local times.
 */

const MILLISECONDS_FROM = 1e11;

const TEXT_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$/i;

/** Absent (undefined, null, "") gives undefined; a value that is not a time throws invalid_payload. */
export function toIsoUtc(value: unknown): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const millis = toMillis(value);
  if (millis === undefined) throw garbage(value);
  const date = new Date(millis);
  // Years past 9999 (or before 0) have no plain ISO-8601 form.
  if (Number.isNaN(date.getTime()) || date.getUTCFullYear() > 9999 || date.getUTCFullYear() < 0) {
    throw garbage(value);
  }
  return date.toISOString();
}

/** Like toIsoUtc, for a time the event cannot do without; `field` names it in the error. */
export function requireIsoUtc(value: unknown, field: string): string {
  const iso = toIsoUtc(value);
  if (iso === undefined) throw new CollectorError("invalid_payload", `${field} is required`);
  return iso;
}

function toMillis(value: unknown): number | undefined {
  if (typeof value === "number") return fromEpoch(value);
  if (value instanceof Date) return value.getTime();
  if (typeof value !== "string") return undefined;
  const text = value.trim();
  if (/^\d{1,16}(\.\d+)?$/.test(text)) return fromEpoch(Number(text));
  return fromText(text);
}

function fromEpoch(n: number): number | undefined {
  if (!Number.isFinite(n) || n < 0) return undefined;
  return n >= MILLISECONDS_FROM ? Math.trunc(n) : Math.trunc(n * 1000);
}

function fromText(text: string): number | undefined {
  const m = TEXT_TIME.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map((part) => Number(part ?? 0));
  const millis = Number(((m[7] ?? "") + "000").slice(0, 3));
  if (month! < 1 || month! > 12 || day! < 1 || day! > 31 || hour > 23 || minute > 59 || second > 59) {
    return undefined;
  }
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0..99 to 1900..1999, and Alertmanager sends year 1.
  date.setUTCFullYear(year!, month! - 1, day!);
  if (date.getUTCMonth() !== month! - 1) return undefined; // 2021-02-30 rolled over into March
  date.setUTCHours(hour, minute, second, millis);
  const offset = offsetMinutes(m[8]);
  return offset === undefined ? undefined : date.getTime() - offset * 60_000;
}

function offsetMinutes(zone: string | undefined): number | undefined {
  if (!zone || /^(z|utc|gmt)$/i.test(zone)) return 0;
  const digits = zone.slice(1).replace(":", "");
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2) || 0);
  if (hours > 23 || minutes > 59) return undefined;
  return (zone.startsWith("-") ? -1 : 1) * (hours * 60 + minutes);
}

function garbage(value: unknown): CollectorError {
  const shown = typeof value === "string" ? JSON.stringify(value.slice(0, 40)) : typeof value;
  return new CollectorError("invalid_payload", `not a timestamp: ${shown}`);
}
