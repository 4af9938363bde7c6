import { ExportConfigSchema, listTitle, membershipFieldName } from '#lib/domain/export-config.ts';
import { isTerminal } from '#lib/domain/run.ts';
import type { RunRecord } from '#lib/ports/state-store.ts';
import { aConnection } from '#test/fixtures/state-records.ts';
import { drawRates, NO_FAULTS } from './faults.ts';
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
  await world.store.putConnection(aConnection({ createdAt: now, updatedAt: now, bulkMembership: believed }), {
    expectNew: true,
  });
  await world.secrets.putApiKey('conn-1', API_KEY);
  const config = ExportConfigSchema.parse({
    name: 'Chaos export',
    connectionId: 'conn-1',
    ...scenario.config,
  });
  await world.store.putExport(
    {
      ...config,
      id: 'exp-1',
      createdBy: 'chaos',
      createdAt: now,
      updatedBy: 'chaos',
      updatedAt: now,
      version: 1,
    },
    { expectNew: true },
  );
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
  await world.store.setConnectionStatus('conn-1', 'active');
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
  return world.store.getRun(started.run.id);
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

/** Every run ended, and its counts add up. */
const countsAddUp = (runs: readonly RunRecord[]): string[] =>
  runs.flatMap((r) => {
    const out: string[] = [];
    const p = r.progress;
    if (!isTerminal(r.status)) out.push(`run ${r.id} is still ${r.status}`);
    if (r.batchesTotal !== undefined && p.batchesDone > r.batchesTotal) {
      out.push(`run ${r.id}: batchesDone ${p.batchesDone} > batchesTotal ${r.batchesTotal}`);
    }
    const counted = p.accepted + p.failed + p.dropped;
    if (r.itemsPlanned !== undefined && counted > r.itemsPlanned) {
      out.push(`run ${r.id}: accepted+failed+dropped ${counted} > planned ${r.itemsPlanned}`);
    }
    const finished = r.status === 'succeeded' || r.status === 'completed_with_errors';
    if (finished && r.trigger !== 'dry-run') {
      if (p.batchesDone !== r.batchesTotal)
        out.push(`run ${r.id} ${r.status} with ${p.batchesDone}/${r.batchesTotal} batches`);
      if (counted !== r.itemsPlanned)
        out.push(`run ${r.id} ${r.status} counting ${counted} of ${r.itemsPlanned}`);
    }
    if (r.status === 'succeeded' && (p.failed > 0 || p.dropped > 0))
      out.push(`run ${r.id} succeeded with failures`);
    return out;
  });

/** No API key and no whole address of the data in any log line (masked ones look like `u***@…`). */
const logsClean = (world: ChaosWorld, scenario: Scenario): string[] => {
  const addresses = new Set([...scenario.addresses].map((a) => a.toLowerCase()));
  const out: string[] = [];
  for (const line of world.logger.lines) {
    if (line.includes(API_KEY)) out.push(`API key in a log line: ${line.slice(0, 120)}`);
    for (let at = line.indexOf('@'); at !== -1; at = line.indexOf('@', at + 1)) {
      let start = at;
      while (start > 0 && /[A-Za-z0-9._%+-]/.test(line[start - 1] ?? '')) start--;
      let end = at + 1;
      while (end < line.length && /[A-Za-z0-9.-]/.test(line[end] ?? '')) end++;
      const candidate = line.slice(start, end).toLowerCase();
      if (start < at && addresses.has(candidate)) out.push(`raw email in a log line: ${line.slice(0, 120)}`);
    }
  }
  return out.slice(0, 3);
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
  const { runs } = await world.store.listRuns('exp-1', 1_000);
  const violations = [
    ...(clean?.status === 'succeeded'
      ? []
      : [`the clean run ended ${clean?.status}: ${clean?.reason ?? ''}`]),
    ...countsAddUp(runs),
    ...destinationMatches(world, scenario),
    ...scenario.unsubscribed
      .filter((k) => world.destination.contacts.get(k)?.unsubscribed !== true)
      .map((k) => `${k} was re-subscribed`),
    ...logsClean(world, scenario),
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
