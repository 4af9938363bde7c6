import { describe, expect, it } from 'vitest';
import { planRun } from '#lib/use-cases/plan-run.ts';
import { sendBatch } from '#lib/use-cases/send-batch.ts';
import { budgetBusy, busyDelaySeconds, usefulWaitMs } from '#lib/use-cases/sending/budget-gate.ts';
import { FakeClock } from '#test/fakes/fake-clock.ts';
import { InMemoryRateBudget } from '#test/fakes/in-memory-rate-budget.ts';
import { PipelineHarness } from '#test/support/pipeline-harness.ts';

const connection = { id: 'conn-1', ratePerSecond: 5 };

describe('a sender waits for its first slot only when the budget is not kept busy', () => {
  it('waits up to 1 s, or two intervals of a slow budget', () => {
    expect(usefulWaitMs(5)).toBe(1_000);
    expect(usefulWaitMs(0.5)).toBe(4_000);
  });

  it('an idle budget is not busy', async () => {
    const clock = new FakeClock();
    expect(await budgetBusy(new InMemoryRateBudget(clock), connection, () => clock.now())).toBeUndefined();
  });

  it('the block a finished sender leaves reserved does not make the budget busy for it', async () => {
    const clock = new FakeClock();
    const budget = new InMemoryRateBudget(clock);
    await budget.acquire(connection.id, connection.ratePerSecond); // reserves 4 slots, 0.8 s

    expect(await budget.nextFreeSlot(connection.id)).toBe(clock.now() + 800);
    expect(await budgetBusy(budget, connection, () => clock.now())).toBeUndefined();
  });

  it('is busy when senders taking turns have booked it further than that', async () => {
    const clock = new FakeClock({ autoAdvance: false });
    const budget = new InMemoryRateBudget(clock);
    // Three senders each waiting for a slot: three blocks of 0.8 s reserved.
    for (let i = 0; i < 9; i++) void budget.acquire(connection.id, connection.ratePerSecond);
    await new Promise((resolve) => setImmediate(resolve));

    expect(await budgetBusy(budget, connection, () => clock.now())).toEqual({ slotAt: clock.now() + 2_400 });
  });

  it('is busy during a 429 hold, until its end', async () => {
    const clock = new FakeClock();
    const budget = new InMemoryRateBudget(clock);
    await budget.backOff(connection.id, 60_000);

    expect(await budgetBusy(budget, connection, () => clock.now())).toEqual({ slotAt: clock.now() + 60_000 });
  });

  it('hands back until the next free slot, at least the usual delay, at most 15 minutes', () => {
    expect(busyDelaySeconds(10_000 + 2_400, 10_000, 5)).toBe(5);
    expect(busyDelaySeconds(60_500, 0, 5)).toBe(61);
    expect(busyDelaySeconds(3_600_000, 0, 5)).toBe(900);
  });
});

describe('a batch whose budget is kept busy goes back before its first request', () => {
  it('hands the batch back with a delay before taking its lease: sends nothing, writes nothing', async () => {
    const h = new PipelineHarness();
    h.segments.set('seg-a', 'Newsletter', [{ id: '1', attributes: { email: 'a@example.com' } }]);
    await h.addConnection({
      bulkMembership: { state: 'unsupported', checkedAt: new Date(h.clock.now()).toISOString() },
    });
    await h.addExport();
    const { run } = await h.start();
    for (const m of h.planQueue.take()) await planRun(h.planDeps, m, h.remainingMs);
    const [batch] = h.sendQueue.take();
    const before = h.destination.requests.length;
    await h.rateBudget.backOff('conn-1', 30_000); // another sender was answered 429
    const started = h.clock.now();

    const result = await sendBatch(h.sendDeps, JSON.stringify(batch), () => h.remainingMs());

    expect(result).toBe('done');
    expect(h.clock.now()).toBe(started); // no wait at all
    expect(h.destination.requests.length).toBe(before);
    expect(h.sendQueue.messages).toEqual([{ body: { ...batch, requeues: 1 }, delaySeconds: 30 }]);
    // Not even the lease: a batch item would cost a write and mark the batch tried.
    expect(await h.state.batches.get(run.id, 0)).toBeUndefined();
    expect((await h.state.batches.settlements(run.id)).size).toBe(0);
    expect((await h.run(run.id)).progress.accepted).toBe(0);
  });
});
