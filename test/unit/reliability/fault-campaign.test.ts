import { describe, expect, it } from 'vitest';
import { runScenario, type ScenarioReport } from '#test/support/chaos/campaign.ts';

/**
 * The seeded fault campaign on in-memory ports (`npm run chaos` runs more seeds). Each seed builds a
 * random export and a random fault schedule over every boundary; a failing seed prints itself:
 * replay it with `CHAOS_SEED=<seed> npx vitest run --project unit test/unit/reliability/fault-campaign.test.ts`.
 */
const only = process.env.CHAOS_SEED === undefined ? undefined : Number(process.env.CHAOS_SEED);
const seeds = only === undefined ? Number(process.env.CHAOS_SEEDS ?? 500) : 1;
const first = only ?? Number(process.env.CHAOS_FIRST_SEED ?? 1);

describe('seeded fault campaign (in-memory ports)', () => {
  it(`every invariant holds for ${seeds} seed(s) from ${first}`, { timeout: 600_000 }, async () => {
    const reports: ScenarioReport[] = [];
    for (let seed = first; seed < first + seeds; seed++) reports.push(await runScenario(seed));
    const failed = reports.filter((r) => r.violations.length > 0);
    const statuses = new Map<string, number>();
    for (const r of reports)
      for (const run of r.runs) statuses.set(run.status, (statuses.get(run.status) ?? 0) + 1);
    console.info(
      `fault campaign: ${reports.length} seeds from ${first}, ${failed.length} failed; run outcomes ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    expect(
      failed.map(
        (r) =>
          `seed ${r.seed} (${r.summary}): ${r.violations.join('; ')} — replay: CHAOS_SEED=${r.seed} npx vitest run --project unit test/unit/reliability/fault-campaign.test.ts`,
      ),
    ).toEqual([]);
    if (only === undefined && seeds >= 100) {
      // The campaign reached the outcomes faults should cause, not only the happy path.
      for (const status of ['succeeded', 'completed_with_errors', 'failed', 'cancelled']) {
        expect(statuses.get(status) ?? 0, `no run ended ${status}`).toBeGreaterThan(0);
      }
    }
  });
});
