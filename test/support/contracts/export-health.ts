import { beforeAll, describe, expect, it } from 'vitest';
import type { ExportHealth } from '#lib/domain/export-health.ts';
import type { State } from '#lib/ports/state.ts';
import { anExportRecord } from '#test/fixtures/state-records.ts';
import { STAMP, uid } from './helpers.ts';

const health = (seq: number, runId: string): ExportHealth => ({
  state: 'failing',
  since: '2025-01-01T00:00:00.000Z',
  failingRuns: seq,
  reason: 'x',
  runId,
  runCreatedAt: '2025-01-01T00:00:00.000Z',
  seq,
});

/** What every `Exports` must do with health: one writer per sequence number, never touching `version`. */
export const describeExportHealthContract = (name: string, makeState: () => Promise<State>): void => {
  describe(`${name}: Exports health`, () => {
    let state: State;
    beforeAll(async () => {
      state = await makeState();
    });

    it('records health once per sequence: of concurrent writers from the same reading, one wins', async () => {
      const e = anExportRecord({ id: uid('exp') });
      await state.exports.create(e);

      const first = await Promise.all(
        ['r1', 'r2', 'r3'].map((r) => state.exports.setHealth(e.id, health(1, r), undefined)),
      );
      expect(first.filter(Boolean)).toHaveLength(1);
      const winner = (await state.exports.get(e.id))?.health;

      expect(await state.exports.setHealth(e.id, health(2, 'r4'), undefined)).toBe(false);
      expect(await state.exports.setHealth(e.id, health(2, 'r4'), 5)).toBe(false);
      expect(await state.exports.setHealth(e.id, health(2, 'r4'), 1)).toBe(true);
      expect(winner?.seq).toBe(1);
      expect((await state.exports.get(e.id))?.health).toEqual(health(2, 'r4'));
    });

    it('leaves the edit version alone, and an edit leaves health alone', async () => {
      const e = anExportRecord({ id: uid('exp') });
      await state.exports.create(e);
      await state.exports.setHealth(e.id, health(1, 'r1'), undefined);

      const revised = await state.exports.revise(e.id, 1, { name: 'Renamed' }, STAMP);

      expect(revised?.version).toBe(2);
      expect(revised?.health).toEqual(health(1, 'r1'));
    });

    it('refuses a missing export', async () => {
      expect(await state.exports.setHealth(uid('exp'), health(1, 'r1'), undefined)).toBe(false);
    });
  });
};
