import { createPrng } from '#local/autopilot-standin/faults.ts';
import { strikingRule } from '#local/fault-schedule.ts';
import { type ActiveFaults, activateFaults } from './fault-schema.ts';
import type { FaultKind, FaultOptions, FaultPhase } from './types.ts';

export interface FaultStrike {
  /** As counted in faultCounts(), e.g. 'error 503 after'. */
  name: string;
  kind: FaultKind;
  phase: FaultPhase;
  status: number;
  tryInSeconds: number;
  hangMs: number;
}

export interface FaultDecision {
  strike?: FaultStrike;
  latencyMs?: number;
}

/**
 * Applies a fault set. The dice (re-seeded), request ordinals, strike counts and the window clock all
 * restart when a set is applied, so the same seed, set and request sequence give the same outcomes.
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

  /** Throws a TypeError naming the field for an invalid set. */
  apply(faults: FaultOptions | undefined, nowMs: number): void {
    this.active = faults === undefined ? undefined : activateFaults(faults);
    this.appliedAt = nowMs;
    this.random = createPrng(this.seed);
    this.seen = this.active?.rules.map(() => 0) ?? [];
    this.struck = this.active?.rules.map(() => 0) ?? [];
    this.requestsByAccount.clear();
  }

  /** Rules in order; the first that strikes wins, and a die is rolled only for a rule that applies. */
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
      const { name, kind, phase, status, tryInSeconds, hangMs } = rule;
      strike = { name, kind, phase, status, tryInSeconds, hangMs };
    }
    const decision: FaultDecision = strike === undefined ? {} : { strike };
    if (active.latencyMs !== undefined && strike?.phase !== 'before') {
      const { min, max } = active.latencyMs;
      decision.latencyMs = min + this.random() * (max - min);
    }
    return decision;
  }

  /** Whether `revokeKeys` turns this account's key invalid now; counts its requests. */
  revokes(account: string, nowMs: number): boolean {
    const revoke = this.active?.revokeKeys;
    if (revoke === undefined) return false;
    if (revoke.afterMs !== undefined && nowMs - this.appliedAt >= revoke.afterMs) return true;
    if (revoke.afterRequests === undefined) return false;
    const n = (this.requestsByAccount.get(account) ?? 0) + 1;
    this.requestsByAccount.set(account, n);
    return n > revoke.afterRequests;
  }
}
