import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutopilotClient } from '#lib/adapters/autopilot/client.ts';
import { systemClock } from '#lib/ports/clock.ts';
import { type AutopilotStandIn, startAutopilotStandIn } from '#local/autopilot-standin/index.ts';
import { generateSampleProfiles, type SampleDataset } from '#local/sample-data.ts';
import { expectedMembers, verifyAgainstAutopilot } from '#local/verify.ts';
import { InMemoryRateBudget } from '#test/fakes/in-memory-rate-budget.ts';

/**
 * `npm start` ends by reading every list back. Those reads obey the connection's rate budget and
 * ride out 429s and transient failures like the pipeline's writes do (issue 9, hole 11).
 */

const KEY = 'verify-key-0123456789abcdef';
const RATE = 10;
let standIn: AutopilotStandIn;
let dataset: SampleDataset;
const lists: Array<{ segmentId: string; name: string; title: string; listId: string; field: string }> = [];

/** Fills the stand-in the way a correct export would have: one list and one boolean field per segment. */
const fill = async (): Promise<void> => {
  const client = new AutopilotClient({ baseUrl: standIn.url, apiKey: KEY });
  for (const [i, segment] of dataset.segments.entries()) {
    const { listId } = await client.createList(segment.name);
    const field = `In Segment ${i}`;
    lists.push({ segmentId: segment.id, name: segment.name, title: segment.name, listId, field });
    const members = [...expectedMembers(dataset, segment.id)];
    for (let at = 0; at < members.length; at += 100) {
      const batch = members.slice(at, at + 100);
      await client.bulkUpsert(
        batch.map((Email) => ({ Email, custom: { [`boolean--In--Segment--${i}`]: true } })),
      );
      await Promise.all(batch.map((email) => client.addToList(listId, email)));
    }
  }
};

beforeAll(async () => {
  standIn = await startAutopilotStandIn({ apiKeys: [KEY], ratePerSecond: 100_000, seed: 5 });
  dataset = generateSampleProfiles({ profiles: 400, seed: 9 });
  await fill();
  // As Autopilot documents it, scaled up: a low rate with no burst, so unpaced reads are refused.
  standIn.configure({ ratePerSecond: RATE, burst: 1 });
});
afterAll(async () => {
  await standIn.close();
});

const verify = (mode: 'list' | 'field', budget: InMemoryRateBudget) =>
  verifyAgainstAutopilot({
    baseUrl: standIn.url,
    apiKey: KEY,
    dataset,
    mode,
    lists,
    pacing: { rateBudget: budget, connectionId: 'conn-1', ratePerSecond: RATE },
  });

describe('verification against Autopilot', () => {
  it('completes at a low rate through a storm of 429s, resets and 503s, every read through the budget', async () => {
    standIn.setFaults({
      rules: [
        { kind: 'error', status: 429, rate: 0.3 },
        { kind: 'reset', rate: 0.05 },
        { kind: 'error', status: 503, rate: 0.05 },
      ],
    });
    standIn.resetCounts();
    const budget = new InMemoryRateBudget(systemClock);
    const result = await verify('list', budget);

    expect(result.checks.map((c) => [c.missing, c.extra])).toEqual(lists.map(() => [0, 0]));
    expect(result.checks.every((c) => c.actual === c.expected && c.expected > 0)).toBe(true);
    // Several pages per list: paging reads are paced and retried, not only the first page.
    expect(result.requests.requests.listContacts).toBeGreaterThanOrEqual(3 + 2 + 1);
    const faults = standIn.faultCounts();
    expect(faults['error 429 before']?.injected).toBeGreaterThan(0);
    expect(result.requests.throttled).toBeGreaterThanOrEqual(faults['error 429 before']?.injected ?? 1);
    expect(budget.grants.get('conn-1')).toHaveLength(result.requests.total);
  });

  it('reads the membership fields of every contact the same way in field mode', async () => {
    standIn.setFaults({ rules: [{ kind: 'error', status: 429, rate: 0.3 }] });
    const budget = new InMemoryRateBudget(systemClock);
    const result = await verify('field', budget);
    expect(result.checks.map((c) => [c.missing, c.extra])).toEqual(lists.map(() => [0, 0]));
    expect(result.requests.requests.listContacts).toBeGreaterThanOrEqual(4);
    expect(budget.grants.get('conn-1')).toHaveLength(result.requests.total);
  });

  it('counts a second list with the same title (a lost answer to POST /list) as a difference', async () => {
    standIn.setFaults(undefined);
    const stray = lists[2];
    standIn.configure({ ratePerSecond: 100_000, burst: 100_000 });
    await new AutopilotClient({ baseUrl: standIn.url, apiKey: KEY }).createList(stray?.title ?? '');
    standIn.configure({ ratePerSecond: RATE, burst: 1 });
    const result = await verify('list', new InMemoryRateBudget(systemClock));
    expect(result.checks.map((c) => c.duplicates)).toEqual([0, 0, 1]);
    expect(result.checks[2]).toMatchObject({ missing: 0, extra: 0 });
  });

  it('still reports a difference truthfully after the retries', async () => {
    standIn.setFaults(undefined);
    const first = lists[0];
    const gone = [...expectedMembers(dataset, first?.segmentId ?? '')][0] ?? '';
    const client = new AutopilotClient({ baseUrl: standIn.url, apiKey: KEY });
    standIn.configure({ ratePerSecond: 100_000, burst: 100_000 });
    await client.removeFromList(first?.listId ?? '', gone);
    standIn.configure({ ratePerSecond: RATE, burst: 1 });
    const result = await verify('list', new InMemoryRateBudget(systemClock));
    expect(result.checks[0]).toMatchObject({ missing: 1, extra: 0 });
  });
});
