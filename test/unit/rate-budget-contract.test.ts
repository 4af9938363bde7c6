import { FakeClock } from '#test/fakes/fake-clock.ts';
import { InMemoryRateBudget } from '#test/fakes/in-memory-rate-budget.ts';
import { describeRateBudgetContract } from '#test/support/contracts/rate-budget.ts';

describeRateBudgetContract('InMemoryRateBudget', () => {
  const clock = new FakeClock({ start: 1_700_000_000_000 });
  const budget = new InMemoryRateBudget(clock);
  return {
    clock,
    sender: (own) => (own === undefined ? budget : budget.withClock(own)),
    granted: (connectionId) => budget.grants.get(connectionId) ?? [],
    writes: () => [...budget.reservations.values()].reduce((a, b) => a + b, 0),
  };
});
