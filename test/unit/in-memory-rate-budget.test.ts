import { describe, expect, it } from 'vitest';
import { FakeClock } from '#test/fakes/fake-clock.ts';
import { InMemoryRateBudget } from '#test/fakes/in-memory-rate-budget.ts';

describe('InMemoryRateBudget (GCRA on a fake clock)', () => {
  it('spaces the slots of several concurrent senders exactly one interval apart', async () => {
    const clock = new FakeClock({ start: 1_000_000 });
    const budget = new InMemoryRateBudget(clock);
    const started: number[] = [];
    const sender = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        await budget.acquire('conn-1', 5);
        started.push(clock.now());
      }
    };

    await Promise.all([sender(4), sender(4), sender(4)]);

    expect(started).toEqual(Array.from({ length: 12 }, (_, i) => 1_000_000 + i * 200));
  });

  it('grants a slot at once after the budget has been idle', async () => {
    const clock = new FakeClock({ start: 0 });
    const budget = new InMemoryRateBudget(clock);
    await budget.acquire('conn-1', 10);
    clock.advance(5_000);

    const before = clock.now();
    await budget.acquire('conn-1', 10);

    expect(clock.now()).toBe(before);
  });

  it('a back-off delays the next slot of every sender', async () => {
    const clock = new FakeClock({ start: 0 });
    const budget = new InMemoryRateBudget(clock);
    await budget.acquire('conn-1', 5);

    await budget.backOff('conn-1', 3_000);
    const [a, b] = await Promise.all([
      budget.acquire('conn-1', 5).then(() => clock.now()),
      budget.acquire('conn-1', 5).then(() => clock.now()),
    ]);

    expect([a, b]).toEqual([3_000, 3_200]);
  });

  it('a back-off shorter than the queue changes nothing', async () => {
    const clock = new FakeClock({ start: 0 });
    const budget = new InMemoryRateBudget(clock);
    const queued = Array.from({ length: 5 }, () => budget.acquire('conn-1', 1));

    await budget.backOff('conn-1', 100);
    await Promise.all(queued);

    expect(budget.grants.get('conn-1')).toEqual([0, 1000, 2000, 3000, 4000]);
    await budget.acquire('conn-1', 1);
    expect(clock.now()).toBe(5_000);
  });

  it('keeps connections independent', async () => {
    const clock = new FakeClock({ start: 0 });
    const budget = new InMemoryRateBudget(clock);

    await Promise.all([budget.acquire('a', 1), budget.acquire('a', 1), budget.acquire('b', 1)]);

    expect(budget.grants.get('a')).toEqual([0, 1000]);
    expect(budget.grants.get('b')).toEqual([0]);
  });
});

describe('FakeClock', () => {
  it('wakes concurrent sleepers in deadline order on one virtual timeline', async () => {
    const clock = new FakeClock({ start: 0 });
    const woke: string[] = [];

    await Promise.all([
      clock.sleep(300).then(() => woke.push(`a@${clock.now()}`)),
      clock.sleep(100).then(() => woke.push(`b@${clock.now()}`)),
      clock.sleep(100).then(() => woke.push(`c@${clock.now()}`)),
    ]);

    expect(woke).toEqual(['b@100', 'c@100', 'a@300']);
  });

  it('without auto-advance only advance() moves time', async () => {
    const clock = new FakeClock({ start: 0, autoAdvance: false });
    let woke = false;
    const sleeping = clock.sleep(1_000).then(() => {
      woke = true;
    });

    await new Promise((r) => setImmediate(r));
    expect(woke).toBe(false);
    clock.advance(999);
    await Promise.resolve();
    expect(woke).toBe(false);
    clock.advance(1);
    await sleeping;
    expect(clock.now()).toBe(1_000);
  });
});
