/** The override form's bounds (the input's min and max): an hour to 30 days. */
export const OVERRIDE_HOURS = { min: 1, max: 720 } as const;

/**
 * When an override asked for `hours` from now ends, or null when the field is not a number
 * of hours within the form's bounds (a hand-made request may send anything, "1e20" too).
 */
export function overrideExpiry(hours: unknown, now: Date): string | null {
  const value = typeof hours === "string" && hours.trim() !== "" ? Number(hours) : Number.NaN;
  if (!Number.isFinite(value) || value < OVERRIDE_HOURS.min || value > OVERRIDE_HOURS.max) return null;
  return new Date(now.getTime() + value * 3_600_000).toISOString();
}
