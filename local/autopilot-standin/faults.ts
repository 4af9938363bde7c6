import * as z from 'zod';
import type { FaultOptions } from './types.ts';

const probability = z.number().min(0).max(1);
const httpStatus = z.number().int().min(100).max(599);

export const FaultOptionsSchema = z
  .object({
    errorRates: z
      .array(z.object({ status: httpStatus, rate: probability, routes: z.array(z.string()).optional() }))
      .optional(),
    latencyMs: z
      .object({ min: z.number().min(0), max: z.number().min(0) })
      .refine((l) => l.min <= l.max, 'latencyMs.min must not exceed latencyMs.max')
      .optional(),
    outages: z
      .array(
        z
          .object({ fromMs: z.number().min(0), toMs: z.number().min(0), status: httpStatus.optional() })
          .refine((o) => o.fromMs <= o.toMs, 'an outage must not end before it starts'),
      )
      .optional(),
    resetRate: probability.optional(),
    hangRate: probability.optional(),
    hangMs: z.number().min(0).optional(),
  })
  .strict();

/** What the fault set does to one request, decided before it reaches its route. */
export interface FaultDecision {
  /** Answer with this status and the standard error body instead of routing. */
  errorStatus?: number;
  /** Destroy the socket without answering. */
  reset?: boolean;
  /** Route the request at once (the write happens), but hold the response this long. */
  hangMs?: number;
  /** Wait this long before routing. */
  latencyMs?: number;
}

/** mulberry32: small, fast and good enough for fault dice; same seed, same sequence. */
export function createPrng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Applies a FaultOptions set. The PRNG is re-seeded whenever the set is (re)applied, so the same
 * seed, fault set and request sequence always give the same outcomes. Checks run in a fixed
 * order — outage, error rates, reset, hang, latency — and a die is only rolled for a fault that
 * is configured and applies to the route.
 */
export class FaultInjector {
  private faults: FaultOptions | undefined;
  private appliedAt = 0;
  private random: () => number;

  constructor(private readonly seed: number) {
    this.random = createPrng(seed);
  }

  /** `nowMs` is a monotonic clock reading; outage windows count from it. */
  apply(faults: FaultOptions | undefined, nowMs: number): void {
    this.faults = faults === undefined ? undefined : FaultOptionsSchema.parse(faults);
    this.appliedAt = nowMs;
    this.random = createPrng(this.seed);
  }

  decide(route: string, nowMs: number): FaultDecision {
    const faults = this.faults;
    if (faults === undefined) return {};
    const sinceApplied = nowMs - this.appliedAt;
    for (const outage of faults.outages ?? []) {
      if (sinceApplied >= outage.fromMs && sinceApplied < outage.toMs)
        return { errorStatus: outage.status ?? 503 };
    }
    for (const error of faults.errorRates ?? []) {
      if (error.routes !== undefined && !error.routes.includes(route)) continue;
      if (error.rate > 0 && this.random() < error.rate) return { errorStatus: error.status };
    }
    if ((faults.resetRate ?? 0) > 0 && this.random() < (faults.resetRate ?? 0)) return { reset: true };
    const decision: FaultDecision = {};
    if ((faults.hangRate ?? 0) > 0 && this.random() < (faults.hangRate ?? 0)) {
      decision.hangMs = faults.hangMs ?? 30_000;
    }
    if (faults.latencyMs !== undefined) {
      const { min, max } = faults.latencyMs;
      decision.latencyMs = min + this.random() * (max - min);
    }
    return decision;
  }
}
