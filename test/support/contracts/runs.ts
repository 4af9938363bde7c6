import { beforeAll, describe, expect, it } from 'vitest';
import type { State } from '#lib/ports/state.ts';
import { aBatchOutcome, aRun } from '#test/fixtures/state-records.ts';
import { uid, whole } from './helpers.ts';

/** What every `Runs` must do: run against the in-memory fake (unit) and DynamoDB Local (integration). */
export const describeRunsContract = (name: string, makeState: () => Promise<State>): void => {
  describe(`${name}: Runs`, () => {
    let state: State;
    beforeAll(async () => {
      state = await makeState();
    });

    describe('runs', () => {
      it('creates a run once and reads it back', async () => {
        const run = aRun({ id: uid('run') });

        await state.runs.create(run);

        expect(await state.runs.get(run.id)).toEqual(run);
        await expect(state.runs.create(run)).rejects.toThrow(run.id);
        expect(await state.runs.get(uid('run'))).toBeUndefined();
      });

      it('lists an export’s runs newest first, page by page', async () => {
        const exportId = uid('exp');
        const ids = [1, 2, 3, 4, 5].map((n) => `run-${n}-${exportId}`);
        for (const [i, id] of ids.entries()) {
          await state.runs.create(aRun({ id, exportId, createdAt: `2025-01-0${i + 1}T00:00:00.000Z` }));
        }
        await state.runs.create(aRun({ id: uid('run'), exportId: uid('exp') }));

        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await state.runs.list(exportId, 2, cursor);
          seen.push(...page.runs.map((r) => r.id));
          cursor = page.next;
          pages += 1;
        } while (cursor && pages < 10);

        expect(seen).toEqual([...ids].reverse());
        expect(pages).toBe(3);
        expect(await state.runs.list(uid('exp'), 10)).toEqual({ runs: [] });
      });

      it('refuses a cursor it did not hand out with a validation error naming the cursor', async () => {
        await expect(state.runs.list(uid('exp'), 10, 'garbage')).rejects.toMatchObject({
          name: 'ValidationError',
          issues: [{ path: 'cursor', reason: expect.any(String) }],
        });
      });

      it('orders runs created in the same millisecond by id', async () => {
        const exportId = uid('exp');
        await state.runs.create(aRun({ id: `b-${exportId}`, exportId }));
        await state.runs.create(aRun({ id: `a-${exportId}`, exportId }));

        const { runs, next } = await state.runs.list(exportId, 5);

        expect(runs.map((r) => r.id)).toEqual([`b-${exportId}`, `a-${exportId}`]);
        expect(next).toBeUndefined();
      });

      it('refuses a transition from a status the run is not in', async () => {
        const run = aRun({ id: uid('run'), status: 'planning' });
        await state.runs.create(run);

        expect(await state.runs.transition(run.id, ['sending'], 'succeeded')).toBe(false);
        expect(await state.runs.transition(uid('run'), ['planning'], 'failed')).toBe(false);
        expect(await state.runs.transition(run.id, [], 'failed')).toBe(false);

        expect((await state.runs.get(run.id))?.status).toBe('planning');
      });

      it('moves a run and applies the patch', async () => {
        const run = aRun({ id: uid('run'), status: 'planning' });
        await state.runs.create(run);

        const moved = await state.runs.transition(run.id, ['planning', 'sending'], 'failed', {
          reason: 'The cap of 10 contacts was exceeded',
          finishedAt: '2025-01-01T00:01:00.000Z',
          durationMs: 60_000,
        });

        expect(moved).toBe(true);
        expect(await state.runs.get(run.id)).toMatchObject({
          status: 'failed',
          reason: 'The cap of 10 contacts was exceeded',
          durationMs: 60_000,
        });
      });

      it('finalisation race: of two concurrent transitions out of sending exactly one wins', async () => {
        const run = aRun({ id: uid('run'), status: 'sending' });
        await state.runs.create(run);

        const results = await Promise.all([
          state.runs.transition(run.id, ['sending'], 'succeeded'),
          state.runs.transition(run.id, ['sending'], 'completed_with_errors'),
        ]);

        expect(results.filter(Boolean)).toHaveLength(1);
        const status = (await state.runs.get(run.id))?.status;
        expect(status).toBe(results[0] ? 'succeeded' : 'completed_with_errors');
      });

      it('records a cancellation request', async () => {
        const run = aRun({ id: uid('run'), status: 'sending' });
        await state.runs.create(run);

        await state.runs.requestCancel(run.id);

        expect(await state.runs.get(run.id)).toMatchObject({ status: 'sending', cancelRequested: true });
      });

      it('updates of a run that does not exist are refused', async () => {
        const missing = uid('run');

        await expect(state.runs.requestCancel(missing)).rejects.toThrow(missing);
        await expect(state.batches.record(missing, 1, whole, aBatchOutcome())).rejects.toThrow(missing);
        await expect(state.batches.addRequests(missing, { bulkUpsert: 1 }, 0)).rejects.toThrow(missing);
        expect(await state.batches.get(missing, 1)).toBeUndefined();
      });
    });
  });
};
