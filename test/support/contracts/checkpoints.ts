import { beforeAll, describe, expect, it } from 'vitest';
import { checkpointText } from '#lib/ports/checkpoints.ts';
import type { State } from '#lib/ports/state.ts';
import { bulkyJson, uid } from './helpers.ts';

/** What every `Checkpoints` must do: run against the in-memory fake (unit) and DynamoDB Local (integration). */
export const describeCheckpointsContract = (name: string, makeState: () => Promise<State>): void => {
  describe(`${name}: Checkpoints`, () => {
    let state: State;
    /** What `load` gave, as one text (an adapter may give pieces). */
    const loadText = async (runId: string): Promise<string | undefined> => {
      const loaded = await state.checkpoints.load(runId);
      return loaded === undefined ? undefined : checkpointText(loaded);
    };
    beforeAll(async () => {
      state = await makeState();
    });

    describe('planner checkpoints', () => {
      it('a checkpoint of about 2 MB round-trips and a second save replaces the first', async () => {
        const runId = uid('run');
        const big = bulkyJson(2_000_000);
        expect(await loadText(runId)).toBeUndefined();

        await state.checkpoints.save(runId, big);
        expect(await loadText(runId)).toBe(big);

        const small = JSON.stringify({ v: 1, cursor: 'page-7' });
        await state.checkpoints.save(runId, small);
        expect(await loadText(runId)).toBe(small);
      });

      it('keeps runs’ checkpoints apart and deletes all of one', async () => {
        const a = uid('run');
        const b = uid('run');
        await state.checkpoints.save(a, bulkyJson(700_000));
        await state.checkpoints.save(b, '{"b":true}');

        await state.checkpoints.delete(a);
        await state.checkpoints.delete(uid('run'));

        expect(await loadText(a)).toBeUndefined();
        expect(await loadText(b)).toBe('{"b":true}');
      });

      it('saved in pieces, loads back as their concatenation', async () => {
        const runId = uid('run');
        const big = bulkyJson(900_000);
        const pieces = function* () {
          for (let i = 0; i < big.length; i += 65_536) yield big.slice(i, i + 65_536);
        };

        await state.checkpoints.save(runId, pieces());

        expect(await loadText(runId)).toBe(big);
      });

      it('round-trips text outside ASCII', async () => {
        const runId = uid('run');
        const text = JSON.stringify({ name: 'Zoë — 日本語 🎉', empty: '' });

        await state.checkpoints.save(runId, text);

        expect(await loadText(runId)).toBe(text);
      });

      it('round-trips a text of many megabytes saved in small pieces, characters outside ASCII included', async () => {
        const runId = uid('run');
        const line = (i: number): string => `${JSON.stringify([`k${i}`, 'Zoë — 日本語 🎉', i])}\n`;
        const pieces = function* () {
          for (let i = 0; i < 60_000; i++) yield line(i);
        };

        await state.checkpoints.save(runId, pieces());

        const text = await loadText(runId);
        expect(text?.length).toBe([...pieces()].reduce((n, p) => n + p.length, 0));
        expect(text).toBe([...pieces()].join(''));
      });
    });
  });
};
