import { ExportConfigSchema, listTitle, membershipFieldName } from '#lib/domain/export-config.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import { aConnection } from '#test/fixtures/state-records.ts';
import { drawRates, NO_FAULTS } from './faults.ts';
import { countsAddUp, logsClean } from './invariants.ts';
import { Rng } from './rng.ts';
import { buildScenario, expectedKeys, type Scenario } from './scenario.ts';
import { API_KEY, ChaosWorld } from './world.ts';

/** What one seed did and every invariant it broke (empty when it held). */
export interface ScenarioReport {
  seed: number;
  summary: string;
  violations: string[];
  runs: RunRecord[];
}

const setSegments = (world: ChaosWorld, scenario: Scenario, which: 'before' | 'after'): void => {
  for (const s of scenario.segments) world.segments.set(s.id, s.name, scenario[which].get(s.id) ?? []);
};

const setUp = async (world: ChaosWorld, scenario: Scenario): Promise<void> => {
  const now = new Date(world.clock.now()).toISOString();
  const believed =
    scenario.believed === 'unknown'
      ? { state: 'unknown' as const }
      : { state: scenario.believed, checkedAt: now };
  await world.state.connections.create(
    aConnection({ createdAt: now, updatedAt: now, bulkMembership: believed }),
  );
  await world.secrets.putApiKey('conn-1', API_KEY);
  const config = ExportConfigSchema.parse({
    name: 'Chaos export',
    connectionId: 'conn-1',
    ...scenario.config,
  });
  await world.state.exports.create({
    ...config,
    id: 'exp-1',
    createdBy: 'chaos',
    createdAt: now,
    updatedBy: 'chaos',
    updatedAt: now,
    version: 1,
  });
  world.destination.bulkListMembership = scenario.bulkHonoursList;
  for (const key of scenario.unsubscribed) {
    world.destination.contacts.set(key, { email: key, fields: {}, custom: {}, unsubscribed: true });
  }
};

/** One faulty run: faults on, maybe a cancel or a revoked key at a random request, then drained. */
const faultyRun = async (world: ChaosWorld, rng: Rng, scenario: Scenario): Promise<void> => {
  await restoreKey(world); // an earlier run's revoked key was rotated by an admin
  world.rates = drawRates(rng);
  world.cancelAtRequest = rng.chance(0.1) ? rng.int(1, 60) : undefined;
  world.revokeAtRequest = rng.chance(0.05) ? rng.int(1, 60) : undefined;
  if (scenario.refused !== undefined) world.destination.rejects.add(scenario.refused);
  await world.start(rng.pick(['on-demand', 'schedule'] as const));
  await world.drain();
};

const restoreKey = async (world: ChaosWorld): Promise<void> => {
  world.destination.validKeys.add(API_KEY);
  await world.state.connections.setStatus('conn-1', 'active');
};

/** Faults off, the key restored (an admin rotated it), one clean run that must set everything right. */
const cleanRun = async (world: ChaosWorld): Promise<RunRecord | undefined> => {
  world.rates = NO_FAULTS;
  world.cancelAtRequest = undefined;
  world.revokeAtRequest = undefined;
  world.destination.rejects.clear();
  await restoreKey(world);
  const started = await world.start();
  await world.drain();
  return world.state.runs.get(started.run.id);
};

const compareSets = (what: string, expected: Set<string>, actual: Set<string>): string[] => {
  const missing = [...expected].filter((k) => !actual.has(k));
  const extra = [...actual].filter((k) => !expected.has(k));
  if (missing.length === 0 && extra.length === 0) return [];
  return [
    `${what}: ${missing.length} missing (${missing.slice(0, 3).join(', ')}), ${extra.length} extra (${extra.slice(0, 3).join(', ')})`,
  ];
};

/** Autopilot holds exactly what the final segments say: one list per title, or one flag per segment. */
const destinationMatches = (world: ChaosWorld, scenario: Scenario): string[] => {
  const config = ExportConfigSchema.parse({ name: 'x', connectionId: 'conn-1', ...scenario.config });
  const out: string[] = [];
  for (const s of scenario.segments) {
    const expected = expectedKeys(scenario.after.get(s.id) ?? []);
    if (scenario.mode === 'list') {
      const title = listTitle(config, s);
      const lists = [...world.destination.lists.values()].filter((l) => l.title === title);
      if (lists.length !== 1) out.push(`list "${title}" exists ${lists.length} times`);
      out.push(...compareSets(`list "${title}"`, expected, new Set(lists.flatMap((l) => [...l.members]))));
    } else {
      const field = membershipFieldName(config, s);
      const flagged = new Set(
        [...world.destination.contacts].filter(([, c]) => c.custom[field]?.value === true).map(([k]) => k),
      );
      out.push(...compareSets(`field "${field}"`, expected, flagged));
    }
  }
  return out;
};

/**
 * One seed: a random export and data; a faulty run, churn, a second faulty run, then a clean run;
 * then the invariants: every run ended with counts that add up, Autopilot equals the segments, nobody
 * unsubscribed was re-subscribed, no key or raw email was logged, and the clean run succeeded.
 */
export const runScenario = async (seed: number): Promise<ScenarioReport> => {
  const rng = new Rng(seed);
  const scenario = buildScenario(rng.fork());
  const world = new ChaosWorld(rng.fork());
  await setUp(world, scenario);
  setSegments(world, scenario, 'before');
  await faultyRun(world, rng, scenario);
  setSegments(world, scenario, 'after');
  await faultyRun(world, rng, scenario);
  const clean = await cleanRun(world);
  const { runs } = await world.state.runs.list('exp-1', 1_000);
  const violations = [
    ...(clean?.status === 'succeeded'
      ? []
      : [`the clean run ended ${clean?.status}: ${clean?.reason ?? ''}`]),
    ...countsAddUp(runs),
    ...destinationMatches(world, scenario),
    ...scenario.unsubscribed
      .filter((k) => world.destination.contacts.get(k)?.unsubscribed !== true)
      .map((k) => `${k} was re-subscribed`),
    ...logsClean(world.logger.lines, [API_KEY], scenario.addresses),
  ];
  const summary =
    `${scenario.mode} mode, ${scenario.segments.length} segment(s), bulk ${scenario.bulkHonoursList ? 'honours' : 'ignores'} lists ` +
    `(believed ${scenario.believed}), runs: ${[...runs]
      .reverse()
      .map((r) => r.status)
      .join(' → ')}, ` +
    `dead-lettered ${world.deadLettered.length}`;
  return { seed, summary, violations, runs };
};
