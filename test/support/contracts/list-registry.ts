import { beforeAll, describe, expect, it } from 'vitest';
import type { State } from '#lib/ports/state.ts';
import { uid } from './helpers.ts';

/** What every `ListRegistry` must do: run against the in-memory fake (unit) and DynamoDB Local (integration). */
export const describeListRegistryContract = (name: string, makeState: () => Promise<State>): void => {
  describe(`${name}: ListRegistry`, () => {
    let state: State;
    beforeAll(async () => {
      state = await makeState();
    });

    describe('destination lists', () => {
      const NOW = '2025-01-01T10:00:00.000Z';
      const FRESH = '2025-01-01T09:55:00.000Z';
      const LATER = '2025-01-01T11:00:00.000Z';

      it('concurrent claims of one title have exactly one winner', async () => {
        const conn = uid('conn');

        const wins = await Promise.all(
          ['r1', 'r2', 'r3'].map((r) => state.lists.claim(conn, 'Newsletter', r, NOW, FRESH)),
        );

        expect(wins.filter(Boolean)).toHaveLength(1);
        const winner = ['r1', 'r2', 'r3'][wins.indexOf(true)];
        expect(await state.lists.get(conn, 'Newsletter')).toEqual({ claimedBy: winner, claimedAt: NOW });
      });

      it('a stale claim is taken over, a fresh one is not, and a saved list is never claimed', async () => {
        const conn = uid('conn');
        expect(await state.lists.get(conn, 'VIP')).toBeUndefined();

        await state.lists.claim(conn, 'VIP', 'r1', NOW, FRESH);
        const fresh = await state.lists.claim(conn, 'VIP', 'r2', NOW, FRESH);
        const own = await state.lists.claim(conn, 'VIP', 'r1', NOW, FRESH);
        const stale = await state.lists.claim(conn, 'VIP', 'r2', LATER, '2025-01-01T10:30:00.000Z');
        await state.lists.save(conn, 'VIP', 'contactlist_42');
        const afterSave = await state.lists.claim(conn, 'VIP', 'r3', '2025-01-02T00:00:00.000Z', LATER);

        expect([fresh, own, stale, afterSave]).toEqual([false, true, true, false]);
        expect(await state.lists.get(conn, 'VIP')).toEqual({ listId: 'contactlist_42' });
        expect(await state.lists.get(conn, 'vip')).toBeUndefined();
      });

      it('forgets a list so it can be created again', async () => {
        const conn = uid('conn');
        await state.lists.save(conn, 'Gone', 'contactlist_1');

        await state.lists.forget(conn, 'Gone');

        expect(await state.lists.get(conn, 'Gone')).toBeUndefined();
        expect(await state.lists.claim(conn, 'Gone', 'r1', NOW, FRESH)).toBe(true);
      });
    });
  });
};
