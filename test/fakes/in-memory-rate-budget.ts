import { slotsPerReservation } from '#lib/adapters/dynamodb/rate-budget.ts';
import type { Clock } from '#lib/ports/clock.ts';
import { type RateBudget, SlotTooLateError } from '#lib/ports/rate-budget.ts';

/**
 * The DynamoDB budget's GCRA (lib/adapters/dynamodb/README.md) on a Map: one shared `tat` per
 * connection. Busy (`tat >= now`): the slot starts at the old `tat`, and `tat` moves on by one
 * interval. Idle: the slot starts now and `tat = now + interval`. A 429 pushes `tat` to at least
 * `now + ms`. Time comes from the injected clock, so a `FakeClock` makes slot times exact.
 */
export class InMemoryRateBudget implements RateBudget {
  private readonly tat = new Map<string, number>();
  /** When each granted slot started, per connection (for assertions). */
  readonly grants = new Map<string, number[]>();

  constructor(private readonly clock: Clock) {}

  private readonly reserved = new Map<string, number[]>();

  async acquire(
    connectionId: string,
    ratePerSecond: number,
    options: { notAfter?: number } = {},
  ): Promise<void> {
    if (!(ratePerSecond > 0)) throw new RangeError(`ratePerSecond must be positive, got ${ratePerSecond}`);
    const interval = 1000 / ratePerSecond;
    const now = this.clock.now();
    const pool = this.reserved.get(connectionId) ?? [];
    const maxLateness = interval * slotsPerReservation(ratePerSecond);
    while (pool.length > 0 && (pool[0] as number) < now - maxLateness) pool.shift();
    let slot = pool.shift();
    if (slot === undefined) {
      const k = slotsPerReservation(ratePerSecond);
      const tat = this.tat.get(connectionId);
      const start = tat !== undefined && tat >= now ? tat : now;
      this.tat.set(connectionId, start + k * interval);
      slot = start;
      this.reserved.set(
        connectionId,
        Array.from({ length: k - 1 }, (_, i) => start + (i + 1) * interval),
      );
    }
    if (options.notAfter !== undefined && slot > options.notAfter) {
      const back = this.reserved.get(connectionId) ?? [];
      back.unshift(slot);
      this.reserved.set(connectionId, back);
      throw new SlotTooLateError(connectionId, slot);
    }
    const list = this.grants.get(connectionId) ?? [];
    list.push(slot);
    this.grants.set(connectionId, list);
    if (slot > now) await this.clock.sleep(slot - now);
  }

  async backOff(connectionId: string, ms: number): Promise<void> {
    const until = this.clock.now() + Math.max(0, ms);
    const tat = this.tat.get(connectionId);
    if (tat === undefined || tat < until) this.tat.set(connectionId, until);
    this.reserved.delete(connectionId);
  }
}
