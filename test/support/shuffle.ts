/** The seed of a test's shuffles: SLUICE_SEED when set, so a failure can be replayed, else the test's own. */
export const seedFrom = (fallback: number) => Number(process.env.SLUICE_SEED ?? fallback);

/** A deterministic shuffle (Fisher-Yates over mulberry32): the same seed gives the same order. */
export function shuffle<T>(items: T[], seed: number): T[] {
  let state = seed;
  const random = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
