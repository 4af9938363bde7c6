import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbRateBudget, slotsPerReservation } from '#lib/adapters/dynamodb/rate-budget.ts';

const T0 = 1_700_000_000_000;

/**
 * The rate item's two conditional updates, answered after a network-like delay so that concurrent
 * acquirers of one instance overlap deterministically (DynamoDB Local's timing varies with load).
 */
const slowRateTable = (latenciesMs: number[]) => {
  let tat: number | undefined;
  let writes = 0;
  let calls = 0;
  const client = {
    send: async (command: unknown) => {
      const latency = latenciesMs[calls++ % latenciesMs.length];
      await new Promise((resolve) => setTimeout(resolve, latency));
      if (!(command instanceof UpdateItemCommand)) throw new Error('only UpdateItem is expected');
      const values = command.input.ExpressionAttributeValues ?? {};
      const now = Number(values[':now']?.N);
      if (command.input.UpdateExpression === 'SET tat = tat + :i') {
        if (tat === undefined || !(tat >= now)) throw conditionFailed();
        tat += Number(values[':i']?.N);
        writes++;
        return { Attributes: { tat: { N: String(tat) } } };
      }
      if (tat !== undefined && !(tat < now)) throw conditionFailed();
      tat = Number(values[':next']?.N);
      writes++;
      return {};
    },
  } as unknown as DynamoDBClient;
  return { client, writes: () => writes };
};

const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

describe('DynamoDbRateBudget reservations within one instance', () => {
  it('concurrent acquirers share one reservation in flight instead of each reserving a block', async () => {
    const rate = 200;
    const k = slotsPerReservation(rate);
    const table = slowRateTable([3, 1, 2, 5, 1, 4]);
    const slots: number[] = [];
    const budget = new DynamoDbRateBudget({
      client: table.client,
      tableName: 'state',
      // Time stands still: no slot is ever late, so every gap between granted slots is a lost slot.
      clock: { now: () => T0, sleep: () => Promise.resolve() },
      onGrant: (g) => slots.push(g.slotAt),
    });

    // Four senders with unequal work, as a sender's batches are: they run out at different times.
    const work = [61, 59, 60, 17];
    const total = work.reduce((a, b) => a + b, 0);
    await Promise.all(
      work.map(async (n) => {
        for (let i = 0; i < n; i++) await budget.acquire('conn', rate);
      }),
    );

    const sorted = slots.sort((a, b) => a - b);
    expect(new Set(sorted).size).toBe(total);
    // Reserved one block of k at a time: the slots take exactly ceil(total / k) writes, and the
    // slots reserved after the last one granted (never used, lost to every sender) are fewer than k.
    expect(table.writes()).toBe(Math.ceil(total / k));
    const reservedThrough = ((sorted.at(-1) ?? T0) - T0) / (1000 / rate) + 1;
    expect(reservedThrough).toBe(total);
  });
});
