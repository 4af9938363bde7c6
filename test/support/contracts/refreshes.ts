import { beforeAll, describe, expect, it } from 'vitest';
import type { RefreshEntry } from '#lib/ports/refreshes.ts';
import type { State } from '#lib/ports/state.ts';
import { uid } from './helpers.ts';

const aRefresh = (patch: Partial<RefreshEntry> = {}): RefreshEntry => ({
  refreshId: uid('refresh'),
  createdAt: '2026-12-03T06:00:00Z',
  segmentIds: [uid('seg')],
  arrivedAt: '2026-12-03T06:05:00.000Z',
  ...patch,
});

/** What every `Refreshes` must do: run against the in-memory fake (unit) and DynamoDB Local (integration). */
export const describeRefreshesContract = (name: string, makeState: () => Promise<State>): void => {
  describe(`${name}: Refreshes`, () => {
    let state: State;
    beforeAll(async () => {
      state = await makeState();
    });

    it('records a refresh id once: a re-upload answers seen and the first record stands', async () => {
      const first = aRefresh();
      const onlyInCopy = uid('seg');

      expect(await state.refreshes.record(first)).toBe('new');
      expect(
        await state.refreshes.record({
          ...first,
          segmentIds: [...first.segmentIds, onlyInCopy],
          arrivedAt: '2026-12-03T07:00:00.000Z',
        }),
      ).toBe('seen');

      expect(await state.refreshes.newestFor(onlyInCopy)).toBeUndefined();
    });

    it('of concurrent arrivals of one refresh, exactly one is new', async () => {
      const refresh = aRefresh();
      const answers = await Promise.all([1, 2, 3, 4].map(() => state.refreshes.record(refresh)));
      expect(answers.filter((a) => a === 'new')).toHaveLength(1);
    });

    it('finds no refresh for a segment none holds', async () => {
      expect(await state.refreshes.newestFor(uid('seg'))).toBeUndefined();
    });

    it('the newest refresh holding a segment is the latest created, whatever order they arrived in', async () => {
      const vip = uid('seg');
      const older = aRefresh({ createdAt: '2026-12-02T06:00:00Z', segmentIds: [vip] });
      const newer = aRefresh({ createdAt: '2026-12-03T06:00:00Z', segmentIds: [vip, uid('seg')] });
      const newestWithout = aRefresh({ createdAt: '2026-12-04T06:00:00Z' });

      await state.refreshes.record(newer);
      await state.refreshes.record(older);
      await state.refreshes.record(newestWithout);

      expect(await state.refreshes.newestFor(vip)).toEqual({
        refreshId: newer.refreshId,
        createdAt: newer.createdAt,
      });
    });

    it('compares creation times as instants, not as text', async () => {
      const vip = uid('seg');
      // 08:00+02:00 is 06:00Z: earlier than 07:00Z although its text sorts after it.
      const early = aRefresh({ createdAt: '2026-12-03T08:00:00+02:00', segmentIds: [vip] });
      const late = aRefresh({ createdAt: '2026-12-03T07:00:00Z', segmentIds: [vip] });

      await state.refreshes.record(late);
      await state.refreshes.record(early);

      expect(await state.refreshes.newestFor(vip)).toEqual({
        refreshId: late.refreshId,
        createdAt: late.createdAt,
      });
    });

    it('two refreshes created at the same instant: the greater refresh id is the newest', async () => {
      const vip = uid('seg');
      const base = uid('refresh');
      const a = aRefresh({ refreshId: `${base}-a`, segmentIds: [vip] });
      const b = aRefresh({
        refreshId: `${base}-b`,
        createdAt: '2026-12-03T06:00:00.000Z',
        segmentIds: [vip],
      });

      await state.refreshes.record(b);
      await state.refreshes.record(a);

      expect(await state.refreshes.newestFor(vip)).toEqual({
        refreshId: b.refreshId,
        createdAt: b.createdAt,
      });
    });

    it('every segment of a large refresh finds it, ids with "#" included', async () => {
      const segmentIds = Array.from({ length: 60 }, (_, i) => `${uid('seg')}#part#${i}`);
      const refresh = aRefresh({ segmentIds });

      expect(await state.refreshes.record(refresh)).toBe('new');

      for (const id of segmentIds) {
        expect(await state.refreshes.newestFor(id)).toEqual({
          refreshId: refresh.refreshId,
          createdAt: refresh.createdAt,
        });
      }
      expect(await state.refreshes.newestFor(`${segmentIds[0]}#`)).toBeUndefined();
    });
  });
};
