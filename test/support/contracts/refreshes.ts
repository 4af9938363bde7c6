import { beforeAll, describe, expect, it } from 'vitest';
import type { RefreshEntry, RefreshSegmentFacts } from '#lib/ports/refreshes.ts';
import type { State } from '#lib/ports/state.ts';
import { uid } from './helpers.ts';

type Complete = Extract<RefreshEntry, { outcome: 'complete' }>;

const facts = (id: string, patch: Partial<RefreshSegmentFacts> = {}): RefreshSegmentFacts => ({
  id,
  name: `Segment ${id}`,
  profiles: 120,
  attributes: ['email', 'first_name'],
  ...patch,
});

const aRefresh = (
  patch: Partial<Omit<Complete, 'segments'>> & {
    segmentIds?: string[];
    segments?: RefreshSegmentFacts[];
  } = {},
): Complete => {
  const { segmentIds, ...rest } = patch;
  return {
    refreshId: uid('refresh'),
    outcome: 'complete',
    createdAt: '2026-12-03T06:00:00Z',
    arrivedAt: '2026-12-03T06:05:00.000Z',
    segments: (segmentIds ?? [uid('seg')]).map((id) => facts(id)),
    ...rest,
  };
};

const newest = (refresh: Complete, segmentId: string) => ({
  refreshId: refresh.refreshId,
  createdAt: refresh.createdAt,
  segment: refresh.segments.find((s) => s.id === segmentId),
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
          segments: [...first.segments, facts(onlyInCopy)],
          arrivedAt: '2026-12-03T07:00:00.000Z',
        }),
      ).toBe('seen');

      expect(await state.refreshes.newestFor(onlyInCopy)).toBeUndefined();
      expect(await state.refreshes.get(first.refreshId)).toEqual({
        refreshId: first.refreshId,
        outcome: 'complete',
        createdAt: first.createdAt,
        arrivedAt: first.arrivedAt,
        segmentIds: first.segments.map((s) => s.id),
      });
    });

    it('of concurrent arrivals of one refresh, exactly one is new', async () => {
      const refresh = aRefresh();
      const answers = await Promise.all([1, 2, 3, 4].map(() => state.refreshes.record(refresh)));
      expect(answers.filter((a) => a === 'new')).toHaveLength(1);
    });

    it('knows no refresh it never recorded, and no refresh for a segment none holds', async () => {
      expect(await state.refreshes.get(uid('refresh'))).toBeUndefined();
      expect(await state.refreshes.newestFor(uid('seg'))).toBeUndefined();
    });

    it('the newest refresh holding a segment is the latest created, whatever order they arrived in', async () => {
      const vip = uid('seg');
      const older = aRefresh({ createdAt: '2026-12-02T06:00:00Z', segmentIds: [vip] });
      const newer = aRefresh({
        createdAt: '2026-12-03T06:00:00Z',
        segments: [facts(vip, { profiles: 7, attributes: ['email'] }), facts(uid('seg'))],
      });
      const newestWithout = aRefresh({ createdAt: '2026-12-04T06:00:00Z' });

      await state.refreshes.record(newer);
      await state.refreshes.record(older);
      await state.refreshes.record(newestWithout);

      expect(await state.refreshes.newestFor(vip)).toEqual({
        refreshId: newer.refreshId,
        createdAt: newer.createdAt,
        segment: { id: vip, name: `Segment ${vip}`, profiles: 7, attributes: ['email'] },
      });
    });

    it('compares creation times as instants, not as text', async () => {
      const vip = uid('seg');
      // 08:00+02:00 is 06:00Z: earlier than 07:00Z although its text sorts after it.
      const early = aRefresh({ createdAt: '2026-12-03T08:00:00+02:00', segmentIds: [vip] });
      const late = aRefresh({ createdAt: '2026-12-03T07:00:00Z', segmentIds: [vip] });

      await state.refreshes.record(late);
      await state.refreshes.record(early);

      expect(await state.refreshes.newestFor(vip)).toEqual(newest(late, vip));
      expect((await state.refreshes.latestSegments()).find((s) => s.segment.id === vip)).toEqual(
        newest(late, vip),
      );
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

      expect(await state.refreshes.newestFor(vip)).toEqual(newest(b, vip));
    });

    it('every segment of a large refresh finds it, ids with "#" included', async () => {
      const segmentIds = Array.from({ length: 60 }, (_, i) => `${uid('seg')}#part#${i}`);
      const refresh = aRefresh({ segmentIds });

      expect(await state.refreshes.record(refresh)).toBe('new');

      for (const id of segmentIds) expect(await state.refreshes.newestFor(id)).toEqual(newest(refresh, id));
      expect(await state.refreshes.newestFor(`${segmentIds[0]}#`)).toBeUndefined();
    });

    it('a rejected refresh is recorded once with its reasons and never becomes a segment’s refresh', async () => {
      const vip = uid('seg');
      const complete = aRefresh({ createdAt: '2026-12-02T06:00:00Z', segmentIds: [vip] });
      await state.refreshes.record(complete);
      const rejected: RefreshEntry = {
        refreshId: uid('refresh'),
        outcome: 'rejected',
        createdAt: '2026-12-05T06:00:00Z',
        arrivedAt: '2026-12-05T06:01:00.000Z',
        reasons: ['segments[0].files[0] (vip.csv).rows: declared 3, the file has 2'],
      };

      expect(await state.refreshes.record(rejected)).toBe('new');
      expect(await state.refreshes.record({ ...rejected, reasons: ['another'] })).toBe('seen');
      // A later upload of the same id that would now pass does not undo the rejection.
      expect(
        await state.refreshes.record(aRefresh({ refreshId: rejected.refreshId, segmentIds: [vip] })),
      ).toBe('seen');

      expect(await state.refreshes.get(rejected.refreshId)).toEqual({
        refreshId: rejected.refreshId,
        outcome: 'rejected',
        createdAt: '2026-12-05T06:00:00Z',
        arrivedAt: '2026-12-05T06:01:00.000Z',
        segmentIds: [],
        reasons: rejected.reasons,
      });
      expect(await state.refreshes.newestFor(vip)).toEqual(newest(complete, vip));
      expect((await state.refreshes.latestSegments()).find((s) => s.segment.id === vip)).toEqual(
        newest(complete, vip),
      );
    });

    it('a rejected refresh whose manifest could not be read is recorded without a creation time', async () => {
      const refreshId = uid('refresh');
      await state.refreshes.record({
        refreshId,
        outcome: 'rejected',
        arrivedAt: '2026-12-05T06:01:00.000Z',
        reasons: ['(root): not valid JSON'],
      });
      expect(await state.refreshes.get(refreshId)).toEqual({
        refreshId,
        outcome: 'rejected',
        arrivedAt: '2026-12-05T06:01:00.000Z',
        segmentIds: [],
        reasons: ['(root): not valid JSON'],
      });
    });

    it('the catalog holds each segment once, with its newest complete refresh, ordered by segment id', async () => {
      const prefix = uid('cat');
      const [a, b, c] = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`];
      const first = aRefresh({
        createdAt: '2026-12-01T06:00:00Z',
        segments: [facts(a, { profiles: 1 }), facts(b, { profiles: 1 })],
      });
      const second = aRefresh({
        createdAt: '2026-12-02T06:00:00Z',
        segments: [facts(b, { profiles: 2, attributes: [] }), facts(c, { profiles: 2 })],
      });

      await state.refreshes.record(second);
      await state.refreshes.record(first);

      const mine = (await state.refreshes.latestSegments()).filter((s) => s.segment.id.startsWith(prefix));
      expect(mine).toEqual([newest(first, a), newest(second, b), newest(second, c)]);
    });

    it('of refreshes of one segment recorded at once, the catalog keeps the newest', async () => {
      const vip = uid('seg');
      const refreshes = Array.from({ length: 6 }, (_, i) =>
        aRefresh({ createdAt: `2026-12-0${i + 1}T06:00:00Z`, segments: [facts(vip, { profiles: i })] }),
      );

      await Promise.all(refreshes.map((r) => state.refreshes.record(r)));

      const last = refreshes[5] as Complete;
      expect((await state.refreshes.latestSegments()).filter((s) => s.segment.id === vip)).toEqual([
        newest(last, vip),
      ]);
    });

    it('one arrival at a time holds a refresh’s follow-up: free, expired or its own', async () => {
      const refresh = aRefresh();
      const id = refresh.refreshId;
      await state.refreshes.record(refresh);
      const at = (minute: number) => `2026-12-03T06:${String(minute).padStart(2, '0')}:00.000Z`;

      expect(await state.refreshes.lease(id, 'event-1', at(5), at(10))).toBe(true);
      expect(await state.refreshes.lease(id, 'event-2', at(6), at(11))).toBe(false);
      expect(await state.refreshes.lease(id, 'event-1', at(7), at(12))).toBe(true);
      expect(await state.refreshes.lease(id, 'event-2', at(11), at(16))).toBe(false);
      expect(await state.refreshes.lease(id, 'event-2', at(13), at(18))).toBe(true);
    });

    it('a settled refresh, or one never recorded, cannot be leased', async () => {
      const refresh = aRefresh();
      const id = refresh.refreshId;
      await state.refreshes.record(refresh);
      expect(
        await state.refreshes.lease(id, 'event-1', '2026-12-03T06:05:00.000Z', '2026-12-03T06:10:00.000Z'),
      ).toBe(true);

      await state.refreshes.settle(id, '2026-12-03T06:06:00.000Z');
      await state.refreshes.settle(id, '2026-12-03T06:07:00.000Z');

      expect(await state.refreshes.get(id)).toMatchObject({ settledAt: '2026-12-03T06:06:00.000Z' });
      for (const holder of ['event-1', 'event-2']) {
        expect(
          await state.refreshes.lease(id, holder, '2026-12-03T07:00:00.000Z', '2026-12-03T07:05:00.000Z'),
        ).toBe(false);
      }
      expect(
        await state.refreshes.lease(
          uid('refresh'),
          'event-1',
          '2026-12-03T07:00:00.000Z',
          '2026-12-03T07:05:00.000Z',
        ),
      ).toBe(false);
    });

    it('a rejected refresh’s follow-up is leased and settled like a complete one’s', async () => {
      const refreshId = uid('refresh');
      await state.refreshes.record({
        refreshId,
        outcome: 'rejected',
        arrivedAt: '2026-12-05T06:01:00.000Z',
        reasons: ['x'],
      });

      expect(
        await state.refreshes.lease(
          refreshId,
          'event-1',
          '2026-12-05T06:01:00.000Z',
          '2026-12-05T06:06:00.000Z',
        ),
      ).toBe(true);
      await state.refreshes.settle(refreshId, '2026-12-05T06:02:00.000Z');

      expect(await state.refreshes.get(refreshId)).toMatchObject({
        outcome: 'rejected',
        settledAt: '2026-12-05T06:02:00.000Z',
      });
    });
  });
};
