import { beforeAll, describe, expect, it } from 'vitest';
import type { State } from '#lib/ports/state.ts';
import { uid } from './helpers.ts';

/** What every `TargetOwners` must do: run against the in-memory fake (unit) and DynamoDB Local (integration). */
export const describeTargetOwnersContract = (name: string, makeState: () => Promise<State>): void => {
  describe(`${name}: TargetOwners`, () => {
    let state: State;
    beforeAll(async () => {
      state = await makeState();
    });

    describe('membership targets', () => {
      const vip = { kind: 'list', name: 'VIP' } as const;
      const gold = { kind: 'list', name: 'Gold' } as const;
      const flag = { kind: 'field', name: 'VIP' } as const;

      it('one export holds each target; a claim with any conflict reserves nothing', async () => {
        const conn = uid('conn');

        expect(await state.targets.claim(conn, 'exp-a', [vip, flag])).toEqual([]);
        expect(await state.targets.claim(conn, 'exp-a', [vip])).toEqual([]);
        expect(await state.targets.claim(conn, 'exp-b', [gold, vip])).toEqual([{ ...vip, owner: 'exp-a' }]);
        expect(await state.targets.owners(conn, [vip, gold, flag])).toEqual(['exp-a', undefined, 'exp-a']);
        expect(await state.targets.owners(uid('conn'), [vip])).toEqual([undefined]);
      });

      it('releases only what the export holds, keeping what it still uses', async () => {
        const conn = uid('conn');
        await state.targets.claim(conn, 'exp-a', [vip, gold]);
        await state.targets.claim(conn, 'exp-b', [flag]);

        await state.targets.release(conn, 'exp-a', [gold]);
        expect(await state.targets.owners(conn, [vip, gold, flag])).toEqual([undefined, 'exp-a', 'exp-b']);
        await state.targets.release(conn, 'exp-a');
        expect(await state.targets.owners(conn, [vip, gold, flag])).toEqual([undefined, undefined, 'exp-b']);
      });
    });
  });
};
