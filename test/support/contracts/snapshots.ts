import { beforeAll, describe, expect, it } from 'vitest';
import type { State } from '#lib/ports/state.ts';
import { change, readAll, uid } from './helpers.ts';

/** What every `Snapshots` must do: run against the in-memory fake (unit) and DynamoDB Local (integration). */
export const describeSnapshotsContract = (name: string, makeState: () => Promise<State>): void => {
  describe(`${name}: Snapshots`, () => {
    let state: State;
    beforeAll(async () => {
      state = await makeState();
    });

    describe('snapshot', () => {
      it('round-trips joins, leaves and forgets across two applies', async () => {
        const exportId = uid('exp');

        await state.snapshots.apply(exportId, [
          change('ann@example.com', { hash: 'h-ann-1', join: ['seg-a', 'seg-b'] }),
          change('bob@example.com', { hash: 'h-bob-1', email: 'Bob@Example.com', join: ['seg-a'] }),
          change('cy@example.com', { hash: 'h-cy-1', join: ['seg-b'] }),
        ]);
        await state.snapshots.apply(exportId, [
          change('ann@example.com', { hash: 'h-ann-2', leave: ['seg-a'] }),
          change('bob@example.com', { join: ['seg-b'] }),
          change('cy@example.com', { leave: ['seg-b'], forget: true }),
        ]);

        expect(await readAll(state, exportId)).toEqual([
          { key: 'ann@example.com', hash: 'h-ann-2', segmentIds: ['seg-b'] },
          {
            key: 'bob@example.com',
            hash: 'h-bob-1',
            email: 'Bob@Example.com',
            segmentIds: ['seg-a', 'seg-b'],
          },
        ]);
      });

      it("deleting an export's snapshot forgets every key it held, and only its own", async () => {
        const exportId = uid('exp');
        const other = uid('exp');
        const many = Array.from({ length: 60 }, (_, i) =>
          change(`u${i}@example.com`, { hash: `h${i}`, join: ['seg-a'] }),
        );
        await state.snapshots.apply(exportId, many);
        await state.snapshots.apply(other, [change('zed@example.com', { hash: 'z', join: ['seg-a'] })]);

        await state.snapshots.delete(exportId);

        expect(await readAll(state, exportId)).toEqual([]);
        expect((await readAll(state, other)).map((e) => e.key)).toEqual(['zed@example.com']);
      });

      it("pointing a segment at a different list drops its memberships, and only that segment's", async () => {
        const exportId = uid('exp');
        await state.snapshots.setList(exportId, 'seg-a', 'list-1');
        await state.snapshots.setList(exportId, 'seg-b', 'list-2');
        await state.snapshots.apply(exportId, [
          change('ann@example.com', { hash: 'h1', join: ['seg-a', 'seg-b'] }),
          change('bob@example.com', { hash: 'h2', join: ['seg-a'] }),
        ]);

        await state.snapshots.setList(exportId, 'seg-a', 'list-1'); // same list: nothing changes
        expect((await readAll(state, exportId)).map((e) => e.segmentIds)).toEqual([
          ['seg-a', 'seg-b'],
          ['seg-a'],
        ]);

        await state.snapshots.setList(exportId, 'seg-a', 'list-9'); // the list was recreated
        expect(await readAll(state, exportId)).toEqual([
          { key: 'ann@example.com', hash: 'h1', segmentIds: ['seg-b'] },
          { key: 'bob@example.com', hash: 'h2', segmentIds: [] },
        ]);
        expect(await state.snapshots.lists(exportId)).toEqual({ 'seg-a': 'list-9', 'seg-b': 'list-2' });
      });

      it('an uncertain membership reads back as maybe until an accepted join or leave settles it', async () => {
        const exportId = uid('exp');
        await state.snapshots.apply(exportId, [
          change('a@example.com', { hash: 'h1', join: ['seg-1'] }),
          change('b@example.com', { maybe: ['seg-1', 'seg-2'] }),
          change('a@example.com', { maybe: ['seg-1'] }),
        ]);
        expect(await readAll(state, exportId)).toEqual([
          { key: 'a@example.com', hash: 'h1', segmentIds: [], maybeSegmentIds: ['seg-1'] },
          { key: 'b@example.com', hash: '', segmentIds: [], maybeSegmentIds: ['seg-1', 'seg-2'] },
        ]);

        await state.snapshots.apply(exportId, [
          change('a@example.com', { join: ['seg-1'] }),
          change('b@example.com', { leave: ['seg-2'] }),
        ]);
        expect(await readAll(state, exportId)).toEqual([
          { key: 'a@example.com', hash: 'h1', segmentIds: ['seg-1'] },
          { key: 'b@example.com', hash: '', segmentIds: [], maybeSegmentIds: ['seg-1'] },
        ]);
      });

      it('a contact with memberships but no hash reads back with an empty hash', async () => {
        const exportId = uid('exp');

        await state.snapshots.apply(exportId, [change('dee@example.com', { join: ['seg-a'] })]);

        expect(await readAll(state, exportId)).toEqual([
          { key: 'dee@example.com', hash: '', segmentIds: ['seg-a'] },
        ]);
      });

      it('a key changed twice in one apply ends as the last change says', async () => {
        const exportId = uid('exp');

        await state.snapshots.apply(exportId, [
          change('eve@example.com', { hash: 'h1', email: 'Eve@example.com', join: ['seg-a', 'seg-b'] }),
          change('eve@example.com', { hash: 'h2', leave: ['seg-a'] }),
          change('eve@example.com', { join: ['seg-c'] }),
        ]);

        expect(await readAll(state, exportId)).toEqual([
          { key: 'eve@example.com', hash: 'h2', segmentIds: ['seg-b', 'seg-c'] },
        ]);
      });

      it('handles more changes than one write call takes, and keeps exports apart', async () => {
        const exportId = uid('exp');
        const other = uid('exp');
        const keys = Array.from({ length: 130 }, (_, i) => `user${String(i).padStart(3, '0')}@example.com`);

        await state.snapshots.apply(
          exportId,
          keys.map((k, i) => change(k, { hash: `h${i}`, join: i % 2 ? ['seg-a'] : ['seg-a', 'seg-b'] })),
        );
        await state.snapshots.apply(other, [change('zed@example.com', { hash: 'z', join: ['seg-a'] })]);
        await state.snapshots.apply(
          exportId,
          keys.slice(0, 40).map((k) => change(k, { leave: ['seg-a', 'seg-b'], forget: true })),
        );

        const entries = await readAll(state, exportId);
        expect(entries.map((e) => e.key)).toEqual(keys.slice(40));
        expect(entries[0]).toEqual({ key: keys[40], hash: 'h40', segmentIds: ['seg-a', 'seg-b'] });
        expect(entries[1]).toEqual({ key: keys[41], hash: 'h41', segmentIds: ['seg-a'] });
        expect(await readAll(state, other)).toHaveLength(1);
        expect(await readAll(state, uid('exp'))).toEqual([]);
      });

      it('reads back in order: base, then logs as written, staged batches by batch number with their run', async () => {
        const exportId = uid('exp');
        await state.snapshots.apply(exportId, [change('a@example.com', { hash: 'h1', join: ['seg-a'] })]);
        await state.snapshots.stage(exportId, 'run-1', [
          { batchNo: 5, changes: [change('c@example.com', { hash: 'h3', join: ['seg-a'] })] },
        ]);
        await state.snapshots.stage(exportId, 'run-1', [
          { batchNo: 0, changes: [change('b@example.com', { hash: 'h2', join: ['seg-a'] })] },
        ]);
        await state.snapshots.setList(exportId, 'seg-a', 'list-1');
        await state.snapshots.setList(exportId, 'seg-a', 'list-2'); // replaced: a drop log
        await state.snapshots.apply(exportId, [change('a@example.com', { leave: ['seg-a'] })]);

        const records = [];
        for await (const r of state.snapshots.scan(exportId)) records.push(r);

        expect(
          records.map((r) => (r.kind === 'staged' ? `staged ${r.runId} ${r.batches[0]?.batchNo}` : r.kind)),
        ).toEqual(['changes', 'staged run-1 0', 'staged run-1 5', 'drop', 'changes']);
        const stats = await state.snapshots.stats(exportId);
        expect({ logs: stats.logs, staged: stats.stagedRuns, base: stats.baseEntries }).toEqual({
          logs: 4,
          staged: ['run-1'],
          base: 0,
        });
      });

      it("settling freezes a run's ledger answers beside its staged plan", async () => {
        const exportId = uid('exp');
        await state.snapshots.stage(exportId, 'run-9', [
          { batchNo: 0, changes: [change('a@example.com', { hash: 'h1', join: ['seg-a'] })] },
        ]);
        const settlements = new Map([[0, { next: 1, done: true, failed: new Set([0]), tried: true }]]);

        await state.snapshots.settle(exportId, 'run-9', settlements);

        const records = [];
        for await (const r of state.snapshots.scan(exportId)) records.push(r);
        expect(records).toEqual([
          {
            kind: 'staged',
            runId: 'run-9',
            batches: [{ batchNo: 0, changes: [change('a@example.com', { hash: 'h1', join: ['seg-a'] })] }],
            settlements,
          },
        ]);
        expect((await state.snapshots.stats(exportId)).stagedRuns).toEqual([]);
      });

      it('a rebase replaces base and logs by the entries given; one from an older version is refused', async () => {
        const exportId = uid('exp');
        await state.snapshots.apply(exportId, [change('a@example.com', { hash: 'h1', join: ['seg-a'] })]);
        const { version } = await state.snapshots.stats(exportId);
        const entries = Array.from({ length: 300 }, (_, i) => ({
          key: `u${String(i).padStart(3, '0')}@example.com`,
          hash: `h${i}`,
          segmentIds: ['seg-a'],
          ...(i === 7 ? { email: 'U007@example.com', maybeSegmentIds: ['seg-b'] } : {}),
        }));

        await state.snapshots.rebase(exportId, version, entries);

        expect(await readAll(state, exportId)).toEqual(entries);
        const stats = await state.snapshots.stats(exportId);
        expect({ logs: stats.logs, base: stats.baseEntries }).toEqual({ logs: 0, base: 300 });
        await expect(state.snapshots.rebase(exportId, version, [])).rejects.toMatchObject({
          name: 'SnapshotChangedError',
        });
        expect(await readAll(state, exportId)).toHaveLength(300);
      });

      it('keys with separators and non-ASCII characters survive', async () => {
        const exportId = uid('exp');
        const keys = ['a#b@example.com', 'zoë@example.com', 'x@sub.example.com'];

        await state.snapshots.apply(
          exportId,
          keys.map((k) => change(k, { hash: `h:${k}`, join: ['seg#1', 'seg-2'] })),
        );

        const entries = await readAll(state, exportId);
        expect(entries.map((e) => [e.key, e.hash, e.segmentIds])).toEqual(
          [...keys].sort().map((k) => [k, `h:${k}`, ['seg#1', 'seg-2']]),
        );
      });
    });
  });
};
