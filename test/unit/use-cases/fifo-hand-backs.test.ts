import { describe, expect, it } from 'vitest';
import type { SourceProfile } from '#lib/domain/contact.ts';
import { planRun } from '#lib/use-cases/plan-run.ts';
import { sendBatch } from '#lib/use-cases/send-batch.ts';
import { PipelineHarness, senderSettings } from '#test/support/pipeline-harness.ts';

/*
 * The send queue is FIFO (one message group per connection), which refuses per-message delays.
 * A batch handed back goes to its group's tail at once; the pause a delay gave is taken in the
 * invocation instead, so a held budget never turns into a receive/hand-back loop at full speed.
 */

const people = (n: number): SourceProfile[] =>
  Array.from({ length: n }, (_, i) => ({
    id: String(i).padStart(6, '0'),
    attributes: { email: `p${i}@example.com` },
  }));

const planned = async (membership: 'field' | 'list' = 'field') => {
  const h = new PipelineHarness();
  h.segments.set('seg-a', 'Newsletter', people(50));
  await h.addConnection(
    membership === 'list'
      ? { bulkMembership: { state: 'unsupported', checkedAt: new Date(h.clock.now()).toISOString() } }
      : {},
  );
  await h.addExport({ membership });
  const { run } = await h.start();
  for (const m of h.planQueue.take()) await planRun(h.planDeps, m, h.remainingMs);
  return { h, runId: run.id };
};

const PAUSE_MS = senderSettings.requeueDelaySeconds * 1000;

describe('hand-backs on a FIFO send queue', () => {
  it('a budget held past the invocation: the batch goes back without a delay, after a pause in the invocation', async () => {
    const { h, runId } = await planned();
    await h.rateBudget.backOff('conn-1', 10 * 60_000);
    const [batch] = h.sendQueue.take();
    const started = h.clock.now();
    const remaining = 20_000;
    const result = await sendBatch(
      h.sendDeps,
      JSON.stringify(batch),
      () => remaining - (h.clock.now() - started),
    );
    expect(result).toBe('done');
    expect(h.sendQueue.messages.map((m) => [m.delaySeconds, m.body.requeues])).toEqual([[0, 1]]);
    expect(h.clock.now() - started).toBeGreaterThanOrEqual(PAUSE_MS);
    expect(h.clock.now() - started).toBeLessThanOrEqual(remaining);
    h.remainingMs = () => 15 * 60_000;
    await h.drain();
    expect((await h.run(runId)).progress.accepted).toBe(50);
  });

  it('the pause never runs into the reserve: with less time than the pause, the batch goes back in time', async () => {
    const { h } = await planned();
    await h.rateBudget.backOff('conn-1', 10 * 60_000);
    const [batch] = h.sendQueue.take();
    const started = h.clock.now();
    const remaining = PAUSE_MS / 2;
    await sendBatch(h.sendDeps, JSON.stringify(batch), () => remaining - (h.clock.now() - started));
    expect(h.sendQueue.messages).toHaveLength(1);
    expect(h.clock.now() - started).toBeLessThanOrEqual(remaining - senderSettings.reserveMs / 2);
  });

  it('a batch another delivery holds goes back once that lease has ended, not at once', async () => {
    const { h, runId } = await planned();
    const [batch] = h.sendQueue.take();
    if (batch === undefined) throw new Error('no batch');
    const leaseMs = 3 * PAUSE_MS;
    const now = h.clock.now();
    await h.state.batches.lease(
      runId,
      batch.batchNo,
      'crashed-sender',
      new Date(now).toISOString(),
      new Date(now + leaseMs).toISOString(),
    );
    const result = await sendBatch(h.sendDeps, JSON.stringify(batch), () => 15 * 60_000);
    expect(result).toBe('done');
    expect(h.clock.now() - now).toBeGreaterThanOrEqual(leaseMs);
    expect(h.sendQueue.messages.map((m) => m.delaySeconds)).toEqual([0]);
    await h.drain();
    expect((await h.run(runId)).progress.accepted).toBe(50);
  });

  it('a rate-limit storm longer than every invocation never dead-letters a batch', async () => {
    const { h, runId } = await planned('list');
    // Every request for the first 40 is answered 429 with a minute's Retry-After; each invocation
    // has 30 s, so each delivery gives up and hands its batch back, again and again.
    h.destination.throttleNext = 40;
    h.destination.retryAfterMs = 60_000;
    h.remainingMs = () => 30_000;
    const results: string[] = [];
    await h.drain({ sendResults: results as never });
    const run = await h.run(runId);
    expect(results.length).toBeGreaterThan(h.maxReceiveCount);
    expect(results).not.toContain('retry');
    expect(h.exhausted).toEqual([]);
    expect(h.deadLetters.letters).toEqual([]);
    expect(run.status).toBe('succeeded');
    expect(run.progress.accepted).toBe(50);
  });
});
