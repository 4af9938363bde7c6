import { describe, expect, it } from 'vitest';
import type { SourceProfile } from '#lib/domain/contact.ts';
import type { RunProgress } from '#lib/domain/run-record.ts';
import { planRun } from '#lib/use-cases/plan-run.ts';
import { sendBatch } from '#lib/use-cases/send-batch.ts';
import { PipelineHarness, plannerSettings, senderSettings } from '#test/support/pipeline-harness.ts';

const people = (n: number): SourceProfile[] =>
  Array.from({ length: n }, (_, i) => ({
    id: String(i),
    attributes: { email: `p${i}@example.com`, first_name: `P${i}` },
  }));

interface Sample {
  at: number;
  accepted: number;
  requests: number;
}

/**
 * One list export of 100 contacts planned as a single per-contact batch, sent at 5 requests/s on
 * the fake clock while an observer reads the run's progress every second of fake time.
 */
const sendOneBatch = async (progressEvery?: { results: number; ms: number }) => {
  const h = new PipelineHarness();
  h.segments.set('seg-a', 'Newsletter', people(100));
  await h.addConnection({ ratePerSecond: 5 });
  await h.addExport({ segmentIds: ['seg-a'] });
  const { run } = await h.start();
  const planDeps = { ...h.planDeps, settings: { ...plannerSettings, perContactBatchSize: 100 } };
  for (let plan = h.planQueue.take(); plan.length > 0; plan = h.planQueue.take()) {
    for (const message of plan) await planRun(planDeps, message, () => h.remainingMs());
  }
  const batches = h.sendQueue.take();
  const sendDeps = {
    ...h.sendDeps,
    settings: { ...senderSettings, ...(progressEvery === undefined ? {} : { progressEvery }) },
  };
  const samples: Sample[] = [];
  let sending = true;
  const observe = async (): Promise<void> => {
    while (sending) {
      await h.clock.sleep(1_000);
      const progress = (await h.run(run.id)).progress;
      const requests = Object.values(progress.requests).reduce((a, b) => a + b, 0);
      samples.push({ at: h.clock.now(), accepted: progress.accepted, requests });
    }
  };
  const observer = observe();
  for (const batch of batches) await sendBatch(sendDeps, JSON.stringify(batch), () => h.remainingMs());
  sending = false;
  await observer;
  const final = await h.run(run.id);
  return { batches, samples, final };
};

/** The longest stretch of fake time, while contacts were being accepted, with no change in `field`. */
const longestStill = (samples: readonly Sample[], field: 'accepted' | 'requests'): number => {
  const total = samples.at(-1)?.[field] ?? 0;
  let longest = 0;
  let since = samples[0]?.at ?? 0;
  let last = samples[0]?.[field] ?? 0;
  for (const s of samples) {
    if (s[field] !== last) {
      last = s[field];
      since = s.at;
    } else if (last < total) longest = Math.max(longest, s.at - since);
  }
  return longest;
};

describe('progress while a batch is being sent', () => {
  it('a 100-contact per-contact batch at 5/s moves the run progress at least every ~5 s', async () => {
    const { batches, samples, final } = await sendOneBatch();

    expect(batches).toHaveLength(1);
    expect(batches[0]?.items).toHaveLength(100);
    // 100 requests at 5/s take ~20 s; the run's counts move every 5 s (+ one sample) of it.
    expect(samples.at(-1)?.at ?? 0).toBeGreaterThan((samples[0]?.at ?? 0) + 15_000);
    expect(longestStill(samples, 'accepted')).toBeLessThanOrEqual(6_000);
    expect(longestStill(samples, 'requests')).toBeLessThanOrEqual(6_000);
    expect(final.progress).toMatchObject({ accepted: 100, failed: 0, dropped: 0, batchesDone: 1 });
  });

  it('ends with the same run counts as recording only at the batch end', async () => {
    const ticking = await sendOneBatch();
    const atEndOnly = await sendOneBatch({
      results: Number.POSITIVE_INFINITY,
      ms: Number.POSITIVE_INFINITY,
    });

    const counts = (p: RunProgress) => ({ ...p });
    expect(counts(ticking.final.progress)).toEqual(counts(atEndOnly.final.progress));
    expect(ticking.final.status).toBe(atEndOnly.final.status);
    expect(ticking.final.progress.accepted).toBe(100);
    // Recorded only at the end, the progress stood still for the whole batch.
    expect(longestStill(atEndOnly.samples, 'accepted')).toBeGreaterThan(15_000);
  });
});
