/**
 * Token buckets per key (a token, an integration), in memory: each replica limits on its
 * own, so N replicas admit up to N times the rate. A bucket holds a minute's allowance and
 * refills continuously, which allows bursts (a CI fan-out) without a sustained flood.
 */
export interface RateLimiter {
  /** null when allowed; otherwise the seconds to wait before the next request is. */
  take(key: string, now?: number): number | null;
}

export function createRateLimiter(perMinute: number): RateLimiter {
  if (perMinute <= 0) return { take: () => null };
  const perMs = perMinute / 60_000;
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(key, now = Date.now()) {
      const bucket = buckets.get(key) ?? { tokens: perMinute, at: now };
      bucket.tokens = Math.min(perMinute, bucket.tokens + (now - bucket.at) * perMs);
      bucket.at = now;
      buckets.set(key, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return null;
      }
      return Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
    },
  };
}
