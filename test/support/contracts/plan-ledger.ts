import { beforeAll, describe, expect, it } from 'vitest';
import type { State } from '#lib/ports/state.ts';
import { aRun } from '#test/fixtures/state-records.ts';
import { uid } from './helpers.ts';

/** What every `PlanLedger` must do: run against the in-memory fake (unit) and DynamoDB Local (integration). */
export const describePlanLedgerContract = (name: string, makeState: () => Promise<State>): void => {
  describe(`${name}: PlanLedger`, () => {
    let state: State;
    beforeAll(async () => {
      state = await makeState();
    });

    describe('planning', () => {
      it('completing planning records totals and leaves the status to the caller', async () => {
        const run = aRun({ id: uid('run'), status: 'sending' });
        await state.runs.create(run);
        const estimate = {
          requests: { bulkUpsert: 3, upsertWithList: 12 },
          totalRequests: 15,
          floorRequests: 14.5,
          ratePerSecond: 5,
          seconds: 3,
          secondsAtDocumentedRate: 3,
          upperBound: false,
        };
        const planning = {
          segments: [{ id: 'seg-a', name: 'Newsletter', profiles: 250, listId: 'contactlist_1' }],
          profilesRead: 250,
          distinct: 240,
          invalid: { malformed: 10 },
          fieldIssues: {},
          merged: 0,
          overCapProfiles: 0,
          heldBack: 0,
          added: 12,
          changed: 228,
          unchanged: 0,
          left: 0,
          joins: [12],
          leaves: [0],
        };

        await state.plans.saveStats(run.id, { planning: { ...planning, added: 1 }, estimate });
        await state.plans.complete(run.id, {
          planning,
          estimate,
          planningFinishedAt: '2025-01-01T00:00:30.000Z',
        });

        expect(await state.runs.get(run.id)).toEqual({
          ...run,
          planningDone: true,
          planning,
          estimate,
          planningFinishedAt: '2025-01-01T00:00:30.000Z',
        });
      });

      it('one planner holds the planning lease until it releases it or its deadline passes', async () => {
        const run = aRun({ id: uid('run') });
        await state.runs.create(run);
        const T = (s: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, s)).toISOString();

        const a = await state.plans.lease(run.id, 'a', T(0), T(60));
        const b = await state.plans.lease(run.id, 'b', T(10), T(70));
        const aAgain = await state.plans.lease(run.id, 'a', T(20), T(80));
        const bAfterDeadline = await state.plans.lease(run.id, 'b', T(81), T(140));
        await state.plans.release(run.id, 'a'); // no longer a's: nothing happens
        const c = await state.plans.lease(run.id, 'c', T(90), T(150));
        await state.plans.release(run.id, 'b');
        const cAfterRelease = await state.plans.lease(run.id, 'c', T(91), T(150));

        expect([a, b, aAgain, bAfterDeadline, c, cAfterRelease]).toEqual([
          true,
          false,
          true,
          true,
          false,
          true,
        ]);
      });

      it('decides a plan once: the same plan again is accepted, a different one refused', async () => {
        const run = aRun({ id: uid('run') });
        await state.runs.create(run);
        const at = '2025-01-01T00:01:00.000Z';

        expect(await state.plans.commit(run.id, { batchesTotal: 60, itemsPlanned: 6_000, at })).toBe(true);
        expect(await state.plans.commit(run.id, { batchesTotal: 60, itemsPlanned: 6_000, at })).toBe(true);
        expect(await state.plans.commit(run.id, { batchesTotal: 10, itemsPlanned: 1_000, at })).toBe(false);
        await state.plans.note(run.id, {
          at: '2025-01-01T00:02:00.000Z',
          checkpointed: true,
          batchesQueued: 50,
        });

        expect(await state.runs.get(run.id)).toMatchObject({
          batchesTotal: 60,
          itemsPlanned: 6_000,
          checkpointed: true,
          batchesQueued: 50,
          lastProgressAt: '2025-01-01T00:02:00.000Z',
        });
      });
    });
  });
};
