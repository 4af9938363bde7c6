import type { Clock } from '#lib/ports/clock.ts';
import {
  type AcquireOptions,
  type RateBudget,
  SlotTooLateError,
  slotsPerReservation,
} from '#lib/ports/rate-budget.ts';

/**
 * The DynamoDB budget (lib/adapters/dynamodb/README.md) on Maps, as one sender instance sees it:
 * one shared `tat` per connection, taken `slotsPerReservation` slots at a time (each counted in
 * `reservations`, the adapter's writes), the slots handed out one per acquire. Busy (`tat >= now`):
 * the block starts at the old `tat`; idle: now. A reserved slot more than one interval late is lost.
 * A 429 pushes `tat` to at least `now + ms` and holds back every slot before it, reserved or not.
 * Time comes from the injected clock, so a `FakeClock` makes slot times exact.
 */
export class InMemoryRateBudget implements RateBudget {
  private readonly tat: Map<string, number>;
  private readonly heldUntil: Map<string, number>;
  private readonly reserved: Map<string, number[]>;
  /** When each granted slot started, per connection, in the order granted (for assertions). */
  readonly grants: Map<string, number[]>;
  /** Reservations made per connection: what the DynamoDB adapter pays one write for. */
  readonly reservations: Map<string, number>;

  constructor(
    private readonly clock: Clock,
    shared?: InMemoryRateBudget,
  ) {
    this.tat = shared?.tat ?? new Map();
    this.heldUntil = shared?.heldUntil ?? new Map();
    this.reserved = shared?.reserved ?? new Map();
    this.grants = shared?.grants ?? new Map();
    this.reservations = shared?.reservations ?? new Map();
  }

  /** The same budget (same slots and pool) seen through another clock, e.g. one that acts on sleep. */
  withClock(clock: Clock): InMemoryRateBudget {
    return new InMemoryRateBudget(clock, this);
  }

  async acquire(connectionId: string, ratePerSecond: number, options: AcquireOptions = {}): Promise<void> {
    if (!(ratePerSecond > 0)) throw new RangeError(`ratePerSecond must be positive, got ${ratePerSecond}`);
    const interval = 1000 / ratePerSecond;
    for (;;) {
      const now = this.clock.now();
      const pool = this.reserved.get(connectionId) ?? [];
      this.reserved.set(connectionId, pool);
      while (pool.length > 0 && (pool[0] as number) + interval <= now) pool.shift();
      const slot = pool.shift() ?? this.reserve(connectionId, ratePerSecond, now, pool, options.ahead ?? 0);
      if (options.notAfter !== undefined && slot > options.notAfter) {
        pool.unshift(slot);
        throw new SlotTooLateError(connectionId, slot);
      }
      if (slot > now) await this.clock.sleep(slot - now);
      // A back-off stored while this acquirer waited voids the slot: every sender waits out the 429.
      if (slot < (this.heldUntil.get(connectionId) ?? Number.NEGATIVE_INFINITY)) continue;
      const list = this.grants.get(connectionId) ?? [];
      list.push(slot);
      this.grants.set(connectionId, list);
      return;
    }
  }

  /** Takes the next block of slots off the shared timeline; returns the first, pools the rest. */
  private reserve(
    connectionId: string,
    ratePerSecond: number,
    now: number,
    pool: number[],
    ahead: number,
  ): number {
    const interval = 1000 / ratePerSecond;
    const k = slotsPerReservation(ratePerSecond, ahead);
    const tat = this.tat.get(connectionId);
    const start = tat !== undefined && tat >= now ? tat : now;
    this.tat.set(connectionId, start + k * interval);
    this.reservations.set(connectionId, (this.reservations.get(connectionId) ?? 0) + 1);
    for (let i = 1; i < k; i++) pool.push(start + i * interval);
    return start;
  }

  async backOff(connectionId: string, ms: number): Promise<void> {
    const until = this.clock.now() + Math.max(0, ms);
    const tat = this.tat.get(connectionId);
    if (tat === undefined || tat < until) this.tat.set(connectionId, until);
    if (until > (this.heldUntil.get(connectionId) ?? Number.NEGATIVE_INFINITY)) {
      this.heldUntil.set(connectionId, until);
    }
    const pool = this.reserved.get(connectionId) ?? [];
    this.reserved.set(
      connectionId,
      pool.filter((slot) => slot >= until),
    );
  }
}
