import { afterEach, describe, expect, it } from 'vitest';
import { listTitle, membershipFieldName } from '#lib/domain/export-config.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import type { Destination } from '#lib/ports/destination.ts';
import { cancelRun } from '#lib/use-cases/manage-runs.ts';
import type { FaultOptions } from '#local/autopilot-standin/index.ts';
import { applyChurn, type SampleDataset, syncDynamoDbSegments } from '#local/sample-data.ts';
import { expectedMembers } from '#local/verify.ts';
import { RecordingLogger } from '#test/fakes/recording-logger.ts';
import { countsAddUp, logsClean } from '#test/support/chaos/invariants.ts';
import { Rng } from '#test/support/chaos/rng.ts';
import { type LocalPipeline, startLocalPipeline } from '#test/support/local-pipeline.ts';

/**
 * The fault campaign end to end, on DynamoDB Local + fauxqs + the Autopilot stand-in: fewer seeds than
 * the in-memory campaign, through the real adapters. Each seed draws the stand-in's faults (429s, 5xx
 * and resets before and after the write took effect, garbled 2xx, a refused contact, a revoked key),
 * senders that die after a request took effect, a cancel, short invocations; two faulty runs with
 * churn, then a clean run. Replay one with CHAOS_E2E_SEED=<seed>.
 */
const only = process.env.CHAOS_E2E_SEED === undefined ? undefined : Number(process.env.CHAOS_E2E_SEED);
const seeds =
  only === undefined
    ? Array.from({ length: Number(process.env.CHAOS_E2E_SEEDS ?? 5) }, (_, i) => i + 1)
    : [only];

let pipeline: LocalPipeline | undefined;
afterEach(async () => {
  await pipeline?.runtime.close();
  pipeline = undefined;
});

const WRITES = ['POST /contact', 'POST /contacts', 'POST /list', 'DELETE /list/{id}/contact/{id}'];

const drawFaults = (rng: Rng, dataset: SampleDataset): FaultOptions => {
  const rate = rng.pick([0.02, 0.05, 0.1]);
  const refused = dataset.profiles[rng.int(0, dataset.profiles.length - 1)]?.email;
  return {
    rules: [
      { kind: 'error', status: 429, rate },
      { kind: 'error', status: 503, phase: 'after', rate: rate / 2, routes: WRITES },
      { kind: 'error', status: 502, rate: rate / 2 },
      { kind: 'reset', phase: rng.pick(['before', 'after'] as const), rate: rate / 2 },
      { kind: 'malformed', rate: rate / 4, routes: WRITES },
    ],
    ...(rng.chance(0.5) && refused ? { rejectContacts: [refused] } : {}),
    ...(rng.chance(0.2) ? { revokeKeys: { afterRequests: rng.int(20, 200) } } : {}),
  };
};

/** A sender process that dies right after a request took effect, now and then. */
const dyingSenders =
  (rng: Rng, rate: number) =>
  (inner: Destination): Destination => ({
    name: inner.name,
    costs: inner.costs,
    membershipModes: inner.membershipModes,
    open: (key, hooks) => {
      const session = inner.open(key, hooks);
      const dies = async <T>(call: () => Promise<T>): Promise<T> => {
        const out = await call();
        if (rng.chance(rate))
          throw new Error('simulated crash: the sender died after its request took effect');
        return out;
      };
      return Object.assign(Object.create(session) as typeof session, {
        upsertMany: (...args: Parameters<typeof session.upsertMany>) =>
          dies(() => session.upsertMany(...args)),
        upsertIntoList: (...args: Parameters<typeof session.upsertIntoList>) =>
          dies(() => session.upsertIntoList(...args)),
        removeFromList: (...args: Parameters<typeof session.removeFromList>) =>
          dies(() => session.removeFromList(...args)),
      });
    },
  });

const runWithFaults = async (p: LocalPipeline, rng: Rng, dataset: SampleDataset): Promise<RunRecord> => {
  const standIn = p.runtime.standIn;
  if (!standIn) throw new Error('stand-in expected');
  standIn.restoreKey(p.runtime.apiKey);
  await p.runtime.state.connections.setStatus(p.connectionId, 'active');
  standIn.setFaults(drawFaults(rng, dataset));
  const started = await p.runtime.startRun(p.exp.id);
  const cancelAfter = rng.chance(0.2) ? rng.int(200, 3_000) : undefined;
  const cancel =
    cancelAfter === undefined
      ? undefined
      : setTimeout(() => {
          cancelRun(
            {
              ...p.runtime.state,
              clock: { now: () => Date.now(), sleep: async () => {} },
              logger: new RecordingLogger(),
              notifier: {
                healthChanged: async () => {},
                runHeld: async () => {},
                refreshRejected: async () => {},
              },
            },
            started.run.id,
            { id: 'chaos-admin', role: 'admin' },
          ).catch(() => {});
        }, cancelAfter);
  try {
    return await p.runtime.waitForRun(started.run.id, { timeoutMs: 150_000 });
  } finally {
    if (cancel) clearTimeout(cancel);
    for (const [kind, count] of Object.entries(standIn.faultCounts())) {
      injected.set(kind, (injected.get(kind) ?? 0) + count.injected);
    }
    standIn.setFaults(undefined);
  }
};

/** Faults the stand-in injected across the campaign, by kind (printed, and checked to be more than none). */
const injected = new Map<string, number>();

/** What Autopilot holds equals the segments: one list per title (list mode) or one flag per segment. */
const mismatches = (p: LocalPipeline, dataset: SampleDataset): string[] => {
  const standIn = p.runtime.standIn;
  if (!standIn) throw new Error('stand-in expected');
  const out: string[] = [];
  for (const segment of dataset.segments) {
    const expected = [...expectedMembers(dataset, segment.id)].sort();
    let actual: string[];
    if (p.exp.membership === 'list') {
      const title = listTitle(p.exp, segment);
      const lists = standIn.lists(p.runtime.apiKey).filter((l) => l.title === title);
      if (lists.length !== 1) out.push(`list "${title}" exists ${lists.length} times`);
      actual = standIn.listMemberEmails(p.runtime.apiKey, title).map((e) => e.toLowerCase());
    } else {
      const field = membershipFieldName(p.exp, segment);
      actual = standIn
        .contacts(p.runtime.apiKey)
        .filter((c) => c.custom[field]?.value === true)
        .map((c) => (c.email ?? '').toLowerCase());
    }
    actual.sort();
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      out.push(`${segment.name}: ${expected.length} expected, ${actual.length} held`);
    }
  }
  return out;
};

describe('seeded fault campaign end to end (DynamoDB Local + fauxqs + stand-in)', () => {
  it.each(seeds)(
    'seed %i: two faulty runs and a clean one leave Autopilot equal to the segments',
    { timeout: 600_000 },
    async (seed) => {
      const rng = new Rng(seed * 7919);
      const logger = new RecordingLogger();
      pipeline = await startLocalPipeline({
        profiles: rng.int(120, 260),
        export: { membership: rng.pick(['list', 'field'] as const) },
        standIn: { bulkListMembership: rng.pick(['honour', 'ignore'] as const), seed },
        senderTimeoutMs: rng.pick([8_000, 20_000]),
        visibilityTimeoutSeconds: 3,
        wrapDestination: dyingSenders(rng.fork(), 0.01),
        logger,
      });
      const first = pipeline.dataset;
      await runWithFaults(pipeline, rng, first);
      const churned = applyChurn(first, { fraction: 0.05, seed }).dataset;
      await syncDynamoDbSegments(pipeline.runtime.segmentWriter, first, churned);
      await runWithFaults(pipeline, rng, churned);
      pipeline.runtime.standIn?.restoreKey(pipeline.runtime.apiKey);
      await pipeline.runtime.state.connections.setStatus(pipeline.connectionId, 'active');
      const clean = await pipeline.run();

      const { runs } = await pipeline.runtime.state.runs.list(pipeline.exp.id, 100);
      console.info(
        `e2e fault campaign seed ${seed}: ${pipeline.exp.membership} mode, runs ${[...runs]
          .reverse()
          .map((r) => r.status)
          .join(' → ')}; faults so far ${JSON.stringify(Object.fromEntries(injected))}`,
      );
      const report = [
        ...(clean.status === 'succeeded'
          ? []
          : [`the clean run ended ${clean.status}: ${clean.reason ?? ''}`]),
        ...countsAddUp(runs),
        ...mismatches(pipeline, churned),
        ...logsClean(
          logger.lines,
          [pipeline.runtime.apiKey],
          [...first.profiles, ...churned.profiles].map((p) => p.email),
        ),
      ];
      expect(
        report,
        `replay: CHAOS_E2E_SEED=${seed} npx vitest run --project integration test/e2e/fault-campaign.test.ts`,
      ).toEqual([]);
    },
  );

  it('the campaign injected faults of every kind it draws', () => {
    if (only !== undefined) return;
    const kinds = [...injected].filter(([, n]) => n > 0).map(([kind]) => kind);
    for (const wanted of [
      /^error 429 before/,
      /^error 5\d\d after/,
      /^error 5\d\d before/,
      /^malformed after/,
    ]) {
      expect(
        kinds.some((k) => wanted.test(k)),
        String(wanted),
      ).toBe(true);
    }
  });
});
