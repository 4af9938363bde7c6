import { type DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DynamoDbRateBudget,
  holdReadsPerSlot,
  slotsPerReservation,
} from '#lib/adapters/dynamodb/rate-budget.ts';
import { FakeClock } from '#test/fakes/fake-clock.ts';
import { createTables, localDynamo, uniqueName } from '#test/support/aws.ts';
import { describeRateBudgetContract } from '#test/support/contracts/rate-budget.ts';

let client: DynamoDBClient;
let tableName: string;

beforeAll(async () => {
  client = localDynamo();
  tableName = (await createTables(client)).stateTable;
});

/** The most of `times` (sorted, ms) that fall in any window [t, t + ms). */
const busiestWindow = (times: readonly number[], ms: number): number => {
  let best = 0;
  let end = 0;
  for (let start = 0; start < times.length; start++) {
    while (end < times.length && (times[end] ?? 0) < (times[start] ?? 0) + ms) end++;
    best = Math.max(best, end - start);
  }
  return best;
};

/** The shared client, counting the commands of one kind sent through it. */
const countingClient = (kind: typeof GetItemCommand | typeof UpdateItemCommand) => {
  let n = 0;
  const counted = {
    send: (command: Parameters<DynamoDBClient['send']>[0]) => {
      if (command instanceof kind) n++;
      return client.send(command);
    },
  } as unknown as DynamoDBClient;
  return { counted, count: () => n };
};

describeRateBudgetContract('DynamoDbRateBudget', () => {
  const clock = new FakeClock({ start: 1_700_000_000_000 });
  const granted = new Map<string, number[]>();
  // Counts every write the budgets make, the conditional ones refused included (they are billed).
  const { counted, count: writes } = countingClient(UpdateItemCommand);
  return {
    clock,
    // One budget object per sender, as in separate Lambda environments: only the table is shared.
    sender: (own) =>
      new DynamoDbRateBudget({
        client: counted,
        tableName,
        clock: own ?? clock,
        onGrant: (g) => granted.set(g.connectionId, [...(granted.get(g.connectionId) ?? []), g.slotAt]),
      }),
    granted: (connectionId) => granted.get(connectionId) ?? [],
    writes,
  };
});

describe('DynamoDbRateBudget', () => {
  it('concurrent senders together stay within the budget', async () => {
    const connectionId = uniqueName('conn');
    const slots: number[] = [];
    const released: { slot: number; at: number }[] = [];
    // One budget object per sender, as in separate Lambda instances: only the table is shared.
    const sender = async (): Promise<void> => {
      let granted = Number.NaN;
      const budget = new DynamoDbRateBudget({
        client,
        tableName,
        onGrant: (g) => {
          granted = g.slotAt;
          slots.push(g.slotAt);
        },
      });
      for (let i = 0; i < 20; i++) {
        await budget.acquire(connectionId, 50);
        released.push({ slot: granted, at: Date.now() });
      }
    };
    const startedAt = Date.now();

    await Promise.all([sender(), sender(), sender()]);

    // The slots the shared budget granted: 50 per second, plus one that may sit on a window's edge.
    slots.sort((a, b) => a - b);
    expect(slots).toHaveLength(60);
    expect(busiestWindow(slots, 1_000)).toBeLessThanOrEqual(51);
    // 60 slots 20 ms apart span 59 intervals; no sender is released before a slot starts. (When a
    // sender is released is up to the event loop: on a busy machine releases bunch up after a stall,
    // which no budget can prevent, so the window check is on the granted slots.)
    expect((slots.at(-1) ?? 0) - (slots[0] ?? 0)).toBeGreaterThanOrEqual(1_180 - 1);
    expect(Math.max(...released.map((r) => r.at)) - startedAt).toBeGreaterThanOrEqual(1_180 - 5);
    for (const r of released) expect(r.at).toBeGreaterThanOrEqual(Math.floor(r.slot) - 2);
  });

  it('reads the stored hold before each slot at 5/s, as the cost model prices it', async () => {
    const clock = new FakeClock({ start: 1_700_000_000_000 });
    const { counted, count: reads } = countingClient(GetItemCommand);
    const budget = new DynamoDbRateBudget({ client: counted, tableName, clock });
    const connectionId = uniqueName('conn');
    for (let i = 0; i < 40; i++) await budget.acquire(connectionId, 5);

    // Every slot but the first (granted at once on an idle budget, just after the write that reserved it).
    expect(reads()).toBe(40 * holdReadsPerSlot(5) - 1);
  });

  it('on a fake clock, slots from several senders are exactly one interval apart', async () => {
    const clock = new FakeClock({ start: 1_700_000_000_000 });
    // The granted slots, not the clock after waking: the fake clock may jump while DynamoDB answers.
    const slots: number[] = [];
    const budget = new DynamoDbRateBudget({ client, tableName, clock, onGrant: (g) => slots.push(g.slotAt) });
    const connectionId = uniqueName('conn');
    const sender = async (): Promise<void> => {
      for (let i = 0; i < 5; i++) await budget.acquire(connectionId, 4);
    };

    await Promise.all([sender(), sender(), sender()]);

    expect(slots.sort((a, b) => a - b)).toEqual(
      Array.from({ length: 15 }, (_, k) => 1_700_000_000_000 + k * 250),
    );
  });

  it('concurrent acquirers of one instance at a high rate lose no reserved slot', async () => {
    // Time stands still (no slot is ever late) while waits still yield to I/O, so reservations
    // overlap as they do between real senders: any gap in the granted slots is a lost slot.
    const T0 = 1_700_000_000_000;
    const instant = { now: () => T0, sleep: () => new Promise<void>((r) => setTimeout(r, 1)) };
    const slots: number[] = [];
    const budget = new DynamoDbRateBudget({
      client,
      tableName,
      clock: instant,
      onGrant: (g) => slots.push(g.slotAt),
    });
    const connectionId = uniqueName('conn');
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let i = 0; i < 50; i++) await budget.acquire(connectionId, 200);
      }),
    );
    const sorted = slots.sort((a, b) => a - b);
    expect(new Set(sorted).size).toBe(200);
    // Every slot between the first and the last was used, but for the tail of a block reserved
    // as the work ran out (less than one reservation).
    const unused = ((sorted.at(-1) ?? T0) - T0) / 5 + 1 - 200;
    expect(unused).toBeLessThanOrEqual(slotsPerReservation(200) - 1);
  });

  it('a back-off holds every sender back, and a shorter one does not shorten it', async () => {
    const clock = new FakeClock({ start: 1_700_000_000_000 });
    const budget = new DynamoDbRateBudget({ client, tableName, clock });
    const other = new DynamoDbRateBudget({ client, tableName, clock });
    const connectionId = uniqueName('conn');
    await budget.acquire(connectionId, 5);

    await budget.backOff(connectionId, 3_000);
    await other.backOff(connectionId, 1_000);
    await other.acquire(connectionId, 5);

    expect(clock.now()).toBe(1_700_000_003_000);
    const item = await client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { pk: { S: `CONN#${connectionId}` }, sk: { S: 'RATE' } },
      }),
    );
    // The block reserved after the hold starts where the hold ends; the shorter hold left it alone.
    expect(Number(item.Item?.tat?.N)).toBe(1_700_000_003_000 + slotsPerReservation(5) * 200);
    expect(Number(item.Item?.held?.N)).toBe(1_700_000_003_000);
  });

  it('grants a slot at once when the budget is idle', async () => {
    const clock = new FakeClock({ start: 1_700_000_000_000 });
    const budget = new DynamoDbRateBudget({ client, tableName, clock });
    const connectionId = uniqueName('conn');
    await budget.acquire(connectionId, 2);
    clock.advance(10_000);

    await budget.acquire(connectionId, 2);

    expect(clock.now()).toBe(1_700_000_010_000);
  });
});
