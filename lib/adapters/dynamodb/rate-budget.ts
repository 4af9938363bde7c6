import { type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { TransientError } from '#lib/domain/errors.ts';
import { type Clock, systemClock } from '#lib/ports/clock.ts';
import { type RateBudget, SlotTooLateError } from '#lib/ports/rate-budget.ts';
import { isConditionFailed, keys, toItem } from './records.ts';

const MAX_ROUNDS = 25;

/**
 * Slots reserved per conditional write: one at Autopilot-like rates (5/s), more when the budget is
 * high enough that one write per request would itself be the bottleneck (~50 ms worth of slots).
 */
export const slotsPerReservation = (ratePerSecond: number): number =>
  Math.max(1, Math.min(20, Math.floor(ratePerSecond * 0.05)));

/** One granted slot: when it starts and how long the caller waited for it (for metrics). */
export interface RateGrant {
  connectionId: string;
  slotAt: number;
  waitMs: number;
}

export interface DynamoDbRateBudgetOptions {
  client: DynamoDBClient;
  tableName: string;
  clock?: Clock;
  /** Called once per acquire, before the wait, with the slot the budget granted. */
  onGrant?: (grant: RateGrant) => void;
}

/**
 * A GCRA budget shared through one item per connection (`CONN#<id>` / `RATE`, attribute `tat`: the
 * theoretical arrival time of the next free slot, epoch ms). Each acquire is one conditional
 * UpdateItem and no read:
 * - busy (`tat >= now`): `tat = tat + interval`; the slot starts at the new `tat - interval`;
 * - idle (no `tat`, or `tat < now`): `tat = now + interval`; the slot starts now.
 * The losing guess fails its condition and the other is tried; the last `tat` seen locally picks
 * which goes first, so a steady sender makes one call per slot. Slots never overlap, so all senders
 * together stay within the budget, up to the clock skew between their hosts.
 *
 * At high rates one write reserves several consecutive slots (`slotsPerReservation`, ~50 ms of
 * budget) and this instance hands them out one per acquire; its acquirers make one reservation at a
 * time and share it. A sender slower than the interval may
 * use its reserved slots late, by at most one reservation's span (so requests in any window exceed
 * the budget by at most ~50 ms worth); older ones are dropped. At 5 requests/s a reservation is a
 * single slot and none of this applies.
 */
export class DynamoDbRateBudget implements RateBudget {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly clock: Clock;
  private readonly onGrant: ((grant: RateGrant) => void) | undefined;
  private readonly lastTat = new Map<string, number>();
  /** Slots this instance reserved and has not handed out yet, per connection (ascending). */
  private readonly reserved = new Map<string, number[]>();
  /** The reservation this instance is making per connection, if any (settles, never rejects). */
  private readonly reserving = new Map<string, Promise<undefined>>();

  constructor(options: DynamoDbRateBudgetOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.clock = options.clock ?? systemClock;
    this.onGrant = options.onGrant;
  }

  async acquire(
    connectionId: string,
    ratePerSecond: number,
    options: { notAfter?: number } = {},
  ): Promise<void> {
    if (!(ratePerSecond > 0)) throw new RangeError(`ratePerSecond must be positive, got ${ratePerSecond}`);
    const slot = await this.nextSlot(connectionId, ratePerSecond);
    if (options.notAfter !== undefined && slot > options.notAfter) {
      // Kept for this instance's other senders (a later deadline may still use it), never slept on.
      this.giveBack(connectionId, slot);
      throw new SlotTooLateError(connectionId, slot);
    }
    // Measured again: the call itself took time, which counts towards the wait.
    const wait = slot - this.clock.now();
    this.onGrant?.({ connectionId, slotAt: slot, waitMs: Math.max(0, wait) });
    if (wait > 0) await this.clock.sleep(wait);
  }

  /**
   * A slot from this instance's reserved pool, or from a new reservation. One reservation per
   * connection is in flight at a time: acquirers that find the pool empty while one is being made
   * wait for it and share its block, instead of each reserving a block of their own, which near
   * the end of the work left whole blocks unused (budget lost to every sender) and cost writes.
   */
  private async nextSlot(connectionId: string, ratePerSecond: number): Promise<number> {
    const interval = 1000 / ratePerSecond;
    for (;;) {
      const slot = this.takeReserved(connectionId, interval);
      if (slot !== undefined) return slot;
      const pending = this.reserving.get(connectionId);
      if (pending === undefined) break;
      // A failed reservation is its maker's error; a waiter then tries on its own.
      await pending;
    }
    const reservation = this.reserve(connectionId, ratePerSecond);
    const settled: Promise<undefined> = reservation
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        if (this.reserving.get(connectionId) === settled) this.reserving.delete(connectionId);
      });
    this.reserving.set(connectionId, settled);
    return reservation;
  }

  private giveBack(connectionId: string, slot: number): void {
    const pool = this.reserved.get(connectionId) ?? [];
    pool.push(slot);
    pool.sort((a, b) => a - b);
    this.reserved.set(connectionId, pool);
  }

  private takeReserved(connectionId: string, maxLateness: number): number | undefined {
    const slots = this.reserved.get(connectionId);
    const now = this.clock.now();
    while (slots !== undefined && slots.length > 0) {
      const slot = slots.shift() as number;
      if (slot >= now - maxLateness) return slot;
    }
    return undefined;
  }

  /** Reserves the next `k` slots in one write; returns the first and keeps the rest. */
  private async reserve(connectionId: string, ratePerSecond: number): Promise<number> {
    const interval = 1000 / ratePerSecond;
    const k = slotsPerReservation(ratePerSecond);
    const span = interval * k;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const now = this.clock.now();
      const busyFirst = (this.lastTat.get(connectionId) ?? Number.NEGATIVE_INFINITY) >= now;
      const first = busyFirst
        ? ((await this.takeBusy(connectionId, span, now)) ?? (await this.takeIdle(connectionId, span, now)))
        : ((await this.takeIdle(connectionId, span, now)) ?? (await this.takeBusy(connectionId, span, now)));
      if (first === undefined) continue; // the budget flipped between busy and idle under us
      // Concurrent acquirers of this instance may have reserved blocks too: merge, never replace.
      const pool = this.reserved.get(connectionId) ?? [];
      for (let i = 1; i < k; i++) pool.push(first + i * interval);
      pool.sort((a, b) => a - b);
      this.reserved.set(connectionId, pool);
      return first;
    }
    throw new TransientError(`Rate budget of connection ${connectionId} is too contended`);
  }

  async backOff(connectionId: string, ms: number): Promise<void> {
    const until = this.clock.now() + Math.max(0, ms);
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: toItem(keys.rate(connectionId)),
          UpdateExpression: 'SET tat = :until',
          ConditionExpression: 'attribute_not_exists(tat) OR tat < :until',
          ExpressionAttributeValues: toItem({ ':until': until }),
        }),
      );
      this.lastTat.set(connectionId, until);
      // Slots reserved before the back-off are given up: every sender waits out the 429.
      this.reserved.delete(connectionId);
    } catch (error) {
      if (!isConditionFailed(error)) throw error; // already held back at least as long
    }
  }

  /** Reserves `span` ms of slots after the queue; returns where they start, or undefined when idle. */
  private async takeBusy(connectionId: string, span: number, now: number): Promise<number | undefined> {
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: toItem(keys.rate(connectionId)),
          UpdateExpression: 'SET tat = tat + :i',
          ConditionExpression: 'tat >= :now',
          ExpressionAttributeValues: toItem({ ':i': span, ':now': now }),
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      const tat = Number(out.Attributes?.tat?.N);
      if (!Number.isFinite(tat)) throw new Error(`Rate budget item of ${connectionId} has no numeric tat`);
      this.lastTat.set(connectionId, tat);
      return tat - span;
    } catch (error) {
      if (isConditionFailed(error)) return undefined;
      throw error;
    }
  }

  /** Reserves `span` ms of slots starting now; undefined when the budget is busy. */
  private async takeIdle(connectionId: string, span: number, now: number): Promise<number | undefined> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: toItem(keys.rate(connectionId)),
          UpdateExpression: 'SET tat = :next',
          ConditionExpression: 'attribute_not_exists(tat) OR tat < :now',
          ExpressionAttributeValues: toItem({ ':next': now + span, ':now': now }),
        }),
      );
      this.lastTat.set(connectionId, now + span);
      return now;
    } catch (error) {
      if (isConditionFailed(error)) return undefined;
      throw error;
    }
  }
}
