import { beforeAll, describe, expect, it } from 'vitest';
import type { State } from '#lib/ports/state.ts';
import { anExportRecord } from '#test/fixtures/state-records.ts';
import { STAMP, uid } from './helpers.ts';

/** What every `Exports` must do: run against the in-memory fake (unit) and DynamoDB Local (integration). */
export const describeExportsContract = (name: string, makeState: () => Promise<State>): void => {
  describe(`${name}: Exports`, () => {
    let state: State;
    beforeAll(async () => {
      state = await makeState();
    });

    describe('exports and the one-active-run lock', () => {
      it('creates an export once, applies the schema defaults on read, and honours the version', async () => {
        const e = anExportRecord({ id: uid('exp') });

        expect(await state.exports.create(e)).toBe(true);
        expect(await state.exports.create(e)).toBe(false);
        expect(await state.exports.revise(e.id, 2, { name: 'Renamed' }, STAMP)).toBeUndefined();
        const revised = await state.exports.revise(e.id, 1, { name: 'Renamed', connectionId: null }, STAMP);

        const expected = {
          ...e,
          name: 'Renamed',
          connectionId: null,
          version: 2,
          updatedBy: STAMP.by,
          updatedAt: STAMP.at,
        };
        expect(revised).toEqual(expected);
        expect(await state.exports.get(e.id)).toEqual(expected);
      });

      it('deletes an export once, and only while its run lock is as the caller saw it', async () => {
        const e = anExportRecord({ id: uid('exp') });
        await state.exports.create(e);
        await state.exports.claimActiveRun(e.id, 'r1');

        expect(await state.exports.delete(e.id, { activeRunId: undefined })).toBe(false);
        expect(await state.exports.delete(e.id, { activeRunId: 'r0' })).toBe(false);
        const concurrent = await Promise.all(
          [1, 2, 3].map(() => state.exports.delete(e.id, { activeRunId: 'r1' })),
        );

        expect(concurrent.filter(Boolean)).toHaveLength(1);
        expect(await state.exports.get(e.id)).toBeUndefined();
        expect(await state.exports.delete(uid('exp'))).toBe(false);
      });

      it('lists and deletes exports', async () => {
        const a = anExportRecord({ id: uid('exp') });
        const b = anExportRecord({ id: uid('exp') });
        await state.exports.create(a);
        await state.exports.create(b);

        await state.exports.delete(b.id);

        const ids = (await state.exports.list()).map((e) => e.id);
        expect(ids).toContain(a.id);
        expect(ids).not.toContain(b.id);
        expect(await state.exports.get(b.id)).toBeUndefined();
      });

      it('concurrent claims of the active-run lock have exactly one winner', async () => {
        const e = anExportRecord({ id: uid('exp') });
        await state.exports.create(e);

        const wins = await Promise.all(
          ['r1', 'r2', 'r3', 'r4', 'r5'].map((r) => state.exports.claimActiveRun(e.id, r)),
        );

        expect(wins.filter(Boolean)).toHaveLength(1);
        const winner = ['r1', 'r2', 'r3', 'r4', 'r5'][wins.indexOf(true)];
        expect((await state.exports.get(e.id))?.activeRunId).toBe(winner);
      });

      it('takes the lock over only from the named dead run; the holder may re-claim', async () => {
        const e = anExportRecord({ id: uid('exp') });
        await state.exports.create(e);
        await state.exports.claimActiveRun(e.id, 'r1');

        const wrongVictim = await state.exports.claimActiveRun(e.id, 'r2', 'r0');
        const reclaim = await state.exports.claimActiveRun(e.id, 'r1');
        const takeover = await state.exports.claimActiveRun(e.id, 'r2', 'r1');
        const missing = await state.exports.claimActiveRun(uid('exp'), 'r1');

        expect([wrongVictim, reclaim, takeover, missing]).toEqual([false, true, true, false]);
        expect((await state.exports.get(e.id))?.activeRunId).toBe('r2');
      });

      it('releases the lock held by the run and records it as the last run', async () => {
        const e = anExportRecord({ id: uid('exp') });
        await state.exports.create(e);
        await state.exports.claimActiveRun(e.id, 'r1');
        const lastRun = { runId: 'r1', status: 'succeeded' as const, finishedAt: '2025-01-01T01:00:00.000Z' };

        await state.exports.releaseActiveRun(e.id, 'r1', lastRun);

        const after = await state.exports.get(e.id);
        expect(after?.activeRunId).toBeUndefined();
        expect(after?.lastRun).toEqual(lastRun);
        expect(await state.exports.claimActiveRun(e.id, 'r2')).toBe(true);
      });

      it('a run that does not hold the lock records itself as last run but leaves the lock alone', async () => {
        const e = anExportRecord({ id: uid('exp') });
        await state.exports.create(e);
        await state.exports.claimActiveRun(e.id, 'r1');

        await state.exports.releaseActiveRun(e.id, 'r2', { runId: 'r2', status: 'skipped' });

        expect(await state.exports.get(e.id)).toMatchObject({ activeRunId: 'r1', lastRun: { runId: 'r2' } });
      });

      it("lock changes leave the user's version alone, and an edit from an older read cannot drop the lock", async () => {
        const e = anExportRecord({ id: uid('exp') });
        await state.exports.create(e);

        await state.exports.claimActiveRun(e.id, 'r1');
        await state.exports.claimActiveRun(e.id, 'd1', undefined, 'dry-run');

        expect(await state.exports.get(e.id)).toMatchObject({
          version: 1,
          activeRunId: 'r1',
          activeDryRunId: 'd1',
        });
        expect(await state.exports.revise(e.id, 1, { name: 'Edited' }, STAMP)).toBeDefined();
        expect(await state.exports.get(e.id)).toMatchObject({
          name: 'Edited',
          version: 2,
          activeRunId: 'r1',
          activeDryRunId: 'd1',
        });
      });

      it('the dry-run lock is separate from the run lock, and a dry run is never recorded as the last run', async () => {
        const e = anExportRecord({ id: uid('exp') });
        await state.exports.create(e);

        expect(await state.exports.claimActiveRun(e.id, 'r1')).toBe(true);
        expect(await state.exports.claimActiveRun(e.id, 'd1', undefined, 'dry-run')).toBe(true);
        expect(await state.exports.claimActiveRun(e.id, 'd2', undefined, 'dry-run')).toBe(false);
        await state.exports.releaseActiveRun(e.id, 'd1', undefined, 'dry-run');

        const after = await state.exports.get(e.id);
        expect(after?.activeRunId).toBe('r1');
        expect(after?.activeDryRunId).toBeUndefined();
        expect(after?.lastRun).toBeUndefined();
        expect(await state.exports.claimActiveRun(e.id, 'd2', undefined, 'dry-run')).toBe(true);
      });
    });
  });
};
