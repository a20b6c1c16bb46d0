/** "2h 5m", "3d 4h", "45s": durations as people read them in a rule's sentence. */
export function formatDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.round(totalSeconds));
  if (seconds < 60) return `${seconds}s`;
  const units: Array<[string, number]> = [
    ["d", 86_400],
    ["h", 3_600],
    ["m", 60],
    ["s", 1],
  ];
  const parts: string[] = [];
  let rest = seconds;
  for (const [name, size] of units) {
    const count = Math.floor(rest / size);
    if (count > 0) parts.push(`${count}${name}`);
    rest -= count * size;
  }
  // Two units are precise enough for a sentence: "3d 4h", not "3d 4h 12m 9s".
  return parts.slice(0, 2).join(" ");
}

const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** "15m", "1h30m", "90s", "2d" or plain seconds ("900"); null when unreadable. */
export function parseDuration(text: string): number | null {
  const value = text.trim().toLowerCase();
  if (/^\d+$/.test(value)) return Number(value);
  const match = value.match(DURATION);
  if (!match || value === "") return null;
  const [, d, h, m, s] = match;
  return Number(d ?? 0) * 86_400 + Number(h ?? 0) * 3_600 + Number(m ?? 0) * 60 + Number(s ?? 0);
}

export const formatPercent = (rate: number) => `${Number((rate * 100).toFixed(1))}%`;

/** A number for a sentence: no float noise ("0.30000000000000004" reads as "0.3"). */
export const formatNumber = (value: number) => String(Number(value.toPrecision(6)));
