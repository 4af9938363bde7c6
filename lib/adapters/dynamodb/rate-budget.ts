import { type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { TransientError } from '#lib/domain/errors.ts';
import { type Clock, systemClock } from '#lib/ports/clock.ts';
import type { RateBudget } from '#lib/ports/rate-budget.ts';
import { isConditionFailed, keys, toItem } from './records.ts';

const MAX_ROUNDS = 25;

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
 */
export class DynamoDbRateBudget implements RateBudget {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly clock: Clock;
  private readonly onGrant: ((grant: RateGrant) => void) | undefined;
  private readonly lastTat = new Map<string, number>();

  constructor(options: DynamoDbRateBudgetOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.clock = options.clock ?? systemClock;
    this.onGrant = options.onGrant;
  }

  async acquire(connectionId: string, ratePerSecond: number): Promise<void> {
    if (!(ratePerSecond > 0)) throw new RangeError(`ratePerSecond must be positive, got ${ratePerSecond}`);
    const interval = 1000 / ratePerSecond;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const now = this.clock.now();
      const busyFirst = (this.lastTat.get(connectionId) ?? Number.NEGATIVE_INFINITY) >= now;
      const slot = busyFirst
        ? ((await this.takeBusy(connectionId, interval, now)) ??
          (await this.takeIdle(connectionId, interval, now)))
        : ((await this.takeIdle(connectionId, interval, now)) ??
          (await this.takeBusy(connectionId, interval, now)));
      if (slot === undefined) continue; // the budget flipped between busy and idle under us
      // Measured again: the call itself took time, which counts towards the wait.
      const wait = slot - this.clock.now();
      this.onGrant?.({ connectionId, slotAt: slot, waitMs: Math.max(0, wait) });
      if (wait > 0) await this.clock.sleep(wait);
      return;
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
    } catch (error) {
      if (!isConditionFailed(error)) throw error; // already held back at least as long
    }
  }

  /** Reserves the slot after the queue; undefined when the budget is idle. */
  private async takeBusy(connectionId: string, interval: number, now: number): Promise<number | undefined> {
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: toItem(keys.rate(connectionId)),
          UpdateExpression: 'SET tat = tat + :i',
          ConditionExpression: 'tat >= :now',
          ExpressionAttributeValues: toItem({ ':i': interval, ':now': now }),
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      const tat = Number(out.Attributes?.tat?.N);
      if (!Number.isFinite(tat)) throw new Error(`Rate budget item of ${connectionId} has no numeric tat`);
      this.lastTat.set(connectionId, tat);
      return tat - interval;
    } catch (error) {
      if (isConditionFailed(error)) return undefined;
      throw error;
    }
  }

  /** Takes the slot starting now; undefined when the budget is busy. */
  private async takeIdle(connectionId: string, interval: number, now: number): Promise<number | undefined> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: toItem(keys.rate(connectionId)),
          UpdateExpression: 'SET tat = :next',
          ConditionExpression: 'attribute_not_exists(tat) OR tat < :now',
          ExpressionAttributeValues: toItem({ ':next': now + interval, ':now': now }),
        }),
      );
      this.lastTat.set(connectionId, now + interval);
      return now;
    } catch (error) {
      if (isConditionFailed(error)) return undefined;
      throw error;
    }
  }
}
