import { describe, expect, it } from 'vitest';
import type { Clock } from '#lib/ports/clock.ts';
import { type RateBudget, SlotTooLateError, slotsPerReservation } from '#lib/ports/rate-budget.ts';
import type { FakeClock } from '#test/fakes/fake-clock.ts';
import { uid } from './helpers.ts';

/** One budget implementation as the contract drives it: every sender on one fake timeline. */
export interface RateBudgetWorld {
  clock: FakeClock;
  /**
   * The budget one sender uses: its own instance where the implementation shares state between
   * instances (separate Lambda environments), the one shared object otherwise. `clock` defaults to
   * the world's; a wrapper lets a test act at the moment a sender goes to sleep.
   */
  sender(clock?: Clock): RateBudget;
  /** Every slot granted so far on `connectionId` (any sender), in the order granted. */
  granted(connectionId: string): number[];
  /** Shared-state writes made so far (what a reservation costs), failed conditional ones included. */
  writes(): number;
}

/** The most of `times` that fall in any window [t, t + ms). */
export const busiestWindow = (times: readonly number[], ms: number): number => {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let end = 0;
  for (let start = 0; start < sorted.length; start++) {
    while (end < sorted.length && (sorted[end] ?? 0) < (sorted[start] ?? 0) + ms) end++;
    best = Math.max(best, end - start);
  }
  return best;
};

/** A clock that runs `hook` (once) when a sleep is asked for, before sleeping on `clock`. */
const onFirstSleep = (clock: FakeClock, hook: () => Promise<void>): Clock => {
  let done = false;
  return {
    now: () => clock.now(),
    sleep: async (ms) => {
      if (!done) {
        done = true;
        await hook();
      }
      return clock.sleep(ms);
    },
  };
};

export const describeRateBudgetContract = (name: string, makeWorld: () => RateBudgetWorld): void => {
  describe(`${name}: rate budget with reservations`, () => {
    const rate = 5;
    const interval = 1000 / rate;
    const k = slotsPerReservation(rate);

    it('reserves 4 slots per write at 5 requests/s', () => {
      expect(k).toBe(4);
    });

    it('concurrent senders with reservations never exceed the rate over any 1 s window', async () => {
      const world = makeWorld();
      const connectionId = uid('conn');
      const senders = [world.sender(), world.sender(), world.sender()];
      // Two batches at a time per sender, as a sender works its SQS records in parallel.
      await Promise.all(
        senders.flatMap((budget, s) =>
          [0, 1].map(async (b) => {
            for (let i = 0; i < 5 + s + b; i++) await budget.acquire(connectionId, rate);
          }),
        ),
      );

      const slots = world.granted(connectionId);
      expect(slots).toHaveLength(2 * (5 + 6 + 7) + 3);
      expect(new Set(slots).size).toBe(slots.length);
      expect(busiestWindow(slots, 1_000)).toBeLessThanOrEqual(rate);
      for (const slot of slots) expect((slot - (slots[0] ?? 0)) % interval).toBe(0);
    });

    it('a steady sender pays one write per reserved block, at most 1/k per acquire', async () => {
      const world = makeWorld();
      const connectionId = uid('conn');
      const budget = world.sender();
      const before = world.writes();
      for (let i = 0; i < 40; i++) await budget.acquire(connectionId, rate);

      expect(world.writes() - before).toBe(40 / k);
      // No slot lost between the blocks: 40 slots one interval apart.
      const slots = world.granted(connectionId);
      expect((slots.at(-1) ?? 0) - (slots[0] ?? 0)).toBe(39 * interval);
    });

    it('a caller with work ahead reserves up to 4 s of slots per write, and spends every one', async () => {
      const world = makeWorld();
      const connectionId = uid('conn');
      const budget = world.sender();
      const before = world.writes();
      // A 60-request batch: each acquire says how many follow it.
      for (let i = 0; i < 60; i++) await budget.acquire(connectionId, rate, { ahead: 59 - i });

      expect(slotsPerReservation(rate, 59)).toBe(20);
      expect(world.writes() - before).toBe(3);
      const slots = world.granted(connectionId);
      expect(slots).toHaveLength(60);
      expect((slots.at(-1) ?? 0) - (slots[0] ?? 0)).toBe(59 * interval);
      // As many as the work needs past the usual block, never fewer than the usual block.
      expect(slotsPerReservation(rate, 7)).toBe(8);
      expect(slotsPerReservation(rate, 1)).toBe(k);
    });

    it('senders with work ahead and senders without stay within the rate together', async () => {
      const world = makeWorld();
      const connectionId = uid('conn');
      const senders = [world.sender(), world.sender(), world.sender()];
      await Promise.all(
        senders.map(async (budget, s) => {
          const n = 12 + 5 * s;
          for (let i = 0; i < n; i++)
            await budget.acquire(connectionId, rate, s === 2 ? {} : { ahead: n - 1 - i });
        }),
      );

      const slots = world.granted(connectionId);
      expect(slots).toHaveLength(12 + 17 + 22);
      expect(new Set(slots).size).toBe(slots.length);
      expect(busiestWindow(slots, 1_000)).toBeLessThanOrEqual(rate);
    });

    it('a reserved slot more than one interval late is lost, not spent late', async () => {
      const world = makeWorld();
      const connectionId = uid('conn');
      const budget = world.sender();
      await budget.acquire(connectionId, rate);
      const first = world.clock.now();
      world.clock.advance(2 * interval + interval / 4); // the caller was busy

      await budget.acquire(connectionId, rate);

      expect(world.granted(connectionId)).toEqual([first, first + 2 * interval]);
      expect(world.clock.now()).toBe(first + 2 * interval + interval / 4);
    });

    it('a back-off voids the slots another sender reserved before it', async () => {
      const world = makeWorld();
      const connectionId = uid('conn');
      const holder = world.sender();
      const throttled = world.sender();
      await holder.acquire(connectionId, rate); // reserves k slots, spends the first
      const at = world.clock.now();

      await throttled.backOff(connectionId, 3_000);
      await holder.acquire(connectionId, rate);

      expect(world.granted(connectionId)).toEqual([at, at + 3_000]);
      expect(world.clock.now()).toBe(at + 3_000);
    });

    it('a back-off while a sender sleeps towards its reserved slot voids that slot', async () => {
      const world = makeWorld();
      const connectionId = uid('conn');
      const throttled = world.sender();
      let backedOffAt = Number.NaN;
      const holder = world.sender(
        onFirstSleep(world.clock, async () => {
          backedOffAt = world.clock.now();
          await throttled.backOff(connectionId, 1_000);
        }),
      );
      await holder.acquire(connectionId, rate);

      await holder.acquire(connectionId, rate); // sleeps towards the second reserved slot

      const slots = world.granted(connectionId);
      expect(slots).toHaveLength(2);
      expect(slots[1]).toBe(backedOffAt + 1_000);
      expect(world.clock.now()).toBe(backedOffAt + 1_000);
    });

    it('throws SlotTooLateError when the next reserved slot is past notAfter, and keeps it', async () => {
      const world = makeWorld();
      const connectionId = uid('conn');
      const budget = world.sender();
      await budget.acquire(connectionId, rate);
      const at = world.clock.now();
      const writes = world.writes();

      const late = budget.acquire(connectionId, rate, { notAfter: at + interval / 2 });

      await expect(late).rejects.toBeInstanceOf(SlotTooLateError);
      await expect(late).rejects.toMatchObject({ slotAt: at + interval });
      expect(world.clock.now()).toBe(at);
      expect(world.writes()).toBe(writes);
      await budget.acquire(connectionId, rate);
      expect(world.granted(connectionId)).toEqual([at, at + interval]);
    });

    it('throws SlotTooLateError when the shared timeline is busy past notAfter', async () => {
      const world = makeWorld();
      const connectionId = uid('conn');
      await world.sender().acquire(connectionId, rate);
      const at = world.clock.now();
      const other = world.sender();

      const late = other.acquire(connectionId, rate, { notAfter: at + interval / 2 });

      await expect(late).rejects.toBeInstanceOf(SlotTooLateError);
      expect(world.clock.now()).toBe(at);
      expect(world.granted(connectionId)).toEqual([at]);
    });
  });
};
