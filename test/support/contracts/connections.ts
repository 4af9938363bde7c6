import { beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '#lib/domain/connection.ts';
import type { State } from '#lib/ports/state.ts';
import { aConnection } from '#test/fixtures/state-records.ts';
import { STAMP, uid } from './helpers.ts';

/** What every `Connections` must do: run against the in-memory fake (unit) and DynamoDB Local (integration). */
export const describeConnectionsContract = (name: string, makeState: () => Promise<State>): void => {
  describe(`${name}: Connections`, () => {
    let state: State;
    beforeAll(async () => {
      state = await makeState();
    });

    describe('connections', () => {
      it('creates a connection once and refuses a second create', async () => {
        const c = aConnection({ id: uid('conn') });

        expect(await state.connections.create(c)).toBe(true);
        expect(await state.connections.create({ ...c, displayName: 'Other' })).toBe(false);

        expect(await state.connections.get(c.id)).toEqual(c);
      });

      it('revises only when the stored version is the expected one, stamping who and when', async () => {
        const c = aConnection({ id: uid('conn') });
        await state.connections.create(c);

        const stale = await state.connections.revise(c.id, 7, { displayName: 'Stale' }, STAMP);
        const fresh = await state.connections.revise(c.id, 1, { displayName: 'Fresh', cap: 500 }, STAMP);
        const missing = await state.connections.revise(uid('conn'), 1, { displayName: 'Nobody' }, STAMP);

        expect([stale, missing]).toEqual([undefined, undefined]);
        const expected = {
          ...c,
          displayName: 'Fresh',
          cap: 500,
          version: 2,
          updatedBy: STAMP.by,
          updatedAt: STAMP.at,
        };
        expect(fresh).toEqual(expected);
        expect(await state.connections.get(c.id)).toEqual(expected);
      });

      it('keeps the export users a connection names, and replaces them on an edit', async () => {
        const c = aConnection({
          id: uid('conn'),
          exportUsers: [{ id: 'user-a', label: 'Ann' }, { id: 'user-b' }],
        });
        await state.connections.create(c);
        expect((await state.connections.get(c.id))?.exportUsers).toEqual(c.exportUsers);

        const edit = { exportUsers: [{ id: 'user-b' }] };
        const revised = await state.connections.revise(c.id, 1, edit, STAMP);

        expect(revised?.exportUsers).toEqual([{ id: 'user-b' }]);
        expect((await state.connections.get(c.id))?.exportUsers).toEqual([{ id: 'user-b' }]);
      });

      it('reads a connection stored before export users existed as naming none, and edits it', async () => {
        const { exportUsers: _, ...old } = aConnection({ id: uid('conn') });
        await state.connections.create(old as Connection);

        expect((await state.connections.get(old.id))?.exportUsers).toEqual([]);
        expect((await state.connections.list()).find((c) => c.id === old.id)?.exportUsers).toEqual([]);
        const renamed = await state.connections.revise(old.id, 1, { displayName: 'Renamed' }, STAMP);
        expect(renamed).toMatchObject({ displayName: 'Renamed', exportUsers: [], version: 2 });
      });

      it('keeps the hint of the key a connection was created with, and a revise replaces it (a rotation)', async () => {
        const c = aConnection({ id: uid('conn'), keyHint: 'cdef' });
        await state.connections.create(c);
        expect((await state.connections.get(c.id))?.keyHint).toBe('cdef');
        expect((await state.connections.list()).find((x) => x.id === c.id)?.keyHint).toBe('cdef');

        const rotation = { keyHint: 'Q9zX' };
        const revised = await state.connections.revise(c.id, 1, rotation, STAMP);

        expect(revised).toMatchObject({ keyHint: 'Q9zX', version: 2 });
        expect((await state.connections.get(c.id))?.keyHint).toBe('Q9zX');
        // An edit that does not name the hint leaves it alone.
        await state.connections.revise(c.id, 2, { displayName: 'Renamed' }, STAMP);
        expect((await state.connections.get(c.id))?.keyHint).toBe('Q9zX');
      });

      it('reads a connection stored before key hints existed as having none', async () => {
        const old = aConnection({ id: uid('conn') });
        expect(old).not.toHaveProperty('keyHint');
        await state.connections.create(old);
        const read = await state.connections.get(old.id);
        expect(read?.keyHint).toBeUndefined();
        expect(read).toEqual(old);
      });

      it('lists and deletes connections', async () => {
        const a = aConnection({ id: uid('conn') });
        const b = aConnection({ id: uid('conn') });
        await state.connections.create(a);
        await state.connections.create(b);

        await state.connections.delete(a.id);

        const ids = (await state.connections.list()).map((c) => c.id);
        expect(ids).toContain(b.id);
        expect(ids).not.toContain(a.id);
        expect(await state.connections.get(a.id)).toBeUndefined();
      });

      it("flags a connection without touching the user's version, and a user's edit cannot undo the flag", async () => {
        const c = aConnection({ id: uid('conn') });
        await state.connections.create(c);

        await state.connections.setStatus(c.id, 'invalid_key');
        await state.connections.setStatus(uid('missing'), 'invalid_key');

        expect(await state.connections.get(c.id)).toMatchObject({ status: 'invalid_key', version: 1 });
        // An edit made from the read before the flag succeeds, and leaves the flag (and the probe's answer) alone.
        expect(await state.connections.revise(c.id, 1, { displayName: 'Renamed' }, STAMP)).toBeDefined();
        expect(await state.connections.get(c.id)).toMatchObject({
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
        await state.connections.create(c);
        await state.connections.resetBulkMembership(c.id);
        expect((await state.connections.get(c.id))?.bulkMembership).toEqual({ state: 'unknown' });
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
        await state.connections.create(c);

        const first = await state.connections.claimProbe(
          c.id,
          'run-a#0',
          times(T0, '2025-01-01T09:30:00.000Z'),
        );
        const sameRunOtherBatch = await state.connections.claimProbe(
          c.id,
          'run-a#1',
          times(T1, '2025-01-01T09:35:00.000Z'),
        );
        const again = await state.connections.claimProbe(
          c.id,
          'run-a#0',
          times(T1, '2025-01-01T09:35:00.000Z'),
        );
        const takeover = await state.connections.claimProbe(
          c.id,
          'run-b#0',
          times(T2, '2025-01-01T10:30:00.000Z'),
        );
        const missing = await state.connections.claimProbe(uid('conn'), 'run-a#0', times(T0, T0));

        expect([first, sameRunOtherBatch, again, takeover, missing]).toEqual([
          true,
          false,
          true,
          true,
          false,
        ]);
        expect((await state.connections.get(c.id))?.bulkMembership).toEqual({
          state: 'unknown',
          probe: { claimant: 'run-b#0', startedAt: T2 },
        });
      });

      it('refuses a claim once an answer is known and fresh, and allows a re-check when it is stale', async () => {
        const c = aConnection({ id: uid('conn') });
        await state.connections.create(c);
        expect(await state.connections.claimProbe(c.id, 'run-a#0', times(T0, T0))).toBe(true);
        await state.connections.settleProbe(c.id, 'run-a#0', 'unsupported', T0);

        // A batch that read the connection before the answer landed must not probe again.
        expect(
          await state.connections.claimProbe(c.id, 'run-a#1', times(T1, T0, '2024-12-25T00:00:00.000Z')),
        ).toBe(false);
        // A week later the answer is stale: one re-check may start.
        expect(
          await state.connections.claimProbe(c.id, 'run-c#0', times(T2, T1, '2025-01-01T10:30:00.000Z')),
        ).toBe(true);
      });

      it('records the answer only from the claimant holding the claim', async () => {
        const c = aConnection({ id: uid('conn') });
        await state.connections.create(c);
        await state.connections.claimProbe(c.id, 'run-a#0', times(T0, T0));

        await state.connections.settleProbe(c.id, 'run-b#0', 'unsupported', T1);
        expect((await state.connections.get(c.id))?.bulkMembership.state).toBe('unknown');

        await state.connections.settleProbe(c.id, 'run-a#0', 'supported', T1, 'run-a');
        const after = await state.connections.get(c.id);
        expect(after?.bulkMembership).toEqual({ state: 'supported', checkedAt: T1, verifiedRun: 'run-a' });
        expect(after?.version).toBe(1);
      });

      it("a fresh 'supported' answer is confirmed once by each run: its own run may not probe again, another may", async () => {
        const c = aConnection({ id: uid('conn') });
        await state.connections.create(c);
        await state.connections.claimProbe(c.id, 'run-a#0', times(T0, T0, undefined, 'run-a'));
        await state.connections.settleProbe(c.id, 'run-a#0', 'supported', T0, 'run-a');

        expect(await state.connections.claimProbe(c.id, 'run-a#1', times(T1, T0, undefined, 'run-a'))).toBe(
          false,
        );
        expect(await state.connections.claimProbe(c.id, 'run-b#0', times(T1, T0, undefined, 'run-b'))).toBe(
          true,
        );
        await state.connections.settleProbe(c.id, 'run-b#0', 'unsupported', T2, 'run-b');
        // A refuted belief forgets which run had confirmed it.
        expect((await state.connections.get(c.id))?.bulkMembership).toEqual({
          state: 'unsupported',
          checkedAt: T2,
        });
      });

      it("an 'unknown' answer releases the claim and keeps what was known", async () => {
        const c = aConnection({ id: uid('conn'), bulkMembership: { state: 'unsupported', checkedAt: T0 } });
        await state.connections.create(c);
        await state.connections.claimProbe(c.id, 'run-a#0', times(T1, T0, T1));

        await state.connections.settleProbe(c.id, 'run-a#0', 'unknown', T2);

        expect((await state.connections.get(c.id))?.bulkMembership).toEqual({
          state: 'unsupported',
          checkedAt: T0,
        });
        expect(await state.connections.claimProbe(c.id, 'run-b#0', times(T2, T0, T1))).toBe(true);
      });
    });
  });
};
