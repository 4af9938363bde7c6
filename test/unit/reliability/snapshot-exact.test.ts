import { describe, expect, it } from 'vitest';
import type { SourceProfile } from '#lib/domain/contact.ts';
import { planRun } from '#lib/use-cases/plan-run.ts';
import { sendBatch } from '#lib/use-cases/send-batch.ts';
import { readAll } from '#test/support/contracts/helpers.ts';
import { PipelineHarness } from '#test/support/pipeline-harness.ts';

const person = (id: number): SourceProfile => ({
  id: String(id).padStart(6, '0'),
  attributes: { email: `p${id}@example.com`, first_name: `P${id}` },
});
const people = (from: number, to: number): SourceProfile[] =>
  Array.from({ length: to - from }, (_, i) => person(from + i));
const emails = (from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => `p${from + i}@example.com`).sort();

/** A list-mode export whose every join is one request, so a batch's items are sent one by one. */
const listExport = async (h: PipelineHarness, profiles: SourceProfile[]): Promise<void> => {
  h.segments.set('seg-a', 'Newsletter', profiles);
  await h.addConnection({
    bulkMembership: { state: 'unsupported', checkedAt: new Date(h.clock.now()).toISOString() },
  });
  await h.addExport();
};

const members = async (h: PipelineHarness): Promise<{ certain: string[]; maybe: string[] }> => {
  const entries = await readAll(h.state, 'exp-1');
  return {
    certain: entries.filter((e) => e.segmentIds.includes('seg-a')).map((e) => e.key),
    maybe: entries.filter((e) => e.maybeSegmentIds?.includes('seg-a')).map((e) => e.key),
  };
};

describe('the snapshot stays exact under redelivery and crashes (staged plans settled by the ledger)', () => {
  it('a batch delivered again after it was recorded changes neither the snapshot nor the destination', async () => {
    const h = new PipelineHarness();
    await listExport(h, people(0, 30));
    const { run } = await h.start();
    for (const m of h.planQueue.take()) await planRun(h.planDeps, m, h.remainingMs);
    const [first, ...rest] = h.sendQueue.take();
    const body = JSON.stringify(first);
    expect(await sendBatch(h.sendDeps, body, h.remainingMs)).toBe('done');
    for (const m of rest) await sendBatch(h.sendDeps, JSON.stringify(m), h.remainingMs);
    const before = await readAll(h.state, 'exp-1');
    const requests = h.destination.requests.length;

    expect(await sendBatch(h.sendDeps, body, h.remainingMs)).toBe('done');

    expect((await h.run(run.id)).status).toBe('succeeded');
    expect(h.destination.requests).toHaveLength(requests);
    expect(await readAll(h.state, 'exp-1')).toEqual(before);
    expect((await members(h)).certain).toEqual(emails(0, 30));
  });

  it('a sender that dies after its writes took effect, before recording them, leaves them uncertain, not lost', async () => {
    const h = new PipelineHarness();
    await listExport(h, people(0, 10));
    const { run } = await h.start();
    for (const m of h.planQueue.take()) await planRun(h.planDeps, m, h.remainingMs);
    const [batch] = h.sendQueue.take();
    // The process dies at its first record: every join it sent reached Autopilot, none is recorded.
    const record = h.state.batches.record.bind(h.state.batches);
    h.state.batches.record = async () => {
      throw new Error('process killed');
    };
    await expect(sendBatch(h.sendDeps, JSON.stringify(batch), h.remainingMs)).rejects.toThrow(
      'process killed',
    );
    h.state.batches.record = record;
    expect(h.destination.memberEmails('Newsletter')).toEqual(emails(0, 10));
    expect(await members(h)).toEqual({ certain: [], maybe: emails(0, 10) });

    // The redelivery sends them again (joins are idempotent) and records them: certain, exactly once.
    expect(await sendBatch(h.sendDeps, JSON.stringify(batch), h.remainingMs)).toBe('done');
    expect((await h.run(run.id)).progress.accepted).toBe(10);
    expect(await members(h)).toEqual({ certain: emails(0, 10), maybe: [] });
  });

  it('a crashed batch never delivered again is asserted by the next run, and contacts that left come off', async () => {
    const h = new PipelineHarness();
    await listExport(h, people(0, 10));
    const first = await h.start();
    for (const m of h.planQueue.take()) await planRun(h.planDeps, m, h.remainingMs);
    const [batch] = h.sendQueue.take();
    h.state.batches.record = async () => {
      throw new Error('process killed');
    };
    await expect(sendBatch(h.sendDeps, JSON.stringify(batch), h.remainingMs)).rejects.toThrow(
      'process killed',
    );
    delete (h.state.batches as { record?: unknown }).record; // the prototype's again
    // The message is lost for good (say it went to the dead-letter queue) and the run is ended by hand.
    await h.state.runs.transition(first.run.id, ['sending', 'planning'], 'failed', {
      finishedAt: new Date(h.clock.now()).toISOString(),
    });
    await h.state.exports.releaseActiveRun('exp-1', first.run.id, undefined);
    h.clock.advance(21 * 60_000);

    h.segments.set('seg-a', 'Newsletter', people(0, 5)); // p5…p9 left meanwhile
    const second = await h.start();
    await h.drain();

    expect((await h.run(second.run.id)).status).toBe('succeeded');
    expect(h.destination.memberEmails('Newsletter')).toEqual(emails(0, 5));
    expect(await members(h)).toEqual({ certain: emails(0, 5), maybe: [] });
  });
});
