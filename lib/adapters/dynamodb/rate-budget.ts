import { type DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { TransientError } from '#lib/domain/errors.ts';
import { type Clock, systemClock } from '#lib/ports/clock.ts';
import {
  type AcquireOptions,
  type RateBudget,
  SlotTooLateError,
  slotsPerReservation,
} from '#lib/ports/rate-budget.ts';
import { isConditionFailed, keys, toItem } from './records.ts';

export { slotsPerReservation } from '#lib/ports/rate-budget.ts';

const MAX_ROUNDS = 25;
/**
 * A slot is spent without reading the item again only when this instance saw the stored hold this
 * recently (the answer of the write that reserved it, or of the last check).
 */
const HOLD_FRESH_MS = 20;

/**
 * Consistent reads of the stored hold per granted slot when slots come `1000 / ratePerSecond` ms
 * apart: a slot is spent after the sleep towards it, by when the hold any earlier answer showed
 * (the reserving write's included) is older than HOLD_FRESH_MS, so every slot reads it unless slots
 * come closer than that. Prices a run at Autopilot's 5/s (bench/lib/cost.ts): a local run at a high
 * budget makes fewer reads per request than the same run at 5/s.
 */
export const holdReadsPerSlot = (ratePerSecond: number): number =>
  Math.min(1, 1000 / ratePerSecond / HOLD_FRESH_MS);

/** One granted slot: when it starts and how long the caller waited in acquire (for metrics). */
export interface RateGrant {
  connectionId: string;
  slotAt: number;
  waitMs: number;
}

export interface DynamoDbRateBudgetOptions {
  client: DynamoDBClient;
  tableName: string;
  clock?: Clock;
  /** Called once per acquire, when its slot is granted (after the wait and the hold check). */
  onGrant?: (grant: RateGrant) => void;
}

type ItemState = { tat?: number; held?: number };

/**
 * A GCRA budget shared through one item per connection (`CONN#<id>` / `RATE`): `tat`, the
 * theoretical arrival time of the next free slot, and `held`, the end of the latest 429 back-off
 * (epoch ms). One conditional UpdateItem reserves `slotsPerReservation` consecutive slots:
 * - busy (`tat >= now`): `tat = tat + span`; the block starts at the old `tat`;
 * - idle (no `tat`, or `tat < now`): `tat = now + span`; the block starts now.
 * The losing guess fails its condition and the other is tried; the last `tat` seen locally picks
 * which goes first. Blocks never overlap, so all senders together stay within the budget, up to
 * the clock skew between their hosts.
 *
 * This instance hands its reserved slots out one per acquire (its acquirers make one reservation
 * at a time and share it). A slot is spent at its time, or up to one interval late when every
 * acquirer was busy; older ones, and those left when the work runs out, are lost (see the port).
 * Before a slot is spent the stored `held` is read (consistent GetItem), unless this instance saw
 * it in the last HOLD_FRESH_MS: a slot that a back-off by any sender now covers is void, so no
 * sender spends a pre-429 reservation inside the hold.
 */
export class DynamoDbRateBudget implements RateBudget {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly clock: Clock;
  private readonly onGrant: ((grant: RateGrant) => void) | undefined;
  private readonly lastTat = new Map<string, number>();
  /** The latest hold this instance knows of, and when it last saw the stored one. */
  private readonly held = new Map<string, number>();
  private readonly heldSeenAt = new Map<string, number>();
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

  async acquire(connectionId: string, ratePerSecond: number, options: AcquireOptions = {}): Promise<void> {
    if (!(ratePerSecond > 0)) throw new RangeError(`ratePerSecond must be positive, got ${ratePerSecond}`);
    const startedAt = this.clock.now();
    for (;;) {
      const slot = await this.nextSlot(connectionId, ratePerSecond, options.ahead ?? 0);
      if (options.notAfter !== undefined && slot > options.notAfter) {
        // Kept for this instance's other senders (a later deadline may still use it), never slept on.
        this.giveBack(connectionId, slot);
        throw new SlotTooLateError(connectionId, slot);
      }
      // Measured again: the call itself took time, which counts towards the wait.
      const wait = slot - this.clock.now();
      if (wait > 0) await this.clock.sleep(wait);
      if (await this.heldOver(connectionId, slot)) continue;
      this.onGrant?.({ connectionId, slotAt: slot, waitMs: Math.max(0, this.clock.now() - startedAt) });
      return;
    }
  }

  async backOff(connectionId: string, ms: number): Promise<void> {
    const until = this.clock.now() + Math.max(0, ms);
    const key = toItem(keys.rate(connectionId));
    try {
      // `held <= tat` always, so a `tat` below `until` means the hold is shorter too.
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET tat = :until, held = :until',
          ConditionExpression: 'attribute_not_exists(tat) OR tat < :until',
          ExpressionAttributeValues: toItem({ ':until': until }),
        }),
      );
      this.lastTat.set(connectionId, until);
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      // Slots are reserved past the hold already: they stay, but those inside it are void.
      try {
        await this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression: 'SET held = :until',
            ConditionExpression: 'attribute_not_exists(held) OR held < :until',
            ExpressionAttributeValues: toItem({ ':until': until }),
          }),
        );
      } catch (inner) {
        if (!isConditionFailed(inner)) throw inner; // already held back at least as long
      }
    }
    this.seeHold(connectionId, until, false);
  }

  /** Whether a back-off now covers `slot`; voids the pooled slots it covers. */
  private async heldOver(connectionId: string, slot: number): Promise<boolean> {
    const seenAt = this.heldSeenAt.get(connectionId) ?? Number.NEGATIVE_INFINITY;
    if (slot >= this.heldUntil(connectionId) && this.clock.now() - seenAt > HOLD_FRESH_MS) {
      const out = await this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: toItem(keys.rate(connectionId)),
          ConsistentRead: true,
          ProjectionExpression: 'held',
        }),
      );
      this.seeHold(connectionId, Number(out.Item?.held?.N), true);
    }
    return slot < this.heldUntil(connectionId);
  }

  private heldUntil(connectionId: string): number {
    return this.held.get(connectionId) ?? Number.NEGATIVE_INFINITY;
  }

  private seeHold(connectionId: string, held: number, stored: boolean): void {
    if (stored) this.heldSeenAt.set(connectionId, this.clock.now());
    if (!Number.isFinite(held) || held <= this.heldUntil(connectionId)) return;
    this.held.set(connectionId, held);
    const pool = this.reserved.get(connectionId);
    if (pool !== undefined)
      this.reserved.set(
        connectionId,
        pool.filter((s) => s >= held),
      );
  }

  /**
   * A slot from this instance's reserved pool, or from a new reservation. One reservation per
   * connection is in flight at a time: acquirers that find the pool empty while one is being made
   * wait for it and share its block, instead of each reserving a block of their own, which near
   * the end of the work left whole blocks unused (budget lost to every sender) and cost writes.
   */
  private async nextSlot(connectionId: string, ratePerSecond: number, ahead: number): Promise<number> {
    const interval = 1000 / ratePerSecond;
    for (;;) {
      const slot = this.takeReserved(connectionId, interval);
      if (slot !== undefined) return slot;
      const pending = this.reserving.get(connectionId);
      if (pending === undefined) break;
      // A failed reservation is its maker's error; a waiter then tries on its own.
      await pending;
    }
    const reservation = this.reserve(connectionId, ratePerSecond, ahead);
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

  /** The earliest pooled slot still spendable: not more than one interval late. */
  private takeReserved(connectionId: string, interval: number): number | undefined {
    const slots = this.reserved.get(connectionId);
    const now = this.clock.now();
    while (slots !== undefined && slots.length > 0) {
      const slot = slots.shift() as number;
      if (slot + interval > now) return slot;
    }
    return undefined;
  }

  /** Reserves the next `k` slots in one write; returns the first and keeps the rest. */
  private async reserve(connectionId: string, ratePerSecond: number, ahead: number): Promise<number> {
    const interval = 1000 / ratePerSecond;
    const k = slotsPerReservation(ratePerSecond, ahead);
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

  /** Reserves `span` ms of slots after the queue; returns where they start, or undefined when idle. */
  private async takeBusy(connectionId: string, span: number, now: number): Promise<number | undefined> {
    const state = await this.update(connectionId, {
      UpdateExpression: 'SET tat = tat + :i',
      ConditionExpression: 'tat >= :now',
      ExpressionAttributeValues: toItem({ ':i': span, ':now': now }),
    });
    if (state === undefined) return undefined;
    const tat = state.tat;
    if (tat === undefined) throw new Error(`Rate budget item of ${connectionId} has no numeric tat`);
    this.lastTat.set(connectionId, tat);
    return tat - span;
  }

  /** Reserves `span` ms of slots starting now; undefined when the budget is busy. */
  private async takeIdle(connectionId: string, span: number, now: number): Promise<number | undefined> {
    const state = await this.update(connectionId, {
      UpdateExpression: 'SET tat = :next',
      ConditionExpression: 'attribute_not_exists(tat) OR tat < :now',
      ExpressionAttributeValues: toItem({ ':next': now + span, ':now': now }),
    });
    if (state === undefined) return undefined;
    this.lastTat.set(connectionId, now + span);
    return now;
  }

  /** One conditional write of the item; its new state (noting the hold), or undefined when refused. */
  private async update(
    connectionId: string,
    input: Pick<
      ConstructorParameters<typeof UpdateItemCommand>[0],
      'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeValues'
    >,
  ): Promise<ItemState | undefined> {
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: toItem(keys.rate(connectionId)),
          ...input,
          ReturnValues: 'ALL_NEW',
        }),
      );
      const tat = Number(out.Attributes?.tat?.N);
      this.seeHold(connectionId, Number(out.Attributes?.held?.N), true);
      return Number.isFinite(tat) ? { tat } : {};
    } catch (error) {
      if (isConditionFailed(error)) return undefined;
      throw error;
    }
  }
}
