import { beforeAll, describe, expect, it } from 'vitest';
import type { State } from '#lib/ports/state.ts';
import { aBatchOutcome, aRun } from '#test/fixtures/state-records.ts';
import { uid, whole } from './helpers.ts';

/** What every `BatchLedger` must do: run against the in-memory fake (unit) and DynamoDB Local (integration). */
export const describeBatchLedgerContract = (name: string, makeState: () => Promise<State>): void => {
  describe(`${name}: BatchLedger`, () => {
    let state: State;
    beforeAll(async () => {
      state = await makeState();
    });

    describe('batch progress', () => {
      /** A run whose plan has `batches` batches. */
      const plannedRun = async (batches = 20) => {
        const run = aRun({ id: uid('run'), status: 'sending' });
        await state.runs.create(run);
        await state.plans.commit(run.id, {
          batchesTotal: batches,
          itemsPlanned: batches * 100,
          at: run.createdAt,
        });
        return run;
      };

      it('adds a batch’s outcome to the run’s progress', async () => {
        const run = await plannedRun();

        await state.batches.record(run.id, 1, whole, aBatchOutcome());
        await state.batches.record(
          run.id,
          2,
          whole,
          aBatchOutcome({
            at: '2025-01-01T00:05:00.000Z',
            accepted: 50,
            failed: { rejected_email: 1, 'weird reason: #1.x': 2, '': 1 },
            dropped: 3,
            requests: { bulkUpsert: 1, 'list.add': 4 },
            throttled: 2,
          }),
        );

        const after = await state.runs.get(run.id);
        expect(after?.progress).toEqual({
          batchesDone: 2,
          accepted: 148,
          failed: 6,
          dropped: 3,
          throttled: 2,
          failedByReason: { rejected_email: 3, 'weird reason: #1.x': 2, '(none)': 1 },
          requests: { bulkUpsert: 2, 'list.add': 4 },
        });
        expect(after?.lastProgressAt).toBe('2025-01-01T00:05:00.000Z');
        expect(await state.batches.get(run.id, 1)).toEqual({ next: 100, done: true });
        expect(await state.batches.get(run.id, 3)).toBeUndefined();
      });

      it('a redelivered batch is not counted twice', async () => {
        const run = await plannedRun();

        const first = await state.batches.record(run.id, 7, whole, aBatchOutcome());
        const again = await state.batches.record(run.id, 7, whole, aBatchOutcome());
        const concurrent = await Promise.all(
          [1, 2, 3, 4].map(() => state.batches.record(run.id, 8, whole, aBatchOutcome({ accepted: 10 }))),
        );

        expect([first.recorded, again.recorded]).toEqual([true, false]);
        expect(again.state).toEqual({ next: 100, done: true });
        expect(concurrent.filter((r) => r.recorded)).toHaveLength(1);
        expect((await state.runs.get(run.id))?.progress).toMatchObject({
          batchesDone: 2,
          accepted: 108,
          failed: 4,
          requests: { bulkUpsert: 2 },
        });
        expect(await state.batches.errorSamples(run.id, 100)).toHaveLength(2);
      });

      it('records a batch in ranges, each exactly once, and counts the batch done once', async () => {
        const run = await plannedRun();
        const part = (accepted: number) => aBatchOutcome({ accepted, failed: {}, samples: [] });

        const first = await state.batches.record(run.id, 4, { from: 0, to: 10, final: false }, part(10));
        const stale = await state.batches.record(run.id, 4, { from: 0, to: 12, final: false }, part(12));
        const second = await state.batches.record(run.id, 4, { from: 10, to: 25, final: true }, part(15));
        const late = await state.batches.record(run.id, 4, { from: 10, to: 25, final: true }, part(15));

        expect([first.recorded, stale.recorded, second.recorded, late.recorded]).toEqual([
          true,
          false,
          true,
          false,
        ]);
        expect(stale.state).toEqual({ next: 10, done: false });
        expect(late.state).toEqual({ next: 25, done: true });
        expect((await state.runs.get(run.id))?.progress).toMatchObject({ batchesDone: 1, accepted: 25 });
        expect(await state.batches.get(run.id, 4)).toEqual({ next: 25, done: true });
      });

      it('one delivery holds a batch until it releases it or its deadline passes; a done batch is never leased', async () => {
        const run = await plannedRun();
        const T = (s: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, s)).toISOString();

        const a = await state.batches.lease(run.id, 2, 'a', T(0), T(60));
        const b = await state.batches.lease(run.id, 2, 'b', T(10), T(70));
        expect(await state.batches.get(run.id, 2)).toEqual({ next: 0, done: false, leaseUntil: T(60) });
        await state.batches.record(
          run.id,
          2,
          { from: 0, to: 40, final: false },
          aBatchOutcome({ accepted: 40 }),
        );
        const bLater = await state.batches.lease(run.id, 2, 'b', T(61), T(120));
        await state.batches.release(run.id, 2, 'a'); // not a's any more: nothing happens
        expect(await state.batches.get(run.id, 2)).toEqual({ next: 40, done: false, leaseUntil: T(120) });
        await state.batches.record(
          run.id,
          2,
          { from: 40, to: 100, final: true },
          aBatchOutcome({ accepted: 60 }),
        );
        await state.batches.release(run.id, 2, 'b');

        expect([a, b, bLater]).toEqual([true, false, true]);
        expect(await state.batches.lease(run.id, 2, 'c', T(200), T(260))).toBe(false);
        expect(await state.batches.get(run.id, 2)).toEqual({ next: 100, done: true });
      });

      it('refuses a batch number outside the decided plan, and any batch of a run with no plan', async () => {
        const run = await plannedRun(3);
        const unplanned = aRun({ id: uid('run'), status: 'sending' });
        await state.runs.create(unplanned);

        await expect(state.batches.record(run.id, 3, whole, aBatchOutcome())).rejects.toMatchObject({
          name: 'BatchOutsidePlanError',
        });
        await expect(state.batches.record(unplanned.id, 0, whole, aBatchOutcome())).rejects.toMatchObject({
          name: 'BatchOutsidePlanError',
        });
        expect((await state.runs.get(run.id))?.progress.batchesDone).toBe(0);
      });

      it('counts every batch when many different batches finish at once', async () => {
        const run = await plannedRun();

        await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            state.batches.record(
              run.id,
              i + 1,
              whole,
              aBatchOutcome({ accepted: 1, failed: {}, samples: [] }),
            ),
          ),
        );

        expect((await state.runs.get(run.id))?.progress).toMatchObject({ batchesDone: 12, accepted: 12 });
      });

      it('adds the requests of a delivery that did not complete without counting a batch', async () => {
        const run = aRun({ id: uid('run'), status: 'sending' });
        await state.runs.create(run);

        await state.batches.addRequests(run.id, { bulkUpsert: 2, 'contact.add': 1 }, 1);
        await state.batches.addRequests(run.id, { bulkUpsert: 1 }, 0);
        await state.batches.addRequests(run.id, {}, 0);

        expect((await state.runs.get(run.id))?.progress).toMatchObject({
          batchesDone: 0,
          throttled: 1,
          requests: { bulkUpsert: 3, 'contact.add': 1 },
        });
      });

      it('keeps at most five error samples per recorded range, in batch order', async () => {
        const run = await plannedRun();
        const samples = (batch: number, n: number) =>
          Array.from({ length: n }, (_, i) => ({ email: `u${batch}-${i}@***`, reason: `r${i}` }));

        await state.batches.record(run.id, 12, whole, aBatchOutcome({ samples: samples(12, 2) }));
        await state.batches.record(run.id, 3, whole, aBatchOutcome({ samples: samples(3, 8) }));

        const all = await state.batches.errorSamples(run.id, 100);
        expect(all.map((s) => `${s.batchNo}:${s.email}`)).toEqual([
          '3:u3-0@***',
          '3:u3-1@***',
          '3:u3-2@***',
          '3:u3-3@***',
          '3:u3-4@***',
          '12:u12-0@***',
          '12:u12-1@***',
        ]);
        expect(all[0]).toEqual({ email: 'u3-0@***', reason: 'r0', batchNo: 3 });
        expect(await state.batches.errorSamples(run.id, 3)).toHaveLength(3);
      });

      it('keeps the failed contacts of every recorded range, distinct and sorted, for a retry to name', async () => {
        const run = await plannedRun();
        const half = { from: 0, to: 50, final: false };
        const rest = { from: 50, to: 100, final: true };
        await state.batches.record(run.id, 4, half, {
          ...aBatchOutcome(),
          failedEmails: ['b@x.com', 'a@x.com'],
        });
        await state.batches.record(run.id, 4, rest, { ...aBatchOutcome(), failedEmails: ['c@x.com'] });
        await state.batches.record(run.id, 9, whole, {
          ...aBatchOutcome(),
          failedEmails: ['a@x.com', 'd@x.com'],
        });
        // A redelivered range records nothing, its failed contacts included.
        await state.batches.record(run.id, 9, whole, { ...aBatchOutcome(), failedEmails: ['z@x.com'] });
        await state.batches.record(run.id, 10, whole, aBatchOutcome());

        expect(await state.batches.failedEmails(run.id, 100)).toEqual([
          'a@x.com',
          'b@x.com',
          'c@x.com',
          'd@x.com',
        ]);
        expect(await state.batches.failedEmails(run.id, 2)).toEqual(['a@x.com', 'b@x.com']);
        expect(await state.batches.failedEmails((await plannedRun()).id, 100)).toEqual([]);
      });
    });
  });
};
