import { describe, expect, it } from 'vitest';
import type { RunRecord } from '#lib/domain/run-record.ts';
import { DEFAULT_WATCH, StopDelivery, watchRun } from '#lib/use-cases/sending/watch.ts';
import { FakeClock } from '#test/fakes/fake-clock.ts';
import { aConnection, aRun } from '#test/fixtures/state-records.ts';

/** A watch over ports that count their reads; `run` and `connection` are what the next read returns. */
const watched = () => {
  const clock = new FakeClock({ autoAdvance: false });
  const state = {
    run: aRun({ status: 'sending' }) as RunRecord | undefined,
    connection: aConnection() as ReturnType<typeof aConnection> | undefined,
    reads: 0,
  };
  const watch = watchRun(
    {
      clock,
      runs: {
        get: async () => {
          state.reads++;
          return state.run;
        },
      },
      connections: {
        get: async () => {
          state.reads++;
          return state.connection;
        },
      },
    },
    { runId: 'run-1', connectionId: 'conn-1' },
  );
  return { clock, state, watch };
};

describe('a sender watching its run while it sends (DEFAULT_WATCH)', () => {
  it('reads the run and the connection every 25 requests or 5 s, whichever comes first', async () => {
    expect(DEFAULT_WATCH).toEqual({ everyRequests: 25, everyMs: 5_000 });
    const { clock, state, watch } = watched();
    // Fast: 24 requests in 1 s read nothing, the 25th reads both.
    for (let i = 1; i < 25; i++) {
      clock.advance(40);
      await watch();
    }
    expect(state.reads).toBe(0);
    await watch();
    expect(state.reads).toBe(2);
    // Slow: 5 s after that check, the next request reads again, whatever the count.
    clock.advance(4_999);
    await watch();
    expect(state.reads).toBe(2);
    clock.advance(1);
    await watch();
    expect(state.reads).toBe(4);
  });

  it('at 5 requests/s checks once per 5 s: 100 requests, 4 checks, 0.08 reads per request', async () => {
    const { clock, state, watch } = watched();
    for (let i = 0; i < 100; i++) {
      clock.advance(200);
      await watch();
    }
    expect(state.reads).toBe(8);
  });

  it('stops at the first check after a cancel, an end or a removal', async () => {
    const cases: Array<[string, (s: ReturnType<typeof watched>['state']) => void, StopDelivery['why']]> = [
      ['cancel', (s) => (s.run = aRun({ status: 'sending', cancelRequested: true })), 'cancelled'],
      ['end', (s) => (s.run = aRun({ status: 'failed' })), 'cancelled'],
      ['run gone', (s) => (s.run = undefined), 'cancelled'],
      ['connection removed', (s) => (s.connection = undefined), 'connection_removed'],
    ];
    for (const [, change, why] of cases) {
      const { clock, state, watch } = watched();
      await watch();
      change(state);
      await watch();
      clock.advance(DEFAULT_WATCH.everyMs);
      const stopped = await watch().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(stopped).toBeInstanceOf(StopDelivery);
      expect((stopped as StopDelivery).why).toBe(why);
    }
  });
});
