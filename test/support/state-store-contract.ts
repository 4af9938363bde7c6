import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SnapshotChange, StateStore, StoredSnapshotEntry } from '#lib/ports/state-store.ts';
import { aBatchOutcome, aConnection, anExportRecord, aRun } from '#test/fixtures/state-records.ts';

const uid = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;

/** A whole batch recorded in one go. */
const whole = { from: 0, to: 100, final: true } as const;

const change = (key: string, patch: Partial<SnapshotChange> = {}): SnapshotChange => ({
  key,
  hash: null,
  join: [],
  leave: [],
  forget: false,
  ...patch,
});

const readAll = async (store: StateStore, exportId: string): Promise<StoredSnapshotEntry[]> => {
  const entries: StoredSnapshotEntry[] = [];
  for await (const e of store.readSnapshot(exportId)) {
    entries.push({
      ...e,
      segmentIds: [...e.segmentIds].sort(),
      ...(e.maybeSegmentIds ? { maybeSegmentIds: [...e.maybeSegmentIds].sort() } : {}),
    });
  }
  return entries.sort((a, b) => (a.key < b.key ? -1 : 1));
};

/** A JSON document of roughly `bytes` characters that does not compress to nothing. */
const bulkyJson = (bytes: number): string => {
  const rows: { email: string; h: string; n: number }[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const row = { email: `${randomUUID()}@example.com`, h: randomUUID().replaceAll('-', ''), n: i };
    size += JSON.stringify(row).length + 1;
    rows.push(row);
  }
  return JSON.stringify({ v: 1, rows });
};

/**
 * The semantics every `StateStore` must have. Run against the in-memory fake (unit) and DynamoDB
 * Local (integration), so the fake the use-case tests rely on is proven faithful. Every test uses
 * fresh ids, so `makeStore` may hand out one shared store.
 */
export const describeStateStoreContract = (name: string, makeStore: () => Promise<StateStore>): void => {
  describe(`${name} (StateStore contract)`, () => {
    let store: StateStore;
    beforeAll(async () => {
      store = await makeStore();
    });

    describe('connections', () => {
      it('creates a connection once and refuses a second create', async () => {
        const c = aConnection({ id: uid('conn') });

        expect(await store.putConnection(c, { expectNew: true })).toBe(true);
        expect(await store.putConnection({ ...c, displayName: 'Other' }, { expectNew: true })).toBe(false);

        expect(await store.getConnection(c.id)).toEqual(c);
      });

      it('updates only when the stored version is the expected one', async () => {
        const c = aConnection({ id: uid('conn') });
        await store.putConnection(c, { expectNew: true });

        const stale = await store.putConnection(
          { ...c, displayName: 'Stale', version: 2 },
          { expectVersion: 7 },
        );
        const fresh = await store.putConnection(
          { ...c, displayName: 'Fresh', version: 2 },
          { expectVersion: 1 },
        );
        const missing = await store.putConnection(aConnection({ id: uid('conn') }), { expectVersion: 1 });

        expect([stale, fresh, missing]).toEqual([false, true, false]);
        expect(await store.getConnection(c.id)).toMatchObject({ displayName: 'Fresh', version: 2 });
      });

      it('lists and deletes connections', async () => {
        const a = aConnection({ id: uid('conn') });
        const b = aConnection({ id: uid('conn') });
        await store.putConnection(a, { expectNew: true });
        await store.putConnection(b, { expectNew: true });

        await store.deleteConnection(a.id);

        const ids = (await store.listConnections()).map((c) => c.id);
        expect(ids).toContain(b.id);
        expect(ids).not.toContain(a.id);
        expect(await store.getConnection(a.id)).toBeUndefined();
      });

      it("flags a connection without touching the user's version, and a user's edit cannot undo the flag", async () => {
        const c = aConnection({ id: uid('conn') });
        await store.putConnection(c, { expectNew: true });

        await store.setConnectionStatus(c.id, 'invalid_key');
        await store.setConnectionStatus(uid('missing'), 'invalid_key');

        expect(await store.getConnection(c.id)).toMatchObject({ status: 'invalid_key', version: 1 });
        // An edit made from the read before the flag succeeds, and leaves the flag (and the probe's answer) alone.
        const edited = { ...c, displayName: 'Renamed', status: 'active' as const, version: 2 };
        expect(await store.putConnection(edited, { expectVersion: 1 })).toBe(true);
        expect(await store.getConnection(c.id)).toMatchObject({
          displayName: 'Renamed',
          status: 'invalid_key',
          bulkMembership: c.bulkMembership,
          version: 2,
        });
      });
    });

    describe('bulk-membership probe', () => {
      it('a reset forgets the answer, its confirmation and any claim', async () => {
        const c = aConnection({
          id: uid('conn'),
          bulkMembership: {
            state: 'supported',
            checkedAt: '2025-01-01T00:00:00.000Z',
            verifiedRun: 'run-a',
            probe: { claimant: 'run-b#0', startedAt: '2025-01-01T00:00:00.000Z' },
          },
        });
        await store.putConnection(c, { expectNew: true });
        await store.resetBulkMembership(c.id);
        expect((await store.getConnection(c.id))?.bulkMembership).toEqual({ state: 'unknown' });
      });

      const T0 = '2025-01-01T10:00:00.000Z';
      const T1 = '2025-01-01T10:05:00.000Z';
      const T2 = '2025-01-01T11:00:00.000Z';
      const times = (
        now: string,
        claimStaleBefore: string,
        answerStaleBefore = '2024-12-25T00:00:00.000Z',
        forRun = 'run-x',
      ) => ({
        now,
        claimStaleBefore,
        answerStaleBefore,
        forRun,
      });

      it('lets one batch probe at a time, its own retry again, and another take over a stale claim', async () => {
        const c = aConnection({ id: uid('conn') });
        await store.putConnection(c, { expectNew: true });

        const first = await store.claimProbe(c.id, 'run-a#0', times(T0, '2025-01-01T09:30:00.000Z'));
        const sameRunOtherBatch = await store.claimProbe(
          c.id,
          'run-a#1',
          times(T1, '2025-01-01T09:35:00.000Z'),
        );
        const again = await store.claimProbe(c.id, 'run-a#0', times(T1, '2025-01-01T09:35:00.000Z'));
        const takeover = await store.claimProbe(c.id, 'run-b#0', times(T2, '2025-01-01T10:30:00.000Z'));
        const missing = await store.claimProbe(uid('conn'), 'run-a#0', times(T0, T0));

        expect([first, sameRunOtherBatch, again, takeover, missing]).toEqual([
          true,
          false,
          true,
          true,
          false,
        ]);
        expect((await store.getConnection(c.id))?.bulkMembership).toEqual({
          state: 'unknown',
          probe: { claimant: 'run-b#0', startedAt: T2 },
        });
      });

      it('refuses a claim once an answer is known and fresh, and allows a re-check when it is stale', async () => {
        const c = aConnection({ id: uid('conn') });
        await store.putConnection(c, { expectNew: true });
        expect(await store.claimProbe(c.id, 'run-a#0', times(T0, T0))).toBe(true);
        await store.settleProbe(c.id, 'run-a#0', 'unsupported', T0);

        // A batch that read the connection before the answer landed must not probe again.
        expect(await store.claimProbe(c.id, 'run-a#1', times(T1, T0, '2024-12-25T00:00:00.000Z'))).toBe(
          false,
        );
        // A week later the answer is stale: one re-check may start.
        expect(await store.claimProbe(c.id, 'run-c#0', times(T2, T1, '2025-01-01T10:30:00.000Z'))).toBe(true);
      });

      it('records the answer only from the claimant holding the claim', async () => {
        const c = aConnection({ id: uid('conn') });
        await store.putConnection(c, { expectNew: true });
        await store.claimProbe(c.id, 'run-a#0', times(T0, T0));

        await store.settleProbe(c.id, 'run-b#0', 'unsupported', T1);
        expect((await store.getConnection(c.id))?.bulkMembership.state).toBe('unknown');

        await store.settleProbe(c.id, 'run-a#0', 'supported', T1, 'run-a');
        const after = await store.getConnection(c.id);
        expect(after?.bulkMembership).toEqual({ state: 'supported', checkedAt: T1, verifiedRun: 'run-a' });
        expect(after?.version).toBe(1);
      });

      it("a fresh 'supported' answer is confirmed once by each run: its own run may not probe again, another may", async () => {
        const c = aConnection({ id: uid('conn') });
        await store.putConnection(c, { expectNew: true });
        await store.claimProbe(c.id, 'run-a#0', times(T0, T0, undefined, 'run-a'));
        await store.settleProbe(c.id, 'run-a#0', 'supported', T0, 'run-a');

        expect(await store.claimProbe(c.id, 'run-a#1', times(T1, T0, undefined, 'run-a'))).toBe(false);
        expect(await store.claimProbe(c.id, 'run-b#0', times(T1, T0, undefined, 'run-b'))).toBe(true);
        await store.settleProbe(c.id, 'run-b#0', 'unsupported', T2, 'run-b');
        // A refuted belief forgets which run had confirmed it.
        expect((await store.getConnection(c.id))?.bulkMembership).toEqual({
          state: 'unsupported',
          checkedAt: T2,
        });
      });

      it("an 'unknown' answer releases the claim and keeps what was known", async () => {
        const c = aConnection({ id: uid('conn'), bulkMembership: { state: 'unsupported', checkedAt: T0 } });
        await store.putConnection(c, { expectNew: true });
        await store.claimProbe(c.id, 'run-a#0', times(T1, T0, T1));

        await store.settleProbe(c.id, 'run-a#0', 'unknown', T2);

        expect((await store.getConnection(c.id))?.bulkMembership).toEqual({
          state: 'unsupported',
          checkedAt: T0,
        });
        expect(await store.claimProbe(c.id, 'run-b#0', times(T2, T0, T1))).toBe(true);
      });
    });

    describe('exports and the one-active-run lock', () => {
      it('creates an export once, applies the schema defaults on read, and honours the version', async () => {
        const e = anExportRecord({ id: uid('exp') });

        expect(await store.putExport(e, { expectNew: true })).toBe(true);
        expect(await store.putExport(e, { expectNew: true })).toBe(false);
        expect(await store.putExport({ ...e, name: 'Renamed', version: 2 }, { expectVersion: 2 })).toBe(
          false,
        );
        expect(await store.putExport({ ...e, name: 'Renamed', version: 2 }, { expectVersion: 1 })).toBe(true);

        expect(await store.getExport(e.id)).toEqual({ ...e, name: 'Renamed', version: 2 });
      });

      it('deletes an export once, and only while its run lock is as the caller saw it', async () => {
        const e = anExportRecord({ id: uid('exp') });
        await store.putExport(e, { expectNew: true });
        await store.claimActiveRun(e.id, 'r1');

        expect(await store.deleteExport(e.id, { activeRunId: undefined })).toBe(false);
        expect(await store.deleteExport(e.id, { activeRunId: 'r0' })).toBe(false);
        const concurrent = await Promise.all(
          [1, 2, 3].map(() => store.deleteExport(e.id, { activeRunId: 'r1' })),
        );

        expect(concurrent.filter(Boolean)).toHaveLength(1);
        expect(await store.getExport(e.id)).toBeUndefined();
        expect(await store.deleteExport(uid('exp'))).toBe(false);
      });

      it('lists and deletes exports', async () => {
        const a = anExportRecord({ id: uid('exp') });
        const b = anExportRecord({ id: uid('exp') });
        await store.putExport(a, {});
        await store.putExport(b, {});

        await store.deleteExport(b.id);

        const ids = (await store.listExports()).map((e) => e.id);
        expect(ids).toContain(a.id);
        expect(ids).not.toContain(b.id);
        expect(await store.getExport(b.id)).toBeUndefined();
      });

      it('concurrent claims of the active-run lock have exactly one winner', async () => {
        const e = anExportRecord({ id: uid('exp') });
        await store.putExport(e, { expectNew: true });

        const wins = await Promise.all(
          ['r1', 'r2', 'r3', 'r4', 'r5'].map((r) => store.claimActiveRun(e.id, r)),
        );

        expect(wins.filter(Boolean)).toHaveLength(1);
        const winner = ['r1', 'r2', 'r3', 'r4', 'r5'][wins.indexOf(true)];
        expect((await store.getExport(e.id))?.activeRunId).toBe(winner);
      });

      it('takes the lock over only from the named dead run; the holder may re-claim', async () => {
        const e = anExportRecord({ id: uid('exp') });
        await store.putExport(e, { expectNew: true });
        await store.claimActiveRun(e.id, 'r1');

        const wrongVictim = await store.claimActiveRun(e.id, 'r2', 'r0');
        const reclaim = await store.claimActiveRun(e.id, 'r1');
        const takeover = await store.claimActiveRun(e.id, 'r2', 'r1');
        const missing = await store.claimActiveRun(uid('exp'), 'r1');

        expect([wrongVictim, reclaim, takeover, missing]).toEqual([false, true, true, false]);
        expect((await store.getExport(e.id))?.activeRunId).toBe('r2');
      });

      it('releases the lock held by the run and records it as the last run', async () => {
        const e = anExportRecord({ id: uid('exp') });
        await store.putExport(e, { expectNew: true });
        await store.claimActiveRun(e.id, 'r1');
        const lastRun = { runId: 'r1', status: 'succeeded' as const, finishedAt: '2025-01-01T01:00:00.000Z' };

        await store.releaseActiveRun(e.id, 'r1', lastRun);

        const after = await store.getExport(e.id);
        expect(after?.activeRunId).toBeUndefined();
        expect(after?.lastRun).toEqual(lastRun);
        expect(await store.claimActiveRun(e.id, 'r2')).toBe(true);
      });

      it('a run that does not hold the lock records itself as last run but leaves the lock alone', async () => {
        const e = anExportRecord({ id: uid('exp') });
        await store.putExport(e, { expectNew: true });
        await store.claimActiveRun(e.id, 'r1');

        await store.releaseActiveRun(e.id, 'r2', { runId: 'r2', status: 'skipped' });

        expect(await store.getExport(e.id)).toMatchObject({ activeRunId: 'r1', lastRun: { runId: 'r2' } });
      });

      it("lock changes leave the user's version alone, and an edit from an older read cannot drop the lock", async () => {
        const e = anExportRecord({ id: uid('exp') });
        await store.putExport(e, { expectNew: true });

        await store.claimActiveRun(e.id, 'r1');
        await store.claimActiveRun(e.id, 'd1', undefined, 'dry-run');

        expect(await store.getExport(e.id)).toMatchObject({
          version: 1,
          activeRunId: 'r1',
          activeDryRunId: 'd1',
        });
        expect(await store.putExport({ ...e, name: 'Edited', version: 2 }, { expectVersion: 1 })).toBe(true);
        expect(await store.getExport(e.id)).toMatchObject({
          name: 'Edited',
          version: 2,
          activeRunId: 'r1',
          activeDryRunId: 'd1',
        });
      });

      it('the dry-run lock is separate from the run lock, and a dry run is never recorded as the last run', async () => {
        const e = anExportRecord({ id: uid('exp') });
        await store.putExport(e, { expectNew: true });

        expect(await store.claimActiveRun(e.id, 'r1')).toBe(true);
        expect(await store.claimActiveRun(e.id, 'd1', undefined, 'dry-run')).toBe(true);
        expect(await store.claimActiveRun(e.id, 'd2', undefined, 'dry-run')).toBe(false);
        await store.releaseActiveRun(e.id, 'd1', undefined, 'dry-run');

        const after = await store.getExport(e.id);
        expect(after?.activeRunId).toBe('r1');
        expect(after?.activeDryRunId).toBeUndefined();
        expect(after?.lastRun).toBeUndefined();
        expect(await store.claimActiveRun(e.id, 'd2', undefined, 'dry-run')).toBe(true);
      });
    });

    describe('runs', () => {
      it('creates a run once and reads it back', async () => {
        const run = aRun({ id: uid('run') });

        await store.createRun(run);

        expect(await store.getRun(run.id)).toEqual(run);
        await expect(store.createRun(run)).rejects.toThrow(run.id);
        expect(await store.getRun(uid('run'))).toBeUndefined();
      });

      it('lists an export’s runs newest first, page by page', async () => {
        const exportId = uid('exp');
        const ids = [1, 2, 3, 4, 5].map((n) => `run-${n}-${exportId}`);
        for (const [i, id] of ids.entries()) {
          await store.createRun(aRun({ id, exportId, createdAt: `2025-01-0${i + 1}T00:00:00.000Z` }));
        }
        await store.createRun(aRun({ id: uid('run'), exportId: uid('exp') }));

        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await store.listRuns(exportId, 2, cursor);
          seen.push(...page.runs.map((r) => r.id));
          cursor = page.next;
          pages += 1;
        } while (cursor && pages < 10);

        expect(seen).toEqual([...ids].reverse());
        expect(pages).toBe(3);
        expect(await store.listRuns(uid('exp'), 10)).toEqual({ runs: [] });
      });

      it('refuses a cursor it did not hand out with a validation error naming the cursor', async () => {
        await expect(store.listRuns(uid('exp'), 10, 'garbage')).rejects.toMatchObject({
          name: 'ValidationError',
          issues: [{ path: 'cursor', reason: expect.any(String) }],
        });
      });

      it('orders runs created in the same millisecond by id', async () => {
        const exportId = uid('exp');
        await store.createRun(aRun({ id: `b-${exportId}`, exportId }));
        await store.createRun(aRun({ id: `a-${exportId}`, exportId }));

        const { runs, next } = await store.listRuns(exportId, 5);

        expect(runs.map((r) => r.id)).toEqual([`b-${exportId}`, `a-${exportId}`]);
        expect(next).toBeUndefined();
      });

      it('refuses a transition from a status the run is not in', async () => {
        const run = aRun({ id: uid('run'), status: 'planning' });
        await store.createRun(run);

        expect(await store.transitionRun(run.id, ['sending'], 'succeeded')).toBe(false);
        expect(await store.transitionRun(uid('run'), ['planning'], 'failed')).toBe(false);
        expect(await store.transitionRun(run.id, [], 'failed')).toBe(false);

        expect((await store.getRun(run.id))?.status).toBe('planning');
      });

      it('moves a run and applies the patch', async () => {
        const run = aRun({ id: uid('run'), status: 'planning' });
        await store.createRun(run);

        const moved = await store.transitionRun(run.id, ['planning', 'sending'], 'failed', {
          reason: 'The cap of 10 contacts was exceeded',
          finishedAt: '2025-01-01T00:01:00.000Z',
          durationMs: 60_000,
        });

        expect(moved).toBe(true);
        expect(await store.getRun(run.id)).toMatchObject({
          status: 'failed',
          reason: 'The cap of 10 contacts was exceeded',
          durationMs: 60_000,
        });
      });

      it('finalisation race: of two concurrent transitions out of sending exactly one wins', async () => {
        const run = aRun({ id: uid('run'), status: 'sending' });
        await store.createRun(run);

        const results = await Promise.all([
          store.transitionRun(run.id, ['sending'], 'succeeded'),
          store.transitionRun(run.id, ['sending'], 'completed_with_errors'),
        ]);

        expect(results.filter(Boolean)).toHaveLength(1);
        const status = (await store.getRun(run.id))?.status;
        expect(status).toBe(results[0] ? 'succeeded' : 'completed_with_errors');
      });

      it('completing planning records totals and leaves the status to the caller', async () => {
        const run = aRun({ id: uid('run'), status: 'sending' });
        await store.createRun(run);
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

        await store.savePlanning(run.id, { planning: { ...planning, added: 1 }, estimate });
        await store.completePlanning(run.id, {
          planning,
          estimate,
          planningFinishedAt: '2025-01-01T00:00:30.000Z',
        });

        expect(await store.getRun(run.id)).toEqual({
          ...run,
          planningDone: true,
          planning,
          estimate,
          planningFinishedAt: '2025-01-01T00:00:30.000Z',
        });
      });

      it('records a cancellation request', async () => {
        const run = aRun({ id: uid('run'), status: 'sending' });
        await store.createRun(run);

        await store.requestCancel(run.id);

        expect(await store.getRun(run.id)).toMatchObject({ status: 'sending', cancelRequested: true });
      });

      it('updates of a run that does not exist are refused', async () => {
        const missing = uid('run');

        await expect(store.requestCancel(missing)).rejects.toThrow(missing);
        await expect(store.recordBatch(missing, 1, whole, aBatchOutcome())).rejects.toThrow(missing);
        await expect(store.addRequests(missing, { bulkUpsert: 1 }, 0)).rejects.toThrow(missing);
        expect(await store.getBatch(missing, 1)).toBeUndefined();
      });

      it('one planner holds the planning lease until it releases it or its deadline passes', async () => {
        const run = aRun({ id: uid('run') });
        await store.createRun(run);
        const T = (s: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, s)).toISOString();

        const a = await store.leasePlanning(run.id, 'a', T(0), T(60));
        const b = await store.leasePlanning(run.id, 'b', T(10), T(70));
        const aAgain = await store.leasePlanning(run.id, 'a', T(20), T(80));
        const bAfterDeadline = await store.leasePlanning(run.id, 'b', T(81), T(140));
        await store.releasePlanning(run.id, 'a'); // no longer a's: nothing happens
        const c = await store.leasePlanning(run.id, 'c', T(90), T(150));
        await store.releasePlanning(run.id, 'b');
        const cAfterRelease = await store.leasePlanning(run.id, 'c', T(91), T(150));

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
        await store.createRun(run);
        const at = '2025-01-01T00:01:00.000Z';

        expect(await store.commitPlan(run.id, { batchesTotal: 60, itemsPlanned: 6_000, at })).toBe(true);
        expect(await store.commitPlan(run.id, { batchesTotal: 60, itemsPlanned: 6_000, at })).toBe(true);
        expect(await store.commitPlan(run.id, { batchesTotal: 10, itemsPlanned: 1_000, at })).toBe(false);
        await store.notePlanning(run.id, {
          at: '2025-01-01T00:02:00.000Z',
          checkpointed: true,
          batchesQueued: 50,
        });

        expect(await store.getRun(run.id)).toMatchObject({
          batchesTotal: 60,
          itemsPlanned: 6_000,
          checkpointed: true,
          batchesQueued: 50,
          lastProgressAt: '2025-01-01T00:02:00.000Z',
        });
      });
    });

    describe('batch progress', () => {
      /** A run whose plan has `batches` batches. */
      const plannedRun = async (batches = 20) => {
        const run = aRun({ id: uid('run'), status: 'sending' });
        await store.createRun(run);
        await store.commitPlan(run.id, {
          batchesTotal: batches,
          itemsPlanned: batches * 100,
          at: run.createdAt,
        });
        return run;
      };

      it('adds a batch’s outcome to the run’s progress', async () => {
        const run = await plannedRun();

        await store.recordBatch(run.id, 1, whole, aBatchOutcome());
        await store.recordBatch(
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

        const after = await store.getRun(run.id);
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
        expect(await store.getBatch(run.id, 1)).toEqual({ next: 100, done: true });
        expect(await store.getBatch(run.id, 3)).toBeUndefined();
      });

      it('a redelivered batch is not counted twice', async () => {
        const run = await plannedRun();

        const first = await store.recordBatch(run.id, 7, whole, aBatchOutcome());
        const again = await store.recordBatch(run.id, 7, whole, aBatchOutcome());
        const concurrent = await Promise.all(
          [1, 2, 3, 4].map(() => store.recordBatch(run.id, 8, whole, aBatchOutcome({ accepted: 10 }))),
        );

        expect([first.recorded, again.recorded]).toEqual([true, false]);
        expect(again.state).toEqual({ next: 100, done: true });
        expect(concurrent.filter((r) => r.recorded)).toHaveLength(1);
        expect((await store.getRun(run.id))?.progress).toMatchObject({
          batchesDone: 2,
          accepted: 108,
          failed: 4,
          requests: { bulkUpsert: 2 },
        });
        expect(await store.listErrorSamples(run.id, 100)).toHaveLength(2);
      });

      it('records a batch in ranges, each exactly once, and counts the batch done once', async () => {
        const run = await plannedRun();
        const part = (accepted: number) => aBatchOutcome({ accepted, failed: {}, samples: [] });

        const first = await store.recordBatch(run.id, 4, { from: 0, to: 10, final: false }, part(10));
        const stale = await store.recordBatch(run.id, 4, { from: 0, to: 12, final: false }, part(12));
        const second = await store.recordBatch(run.id, 4, { from: 10, to: 25, final: true }, part(15));
        const late = await store.recordBatch(run.id, 4, { from: 10, to: 25, final: true }, part(15));

        expect([first.recorded, stale.recorded, second.recorded, late.recorded]).toEqual([
          true,
          false,
          true,
          false,
        ]);
        expect(stale.state).toEqual({ next: 10, done: false });
        expect(late.state).toEqual({ next: 25, done: true });
        expect((await store.getRun(run.id))?.progress).toMatchObject({ batchesDone: 1, accepted: 25 });
        expect(await store.getBatch(run.id, 4)).toEqual({ next: 25, done: true });
      });

      it('one delivery holds a batch until it releases it or its deadline passes; a done batch is never leased', async () => {
        const run = await plannedRun();
        const T = (s: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, s)).toISOString();

        const a = await store.leaseBatch(run.id, 2, 'a', T(0), T(60));
        const b = await store.leaseBatch(run.id, 2, 'b', T(10), T(70));
        expect(await store.getBatch(run.id, 2)).toEqual({ next: 0, done: false, leaseUntil: T(60) });
        await store.recordBatch(
          run.id,
          2,
          { from: 0, to: 40, final: false },
          aBatchOutcome({ accepted: 40 }),
        );
        const bLater = await store.leaseBatch(run.id, 2, 'b', T(61), T(120));
        await store.releaseBatch(run.id, 2, 'a'); // not a's any more: nothing happens
        expect(await store.getBatch(run.id, 2)).toEqual({ next: 40, done: false, leaseUntil: T(120) });
        await store.recordBatch(
          run.id,
          2,
          { from: 40, to: 100, final: true },
          aBatchOutcome({ accepted: 60 }),
        );
        await store.releaseBatch(run.id, 2, 'b');

        expect([a, b, bLater]).toEqual([true, false, true]);
        expect(await store.leaseBatch(run.id, 2, 'c', T(200), T(260))).toBe(false);
        expect(await store.getBatch(run.id, 2)).toEqual({ next: 100, done: true });
      });

      it('refuses a batch number outside the decided plan, and any batch of a run with no plan', async () => {
        const run = await plannedRun(3);
        const unplanned = aRun({ id: uid('run'), status: 'sending' });
        await store.createRun(unplanned);

        await expect(store.recordBatch(run.id, 3, whole, aBatchOutcome())).rejects.toMatchObject({
          name: 'BatchOutsidePlanError',
        });
        await expect(store.recordBatch(unplanned.id, 0, whole, aBatchOutcome())).rejects.toMatchObject({
          name: 'BatchOutsidePlanError',
        });
        expect((await store.getRun(run.id))?.progress.batchesDone).toBe(0);
      });

      it('counts every batch when many different batches finish at once', async () => {
        const run = await plannedRun();

        await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            store.recordBatch(run.id, i + 1, whole, aBatchOutcome({ accepted: 1, failed: {}, samples: [] })),
          ),
        );

        expect((await store.getRun(run.id))?.progress).toMatchObject({ batchesDone: 12, accepted: 12 });
      });

      it('adds the requests of a delivery that did not complete without counting a batch', async () => {
        const run = aRun({ id: uid('run'), status: 'sending' });
        await store.createRun(run);

        await store.addRequests(run.id, { bulkUpsert: 2, 'contact.add': 1 }, 1);
        await store.addRequests(run.id, { bulkUpsert: 1 }, 0);
        await store.addRequests(run.id, {}, 0);

        expect((await store.getRun(run.id))?.progress).toMatchObject({
          batchesDone: 0,
          throttled: 1,
          requests: { bulkUpsert: 3, 'contact.add': 1 },
        });
      });

      it('keeps at most five error samples per recorded range, in batch order', async () => {
        const run = await plannedRun();
        const samples = (batch: number, n: number) =>
          Array.from({ length: n }, (_, i) => ({ email: `u${batch}-${i}@***`, reason: `r${i}` }));

        await store.recordBatch(run.id, 12, whole, aBatchOutcome({ samples: samples(12, 2) }));
        await store.recordBatch(run.id, 3, whole, aBatchOutcome({ samples: samples(3, 8) }));

        const all = await store.listErrorSamples(run.id, 100);
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
        expect(await store.listErrorSamples(run.id, 3)).toHaveLength(3);
      });
    });

    describe('planner checkpoints', () => {
      it('a checkpoint of about 2 MB round-trips and a second save replaces the first', async () => {
        const runId = uid('run');
        const big = bulkyJson(2_000_000);
        expect(await store.loadCheckpoint(runId)).toBeUndefined();

        await store.saveCheckpoint(runId, big);
        expect(await store.loadCheckpoint(runId)).toBe(big);

        const small = JSON.stringify({ v: 1, cursor: 'page-7' });
        await store.saveCheckpoint(runId, small);
        expect(await store.loadCheckpoint(runId)).toBe(small);
      });

      it('keeps runs’ checkpoints apart and deletes all of one', async () => {
        const a = uid('run');
        const b = uid('run');
        await store.saveCheckpoint(a, bulkyJson(700_000));
        await store.saveCheckpoint(b, '{"b":true}');

        await store.deleteCheckpoint(a);
        await store.deleteCheckpoint(uid('run'));

        expect(await store.loadCheckpoint(a)).toBeUndefined();
        expect(await store.loadCheckpoint(b)).toBe('{"b":true}');
      });

      it('round-trips text outside ASCII', async () => {
        const runId = uid('run');
        const text = JSON.stringify({ name: 'Zoë — 日本語 🎉', empty: '' });

        await store.saveCheckpoint(runId, text);

        expect(await store.loadCheckpoint(runId)).toBe(text);
      });
    });

    describe('snapshot', () => {
      it('round-trips joins, leaves and forgets across two applies', async () => {
        const exportId = uid('exp');

        await store.applySnapshot(exportId, [
          change('ann@example.com', { hash: 'h-ann-1', join: ['seg-a', 'seg-b'] }),
          change('bob@example.com', { hash: 'h-bob-1', email: 'Bob@Example.com', join: ['seg-a'] }),
          change('cy@example.com', { hash: 'h-cy-1', join: ['seg-b'] }),
        ]);
        await store.applySnapshot(exportId, [
          change('ann@example.com', { hash: 'h-ann-2', leave: ['seg-a'] }),
          change('bob@example.com', { join: ['seg-b'] }),
          change('cy@example.com', { leave: ['seg-b'], forget: true }),
        ]);

        expect(await readAll(store, exportId)).toEqual([
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
        await store.applySnapshot(exportId, many);
        await store.applySnapshot(other, [change('zed@example.com', { hash: 'z', join: ['seg-a'] })]);

        await store.deleteSnapshot(exportId);

        expect(await readAll(store, exportId)).toEqual([]);
        expect((await readAll(store, other)).map((e) => e.key)).toEqual(['zed@example.com']);
      });

      it("pointing a segment at a different list drops its memberships, and only that segment's", async () => {
        const exportId = uid('exp');
        await store.setSnapshotList(exportId, 'seg-a', 'list-1');
        await store.setSnapshotList(exportId, 'seg-b', 'list-2');
        await store.applySnapshot(exportId, [
          change('ann@example.com', { hash: 'h1', join: ['seg-a', 'seg-b'] }),
          change('bob@example.com', { hash: 'h2', join: ['seg-a'] }),
        ]);

        await store.setSnapshotList(exportId, 'seg-a', 'list-1'); // same list: nothing changes
        expect((await readAll(store, exportId)).map((e) => e.segmentIds)).toEqual([
          ['seg-a', 'seg-b'],
          ['seg-a'],
        ]);

        await store.setSnapshotList(exportId, 'seg-a', 'list-9'); // the list was recreated
        expect(await readAll(store, exportId)).toEqual([
          { key: 'ann@example.com', hash: 'h1', segmentIds: ['seg-b'] },
          { key: 'bob@example.com', hash: 'h2', segmentIds: [] },
        ]);
        expect(await store.snapshotLists(exportId)).toEqual({ 'seg-a': 'list-9', 'seg-b': 'list-2' });
      });

      it('an uncertain membership reads back as maybe until an accepted join or leave settles it', async () => {
        const exportId = uid('exp');
        await store.applySnapshot(exportId, [
          change('a@example.com', { hash: 'h1', join: ['seg-1'] }),
          change('b@example.com', { maybe: ['seg-1', 'seg-2'] }),
          change('a@example.com', { maybe: ['seg-1'] }),
        ]);
        expect(await readAll(store, exportId)).toEqual([
          { key: 'a@example.com', hash: 'h1', segmentIds: [], maybeSegmentIds: ['seg-1'] },
          { key: 'b@example.com', hash: '', segmentIds: [], maybeSegmentIds: ['seg-1', 'seg-2'] },
        ]);

        await store.applySnapshot(exportId, [
          change('a@example.com', { join: ['seg-1'] }),
          change('b@example.com', { leave: ['seg-2'] }),
        ]);
        expect(await readAll(store, exportId)).toEqual([
          { key: 'a@example.com', hash: 'h1', segmentIds: ['seg-1'] },
          { key: 'b@example.com', hash: '', segmentIds: [], maybeSegmentIds: ['seg-1'] },
        ]);
      });

      it('a contact with memberships but no hash reads back with an empty hash', async () => {
        const exportId = uid('exp');

        await store.applySnapshot(exportId, [change('dee@example.com', { join: ['seg-a'] })]);

        expect(await readAll(store, exportId)).toEqual([
          { key: 'dee@example.com', hash: '', segmentIds: ['seg-a'] },
        ]);
      });

      it('a key changed twice in one apply ends as the last change says', async () => {
        const exportId = uid('exp');

        await store.applySnapshot(exportId, [
          change('eve@example.com', { hash: 'h1', email: 'Eve@example.com', join: ['seg-a', 'seg-b'] }),
          change('eve@example.com', { hash: 'h2', leave: ['seg-a'] }),
          change('eve@example.com', { join: ['seg-c'] }),
        ]);

        expect(await readAll(store, exportId)).toEqual([
          { key: 'eve@example.com', hash: 'h2', segmentIds: ['seg-b', 'seg-c'] },
        ]);
      });

      it('handles more changes than one write call takes, and keeps exports apart', async () => {
        const exportId = uid('exp');
        const other = uid('exp');
        const keys = Array.from({ length: 130 }, (_, i) => `user${String(i).padStart(3, '0')}@example.com`);

        await store.applySnapshot(
          exportId,
          keys.map((k, i) => change(k, { hash: `h${i}`, join: i % 2 ? ['seg-a'] : ['seg-a', 'seg-b'] })),
        );
        await store.applySnapshot(other, [change('zed@example.com', { hash: 'z', join: ['seg-a'] })]);
        await store.applySnapshot(
          exportId,
          keys.slice(0, 40).map((k) => change(k, { leave: ['seg-a', 'seg-b'], forget: true })),
        );

        const entries = await readAll(store, exportId);
        expect(entries.map((e) => e.key)).toEqual(keys.slice(40));
        expect(entries[0]).toEqual({ key: keys[40], hash: 'h40', segmentIds: ['seg-a', 'seg-b'] });
        expect(entries[1]).toEqual({ key: keys[41], hash: 'h41', segmentIds: ['seg-a'] });
        expect(await readAll(store, other)).toHaveLength(1);
        expect(await readAll(store, uid('exp'))).toEqual([]);
      });

      it('keys with separators and non-ASCII characters survive', async () => {
        const exportId = uid('exp');
        const keys = ['a#b@example.com', 'zoë@example.com', 'x@sub.example.com'];

        await store.applySnapshot(
          exportId,
          keys.map((k) => change(k, { hash: `h:${k}`, join: ['seg#1', 'seg-2'] })),
        );

        const entries = await readAll(store, exportId);
        expect(entries.map((e) => [e.key, e.hash, e.segmentIds])).toEqual(
          [...keys].sort().map((k) => [k, `h:${k}`, ['seg#1', 'seg-2']]),
        );
      });
    });

    describe('membership targets', () => {
      const vip = { kind: 'list', name: 'VIP' } as const;
      const gold = { kind: 'list', name: 'Gold' } as const;
      const flag = { kind: 'field', name: 'VIP' } as const;

      it('one export holds each target; a claim with any conflict reserves nothing', async () => {
        const conn = uid('conn');

        expect(await store.claimTargets(conn, 'exp-a', [vip, flag])).toEqual([]);
        expect(await store.claimTargets(conn, 'exp-a', [vip])).toEqual([]);
        expect(await store.claimTargets(conn, 'exp-b', [gold, vip])).toEqual([{ ...vip, owner: 'exp-a' }]);
        expect(await store.targetOwners(conn, [vip, gold, flag])).toEqual(['exp-a', undefined, 'exp-a']);
        expect(await store.targetOwners(uid('conn'), [vip])).toEqual([undefined]);
      });

      it('releases only what the export holds, keeping what it still uses', async () => {
        const conn = uid('conn');
        await store.claimTargets(conn, 'exp-a', [vip, gold]);
        await store.claimTargets(conn, 'exp-b', [flag]);

        await store.releaseTargets(conn, 'exp-a', [gold]);
        expect(await store.targetOwners(conn, [vip, gold, flag])).toEqual([undefined, 'exp-a', 'exp-b']);
        await store.releaseTargets(conn, 'exp-a');
        expect(await store.targetOwners(conn, [vip, gold, flag])).toEqual([undefined, undefined, 'exp-b']);
      });
    });

    describe('destination lists', () => {
      const NOW = '2025-01-01T10:00:00.000Z';
      const FRESH = '2025-01-01T09:55:00.000Z';
      const LATER = '2025-01-01T11:00:00.000Z';

      it('concurrent claims of one title have exactly one winner', async () => {
        const conn = uid('conn');

        const wins = await Promise.all(
          ['r1', 'r2', 'r3'].map((r) => store.claimList(conn, 'Newsletter', r, NOW, FRESH)),
        );

        expect(wins.filter(Boolean)).toHaveLength(1);
        const winner = ['r1', 'r2', 'r3'][wins.indexOf(true)];
        expect(await store.getList(conn, 'Newsletter')).toEqual({ claimedBy: winner, claimedAt: NOW });
      });

      it('a stale claim is taken over, a fresh one is not, and a saved list is never claimed', async () => {
        const conn = uid('conn');
        expect(await store.getList(conn, 'VIP')).toBeUndefined();

        await store.claimList(conn, 'VIP', 'r1', NOW, FRESH);
        const fresh = await store.claimList(conn, 'VIP', 'r2', NOW, FRESH);
        const own = await store.claimList(conn, 'VIP', 'r1', NOW, FRESH);
        const stale = await store.claimList(conn, 'VIP', 'r2', LATER, '2025-01-01T10:30:00.000Z');
        await store.saveList(conn, 'VIP', 'contactlist_42');
        const afterSave = await store.claimList(conn, 'VIP', 'r3', '2025-01-02T00:00:00.000Z', LATER);

        expect([fresh, own, stale, afterSave]).toEqual([false, true, true, false]);
        expect(await store.getList(conn, 'VIP')).toEqual({ listId: 'contactlist_42' });
        expect(await store.getList(conn, 'vip')).toBeUndefined();
      });

      it('forgets a list so it can be created again', async () => {
        const conn = uid('conn');
        await store.saveList(conn, 'Gone', 'contactlist_1');

        await store.forgetList(conn, 'Gone');

        expect(await store.getList(conn, 'Gone')).toBeUndefined();
        expect(await store.claimList(conn, 'Gone', 'r1', NOW, FRESH)).toBe(true);
      });
    });
  });
};
