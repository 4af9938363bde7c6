import { strikingRule } from '#local/fault-schedule.ts';
import { type ActiveFaults, activateFaults } from './fault-schema.ts';
import type { FaultKind, FaultOptions, FaultPhase } from './types.ts';

/** A fault that struck one request. */
export interface FaultStrike {
  /** As counted in faultCounts(), e.g. 'error 503 after'. */
  name: string;
  kind: FaultKind;
  phase: FaultPhase;
  /** For kind 'error'. */
  status: number;
  retryAfter?: string;
  /** For kind 'hang'. */
  hangMs: number;
}

/** What the fault set does to one request, decided before it reaches its route. */
export interface FaultDecision {
  strike?: FaultStrike;
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
 * Applies a fault set. Everything restarts whenever a set is (re)applied — the PRNG (re-seeded),
 * request ordinals, strike counts and the clock of windows — so the same seed, fault set and
 * request sequence always give the same outcomes. Rules are checked in order (see activateFaults)
 * and the first that strikes wins; a die is only rolled for a rule with a rate that applies to the
 * request.
 */
export class FaultInjector {
  private active: ActiveFaults | undefined;
  private appliedAt = 0;
  private random: () => number;
  private seen: number[] = [];
  private struck: number[] = [];
  private readonly requestsByAccount = new Map<string, number>();

  constructor(private readonly seed: number) {
    this.random = createPrng(seed);
  }

  /** Throws a TypeError naming the field for an invalid set. `nowMs` is a monotonic clock reading. */
  apply(faults: FaultOptions | undefined, nowMs: number): void {
    this.active = faults === undefined ? undefined : activateFaults(faults);
    this.appliedAt = nowMs;
    this.random = createPrng(this.seed);
    this.seen = this.active?.rules.map(() => 0) ?? [];
    this.struck = this.active?.rules.map(() => 0) ?? [];
    this.requestsByAccount.clear();
  }

  decide(route: string, nowMs: number): FaultDecision {
    const active = this.active;
    if (active === undefined) return {};
    const since = nowMs - this.appliedAt;
    let strike: FaultStrike | undefined;
    const i = strikingRule(
      active.rules,
      { route, sinceMs: since },
      { seen: this.seen, struck: this.struck },
      this.random,
    );
    const rule = i === undefined ? undefined : active.rules[i];
    if (rule !== undefined) {
      strike = {
        name: rule.name,
        kind: rule.kind,
        phase: rule.phase,
        status: rule.status,
        hangMs: rule.hangMs,
        ...(rule.retryAfter === undefined ? {} : { retryAfter: rule.retryAfter }),
      };
    }
    const decision: FaultDecision = strike === undefined ? {} : { strike };
    if (active.latencyMs !== undefined && strike?.phase !== 'before') {
      const { min, max } = active.latencyMs;
      decision.latencyMs = min + this.random() * (max - min);
    }
    return decision;
  }

  /** Whether the fault set's `revokeKeys` turns this account's key invalid now; counts its requests. */
  revokes(account: string, nowMs: number): boolean {
    const revoke = this.active?.revokeKeys;
    if (revoke === undefined) return false;
    if (revoke.afterMs !== undefined && nowMs - this.appliedAt >= revoke.afterMs) return true;
    if (revoke.afterRequests === undefined) return false;
    const n = (this.requestsByAccount.get(account) ?? 0) + 1;
    this.requestsByAccount.set(account, n);
    return n > revoke.afterRequests;
  }

  /** Whether Autopilot refuses this contact for good (`rejectContacts`). */
  rejects(email: string): boolean {
    const patterns = this.active?.rejectContacts ?? [];
    if (patterns.length === 0) return false;
    const e = email.toLowerCase();
    return patterns.some((p) => (p.startsWith('@') || p.startsWith('.') ? e.endsWith(p) : e === p));
  }
}
