/**
 * Per-key token bucket (docs/autopilot-api.md#limits: 5 r/s per API key). A bucket starts full.
 *
 * What a request costs: every request that passes authentication and finds a token takes it,
 * whatever happens afterwards (an injected fault, a 4xx from the route, an unknown route) —
 * the real API has already counted it by then. A request answered 429 takes nothing, so a
 * client that backs off is not punished twice; requests refused by auth (400/401) never
 * reach a bucket.
 */

export interface RateSettings {
  ratePerSecond: number;
  burst: number;
}

export type Admission = { admitted: true } | { admitted: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  refilledAt: number;
}

export class TokenBucketLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly settings: () => RateSettings) {}

  /** `nowMs` is a monotonic clock reading (performance.now()). */
  take(bucketKey: string, nowMs: number): Admission {
    const { ratePerSecond, burst } = this.settings();
    let bucket = this.buckets.get(bucketKey);
    if (bucket === undefined) {
      bucket = { tokens: burst, refilledAt: nowMs };
      this.buckets.set(bucketKey, bucket);
    }
    const elapsedSeconds = Math.max(0, nowMs - bucket.refilledAt) / 1000;
    bucket.tokens = Math.min(burst, bucket.tokens + elapsedSeconds * ratePerSecond);
    bucket.refilledAt = nowMs;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { admitted: true };
    }
    const retryAfterSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / ratePerSecond));
    return { admitted: false, retryAfterSeconds };
  }

  /** Forget every bucket (they start full again). */
  reset(): void {
    this.buckets.clear();
  }
}
