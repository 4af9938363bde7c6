import { describe, expect, it } from 'vitest';
import { type SnapshotChange, type StagedBatch, settledChanges } from '#lib/domain/snapshot.ts';
import { loadSnapshot, MAX_LOGS, SETTLE_AFTER_MS, snapshotEntries } from '#lib/use-cases/snapshot-view.ts';
import { FakeClock } from '#test/fakes/fake-clock.ts';
import { createInMemoryState } from '#test/fakes/in-memory-state.ts';
import { aBatchOutcome, aRun } from '#test/fixtures/state-records.ts';
import { change } from '#test/support/contracts/helpers.ts';

const join = (key: string, hash = `h:${key}`): SnapshotChange => change(key, { hash, join: ['seg-a'] });
const batch = (batchNo: number, keys: string[]): StagedBatch => ({
  batchNo,
  changes: keys.map((k) => join(k)),
});

describe('settling a staged batch by what its ledger recorded', () => {
  const staged = batch(0, ['a', 'b', 'c', 'd']);

  it('applies accepted items, leaves refused and unrecorded ones uncertain once tried, and nothing untried', () => {
    const partly = { next: 3, done: false, failed: new Set([1]), tried: true };
    expect(settledChanges(staged, partly).map((c) => [c.key, c.hash, c.join, c.maybe ?? []])).toEqual([
      ['a', 'h:a', ['seg-a'], []],
      ['b', null, [], ['seg-a']],
      ['c', 'h:c', ['seg-a'], []],
      ['d', null, [], ['seg-a']],
    ]);
    expect(settledChanges(staged, undefined)).toEqual([]);
    expect(settledChanges(staged, undefined, true).map((c) => c.maybe)).toEqual([
      ['seg-a'],
      ['seg-a'],
      ['seg-a'],
      ['seg-a'],
    ]);
  });

  it('a batch closed early counts results only up to where they end', () => {
    const closed = { next: 4, done: true, resultsTo: 2, failed: new Set<number>(), tried: true };
    expect(settledChanges(staged, closed).map((c) => (c.hash === null ? `maybe ${c.key}` : c.key))).toEqual([
      'a',
      'b',
      'maybe c',
      'maybe d',
    ]);
  });

  it('an update that changes no membership leaves nothing uncertain when it was not accepted', () => {
    const update: StagedBatch = { batchNo: 0, changes: [change('a', { hash: 'h2' })] };
    expect(settledChanges(update, { next: 0, done: false, failed: new Set(), tried: true })).toEqual([]);
  });
});

describe('loading the snapshot: settling and compaction', () => {
  const setup = async () => {
    const clock = new FakeClock({ start: Date.parse('2025-01-01T01:00:00Z'), autoAdvance: false });
    const state = createInMemoryState();
    const deps = { ...state, clock };
    await state.runs.create(aRun({ id: 'run-1', status: 'sending', batchesTotal: 2 }));
    await state.snapshots.stage('exp-1', 'run-1', [batch(0, ['a', 'b']), batch(1, ['c', 'd'])]);
    return { clock, state, deps };
  };

  it("freezes a run's answers only once no delivery can record more, and they stand whatever the ledger does", async () => {
    const { clock, state, deps } = await setup();
    await state.batches.lease('run-1', 0, 'x', new Date(clock.now()).toISOString(), '2099-01-01T00:00:00Z');
    await state.batches.record(
      'run-1',
      0,
      { from: 0, to: 2, final: true },
      { ...aBatchOutcome(), failedItems: [1] },
    );

    await loadSnapshot(deps, 'exp-1', { maintain: true });
    expect((await state.snapshots.stats('exp-1')).stagedRuns).toEqual(['run-1']); // still sending

    await state.runs.transition('run-1', ['sending'], 'failed', {
      finishedAt: new Date(clock.now()).toISOString(),
    });
    await loadSnapshot(deps, 'exp-1', { maintain: true });
    expect((await state.snapshots.stats('exp-1')).stagedRuns).toEqual(['run-1']); // a late delivery may yet record

    clock.advance(SETTLE_AFTER_MS + 1);
    await loadSnapshot(deps, 'exp-1', { maintain: true });
    expect((await state.snapshots.stats('exp-1')).stagedRuns).toEqual([]);

    // A late record after settling changes nothing: the frozen answers are read.
    await state.batches.record(
      'run-1',
      1,
      { from: 0, to: 2, final: true },
      { ...aBatchOutcome(), failedItems: [] },
    );
    expect(
      (await snapshotEntries(deps, 'exp-1')).map((e) => [e.key, e.segmentIds, e.maybeSegmentIds ?? []]),
    ).toEqual([
      ['a', ['seg-a'], []],
      ['b', [], ['seg-a']],
    ]);
  });

  it('a run whose batches are all done settles at once', async () => {
    const { clock, state, deps } = await setup();
    for (const n of [0, 1]) {
      await state.batches.lease('run-1', n, 'x', new Date(clock.now()).toISOString(), '2099-01-01T00:00:00Z');
      await state.batches.record('run-1', n, { from: 0, to: 2, final: true }, aBatchOutcome());
    }
    await state.runs.transition('run-1', ['sending'], 'succeeded', {
      finishedAt: new Date(clock.now()).toISOString(),
    });

    await loadSnapshot(deps, 'exp-1', { maintain: true });

    expect((await state.snapshots.stats('exp-1')).stagedRuns).toEqual([]);
    expect((await snapshotEntries(deps, 'exp-1')).map((e) => e.key)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('a small re-run writes in proportion to its changes; many logs are folded into one base, same entries', async () => {
    const { clock, state, deps } = await setup();
    await state.runs.transition('run-1', ['sending'], 'succeeded', {
      finishedAt: new Date(clock.now()).toISOString(),
    });
    clock.advance(SETTLE_AFTER_MS + 1);
    await loadSnapshot(deps, 'exp-1', { maintain: true });
    expect((await state.snapshots.stats('exp-1')).baseEntries).toBe(0); // one log: no rebase

    for (let i = 1; i < MAX_LOGS; i++) await state.snapshots.apply('exp-1', [join(`k${i}`)]);
    const before = await snapshotEntries(deps, 'exp-1');
    expect((await state.snapshots.stats('exp-1')).logs).toBe(MAX_LOGS);

    await loadSnapshot(deps, 'exp-1', { maintain: true });

    const stats = await state.snapshots.stats('exp-1');
    expect({ logs: stats.logs, base: stats.baseEntries }).toEqual({ logs: 0, base: before.length });
    expect(await snapshotEntries(deps, 'exp-1')).toEqual(before);
  });

  it('a dry run reads without writing', async () => {
    const { clock, state, deps } = await setup();
    await state.runs.transition('run-1', ['sending'], 'succeeded', {
      finishedAt: new Date(clock.now()).toISOString(),
    });
    clock.advance(SETTLE_AFTER_MS + 1);
    const { version } = await state.snapshots.stats('exp-1');

    await loadSnapshot(deps, 'exp-1', { maintain: false });

    expect((await state.snapshots.stats('exp-1')).version).toBe(version);
  });
});
