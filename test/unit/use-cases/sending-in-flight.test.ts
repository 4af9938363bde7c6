import { describe, expect, it } from 'vitest';
import { TransientError } from '#lib/domain/errors.ts';
import { MESSAGE_VERSION, type SendBatchMessage } from '#lib/domain/messages.ts';
import { slotsPerReservation } from '#lib/ports/rate-budget.ts';
import { inFlightLimit, RequestTally } from '#lib/use-cases/destination-calls.ts';
import { deliver } from '#lib/use-cases/sending/deliver.ts';
import { PipelineHarness, senderSettings } from '#test/support/pipeline-harness.ts';

const RATE = 5;
const LATENCY_MS = 300;
const ITEMS = 25;
const INTERVAL = 1000 / RATE;

/**
 * One delivery of a one-by-one batch against the fake destination, whose every answer takes
 * LATENCY_MS of fake time after its slot: the requests in flight and the fake time they took.
 */
const deliverWithLatency = async (
  op: 'list-join' | 'list-leave',
  fault?: (emails: readonly string[]) => Error | undefined,
) => {
  const h = new PipelineHarness();
  const connection = await h.addConnection({
    ratePerSecond: RATE,
    // Known not to honour bulk membership: joins go one by one, like leaves.
    bulkMembership: { state: 'unsupported', checkedAt: new Date(h.clock.now()).toISOString() },
  });
  h.segments.set('seg-a', 'Newsletter', []);
  await h.addExport();
  const { run } = await h.start();
  const list = await h.destination.open('key-1').createList('Newsletter');
  let inFlight = 0;
  let maxInFlight = 0;
  const sentAt: number[] = [];
  h.destination.beforeRequest = async (request) => {
    sentAt.push(h.clock.now());
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await h.clock.sleep(LATENCY_MS);
    inFlight--;
    const error = fault?.(request.emails);
    if (error !== undefined) throw error;
  };
  const emails = Array.from({ length: ITEMS }, (_, i) => `p${i}@example.com`);
  const base = {
    v: MESSAGE_VERSION,
    type: 'send-batch' as const,
    runId: run.id,
    exportId: 'exp-1',
    connectionId: connection.id,
    batchNo: 0,
    requeues: 0,
    lane: 0,
    segment: 0,
    listId: list.id,
  };
  const batch: SendBatchMessage =
    op === 'list-join'
      ? {
          ...base,
          op,
          items: emails.map((email) => ({ data: { email, fields: {}, custom: {} }, hash: 'h' })),
        }
      : { ...base, op, items: emails.map((email) => ({ email, forget: false })) };
  const deps = {
    ...h.sendDeps,
    // Progress records need a planned run; this delivery is looked at on its own.
    settings: { ...senderSettings, maxAttempts: 1, progressEvery: { results: Infinity, ms: Infinity } },
  };
  const started = h.clock.now();
  const delivery = await deliver(deps, batch, 0, run, connection, new RequestTally(), () => h.remainingMs());
  const reservations = h.rateBudget.reservations.get(connection.id) ?? 0;
  return { delivery, maxInFlight, sentAt, reservations, seconds: (h.clock.now() - started) / 1000 };
};

describe('requests in flight within one delivery', () => {
  it('keeps ceil(rate × latency) + 1 requests in flight: 3 at 5/s and 300 ms', () => {
    expect(inFlightLimit(5, 300)).toBe(3);
    expect(inFlightLimit(5, 0)).toBe(1);
    expect(inFlightLimit(0.5, 300)).toBe(2);
    expect(inFlightLimit(120, 400)).toBe(16); // bounded: a budget this high needs more senders
    expect(inFlightLimit(5, Number.NaN)).toBe(1);
  });

  for (const op of ['list-join', 'list-leave'] as const) {
    it(`one sender alone fills a 5/s budget at 300 ms latency (${op})`, async () => {
      const { delivery, maxInFlight, sentAt, seconds } = await deliverWithLatency(op);

      expect(delivery.stop).toBeUndefined();
      expect(delivery.results.map((r) => r.email)).toEqual(
        Array.from({ length: ITEMS }, (_, i) => `p${i}@example.com`),
      );
      expect(maxInFlight).toBeGreaterThan(1);
      expect(maxInFlight).toBeLessThanOrEqual(inFlightLimit(RATE, 400));
      // Requests one slot apart, as the budget grants them: rate use 1 (sequential: 300 ms apart).
      const span = (sentAt.at(-1) ?? 0) - (sentAt[0] ?? 0);
      expect((ITEMS - 1) * INTERVAL).toBeGreaterThanOrEqual(0.95 * span);
      expect(seconds).toBeLessThan((ITEMS * LATENCY_MS) / 1000);
    });
  }

  for (const op of ['list-join', 'list-leave'] as const) {
    it(`reserves the batch's slots 4 s of budget at a time, not 0.8 s (${op})`, async () => {
      const { delivery, reservations } = await deliverWithLatency(op);

      expect(delivery.results).toHaveLength(ITEMS);
      // 25 requests at 5/s: blocks of 20 and 5 (with the usual 0.8 s blocks it was 7 writes).
      expect(reservations).toBe(2);
      expect(Math.ceil(ITEMS / slotsPerReservation(RATE))).toBe(7);
    });
  }

  it('a request failing in the middle keeps exactly the results before it', async () => {
    // The 8th contact's request fails for good (one attempt); those launched after it are answered, then discarded.
    const { delivery, sentAt } = await deliverWithLatency('list-leave', (emails) =>
      emails.includes('p7@example.com') ? new TransientError('503', { status: 503 }) : undefined,
    );

    expect(sentAt.length).toBeGreaterThan(8);

    expect(delivery.stop?.kind).toBe('transient');
    expect(delivery.results.map((r) => r.email)).toEqual(
      Array.from({ length: 7 }, (_, i) => `p${i}@example.com`),
    );
  });
});
