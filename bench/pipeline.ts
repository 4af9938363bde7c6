/**
 * Pipeline benchmark (docs/architecture.md#measurements): the local runtime against the Autopilot stand-in, per membership
 * mode, a first export and a 1%-churn re-run, with several concurrent senders. Measures rate use
 * against the budget, the share of 429s, requests against the floor (docs/architecture.md#cost-model), and counts every
 * AWS call for a cost estimate. Writes bench/results/pipeline.json and one chart per mode.
 *
 *   npx tsx bench/pipeline.ts [--profiles 10000] [--modes list,list-bulk,field] [--senders 4]
 *                             [--target-seconds 60] [--rate R]   (default budget: a ~60 s first export, at most 120/s)
 *                             [--latency MS | MIN-MAX]   (the stand-in answers this late; Autopilot: ~250–400 ms)
 *                             [--out DIR]   (default bench/results)
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { autopilotCosts } from '#lib/adapters/autopilot/cost-model.ts';
import { DataMatchingSchema } from '#lib/domain/export-config.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import { PRIVACY_NOTICE_VERSION } from '#lib/use-cases/connection-inputs.ts';
import { sendLanes } from '#lib/use-cases/planning/lanes.ts';
import { invokeLocalApi } from '#local/api-gateway.ts';
import { FileLogger } from '#local/file-logger.ts';
import { type LocalRuntime, startLocalRuntime } from '#local/runtime.ts';
import {
  applyChurn,
  generateSampleProfiles,
  SAMPLE_DATA_MATCHING,
  seedDynamoDbSegments,
  syncDynamoDbSegments,
} from '#local/sample-data.ts';
import { SIZING } from '../cdk/stacks/stateless-stack.ts';
import { type AwsCounts, countAwsCalls, resetCounts } from './lib/aws-counter.ts';
import { type RateSeries, rateChartSvg } from './lib/chart.ts';
import { capacityOf, costPer100k } from './lib/cost.ts';
import { contactsOf, floorOf } from './lib/floor.ts';
import { type SenderActivity, senderActivityProbe } from './lib/sender-activity.ts';

type Mode = 'list' | 'list-bulk' | 'field';

const { values } = parseArgs({
  options: {
    profiles: { type: 'string', default: '10000' },
    modes: { type: 'string', default: 'list,list-bulk,field' },
    senders: { type: 'string', default: '4' },
    'target-seconds': { type: 'string', default: '60' },
    rate: { type: 'string' },
    latency: { type: 'string' },
    out: { type: 'string', default: 'bench/results' },
  },
});
const PROFILES = Number(values.profiles);
const MODES = String(values.modes).split(',') as Mode[];
const SENDERS = Number(values.senders);
const TARGET_SECONDS = Number(values['target-seconds']);
const RESULTS = String(values.out);
/** The stand-in's answer latency, as `--latency 300` or `--latency 250-400` (ms). */
const LATENCY = ((): { min: number; max: number } | undefined => {
  if (values.latency === undefined) return undefined;
  const [min = Number.NaN, max = min] = String(values.latency).split('-').map(Number);
  if (!(Number.isFinite(min) && Number.isFinite(max) && min >= 0 && min <= max))
    throw new Error(`--latency: expected MS or MIN-MAX, got ${values.latency}`);
  return { min, max };
})();

/**
 * The highest default budget. This 2-core machine runs the stand-in, the senders and DynamoDB
 * Local together and sustains ~190 requests/s; above ~150/s a local stall (a GC pause) shows up as
 * lost budget. 120/s leaves headroom, so the figure measures our pacing, not the machine.
 */
const MAX_BUDGET = 120;

/**
 * Senders billed for the whole sending time at the priced 5/s, by mode. List mode's batches are 25
 * requests each, pipelined in one delivery: they share one send lane (one FIFO group), one sender.
 * A bulk batch is one request: they go round the lanes 5/s keeps in flight (planning/lanes.ts), and
 * each lane's sender is priced as busy the whole time, an upper bound (it is billed only while its
 * one request is out).
 */
const sendersPriced = (mode: Mode): number =>
  mode === 'list' ? 1 : (sendLanes(autopilotCosts, 'supported', 5).upsert ?? 1);

/** Routes only the senders call (the planner's list lookups and creations are setup, not sending). */
const SENDER_ROUTES = new Set([
  'POST /contact',
  'POST /contacts',
  'DELETE /list/{id}/contact/{id}',
  'GET /list/{id}/contact/{id}',
]);

interface Measured {
  run: { id: string; status: string; durationMs: number; planningMs: number };
  requests: { total: number; byRoute: Record<string, number>; throttled: number; throttledShare: number };
  sending: { requests: number; seconds: number; achievedPerSecond: number; rateUse: number };
  /** The shared rate budget's own DynamoDB calls, per request the senders made. */
  rateBudget: { writes: number; reads: number; writesPerRequest: number; readsPerRequest: number };
  floor: ReturnType<typeof floorOf> & { ratio: number; plannerFloor: number };
  /** How many senders delivered at once, and how long they were busy (billed) against the span. */
  senders: SenderActivity;
  aws: AwsCounts;
  series: RateSeries;
}

const api = async <T>(runtime: LocalRuntime, method: string, url: string, body?: unknown): Promise<T> => {
  const res = await invokeLocalApi(runtime, {
    method,
    url,
    headers: { authorization: 'Bearer dev-admin', 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (res.status >= 300) throw new Error(`${method} ${url} → ${res.status} ${res.body}`);
  return JSON.parse(res.body) as T;
};

const runAndWait = async (runtime: LocalRuntime, exportId: string, dryRun = false): Promise<RunRecord> => {
  const started = await api<{ runId: string }>(
    runtime,
    'POST',
    `/exports/${exportId}/runs${dryRun ? '?dryRun=true' : ''}`,
  );
  return runtime.waitForRun(started.runId, { timeoutMs: 30 * 60_000 });
};

const measure = (
  runtime: LocalRuntime,
  run: RunRecord,
  budget: number,
  floor: ReturnType<typeof floorOf>,
  aws: AwsCounts,
  activity: Measured['senders'],
  title: string,
): Measured => {
  const standIn = runtime.standIn;
  if (!standIn) throw new Error('stand-in expected');
  const timeline = standIn.timeline();
  const byRoute: Record<string, number> = {};
  let throttled = 0;
  for (const r of timeline) {
    byRoute[r.route] = (byRoute[r.route] ?? 0) + 1;
    if (r.status === 429) throttled++;
  }
  const sending = timeline.filter((r) => SENDER_ROUTES.has(r.route)).map((r) => r.t);
  const first = sending[0] ?? 0;
  const last = sending.at(-1) ?? first;
  const seconds = (last - first) / 1000;
  // n requests exactly on budget span (n − 1) intervals.
  const achieved = sending.length > 1 && seconds > 0 ? (sending.length - 1) / seconds : 0;
  const start = timeline[0]?.t ?? 0;
  const bins = Math.max(1, Math.ceil(((timeline.at(-1)?.t ?? start) - start) / 1000) + 1);
  const perSecond = Array.from({ length: bins }, () => 0);
  const throttledPerSecond = Array.from({ length: bins }, () => 0);
  for (const r of timeline) {
    const bin = Math.floor((r.t - start) / 1000);
    perSecond[bin] = (perSecond[bin] ?? 0) + 1;
    if (r.status === 429) throttledPerSecond[bin] = (throttledPerSecond[bin] ?? 0) + 1;
  }
  const planningMs = run.planningFinishedAt
    ? Date.parse(run.planningFinishedAt) - Date.parse(run.createdAt)
    : 0;
  return {
    run: { id: run.id, status: run.status, durationMs: run.durationMs ?? 0, planningMs },
    requests: {
      total: timeline.length,
      byRoute,
      throttled,
      throttledShare: timeline.length ? throttled / timeline.length : 0,
    },
    sending: { requests: sending.length, seconds, achievedPerSecond: achieved, rateUse: achieved / budget },
    rateBudget: rateBudgetCalls(aws, timeline.length),
    floor: {
      ...floor,
      ratio:
        floor.requests === 0
          ? timeline.length === 0
            ? 1
            : Number.POSITIVE_INFINITY
          : timeline.length / floor.requests,
      plannerFloor: run.estimate?.floorRequests ?? 0,
    },
    senders: activity,
    aws: structuredClone(aws),
    series: { title, perSecond, throttledPerSecond, budget },
  };
};

/** Every Autopilot request (the planner's too) goes through the budget, so all of them divide. */
const rateBudgetCalls = (aws: AwsCounts, requests: number): Measured['rateBudget'] => {
  const writes = aws.dynamodb.RateBudgetUpdate?.calls ?? 0;
  const reads = aws.dynamodb.RateBudgetRead?.calls ?? 0;
  const per = (n: number) => (requests === 0 ? 0 : n / requests);
  return { writes, reads, writesPerRequest: per(writes), readsPerRequest: per(reads) };
};

/** Hand-backs because the budget was busy, from the log lines written since `from` (bytes). */
const benchMode = async (mode: Mode) => {
  const logPath = join('bench', '.tmp', `pipeline-${mode}.jsonl`);
  mkdirSync(join('bench', '.tmp'), { recursive: true });
  writeFileSync(logPath, '');
  const activity = senderActivityProbe();
  const runtime = await startLocalRuntime({
    autopilot: {
      kind: 'standin',
      ratePerSecond: 1000,
      standIn: {
        bulkListMembership: mode === 'list-bulk' ? 'honour' : 'ignore',
        seed: 1,
        recordTimeline: true,
      },
    },
    senders: SENDERS,
    logger: new FileLogger(logPath),
    wrapDestination: activity.wrap,
  });
  try {
    const aws = countAwsCalls({ dynamo: runtime.dynamo, sqs: runtime.sqs });
    const dataset = generateSampleProfiles({ profiles: PROFILES, seed: 42 });
    await seedDynamoDbSegments(runtime.segmentWriter, dataset);
    const connection = await api<{ id: string; version: number }>(runtime, 'POST', '/connections', {
      displayName: `bench ${mode}`,
      apiKey: runtime.apiKey,
      consent: { accepted: true, noticeVersion: PRIVACY_NOTICE_VERSION },
      ratePerSecond: 1000,
    });
    const exp = await api<{ id: string }>(runtime, 'POST', '/exports', {
      name: `bench ${mode}`,
      connectionId: connection.id,
      segmentIds: dataset.segments.map((s) => s.id),
      membership: mode === 'field' ? 'field' : 'list',
      dataMatching: SAMPLE_DATA_MATCHING,
    });

    // The budget: a first export takes about TARGET_SECONDS (from a dry run's request count).
    const dry = await runAndWait(runtime, exp.id, true);
    const planned = dry.estimate?.totalRequests ?? 0;
    const expected = mode === 'list-bulk' ? Math.ceil(planned / 50) : planned; // bulk joins are ~100× cheaper
    const budget = values.rate
      ? Number(values.rate)
      : Math.max(2, Math.min(MAX_BUDGET, Math.round(expected / TARGET_SECONDS)));
    await api(runtime, 'PATCH', `/connections/${connection.id}`, {
      version: connection.version,
      ratePerSecond: budget,
    });
    // The stand-in enforces the same limit Autopilot would: our budget must keep every sender under it.
    runtime.standIn?.configure({ ratePerSecond: budget, burst: budget });
    if (LATENCY !== undefined) runtime.standIn?.setFaults({ latencyMs: LATENCY });

    const matching = DataMatchingSchema.parse(SAMPLE_DATA_MATCHING);
    const segmentCount = dataset.segments.length;
    const floorOptions = {
      mode: mode === 'field' ? ('field' as const) : ('list' as const),
      bulkMembership: mode === 'list-bulk',
      segmentCount,
    };
    const before = contactsOf(dataset, matching);

    runtime.standIn?.resetCounts();
    resetCounts(aws);
    activity.reset();
    const logStart = statSync(logPath).size;
    const firstRun = await runAndWait(runtime, exp.id);
    const first = measure(
      runtime,
      firstRun,
      budget,
      floorOf(new Map(), before, { ...floorOptions, listsToCreate: segmentCount }),
      aws,
      activity.summary(),
      `${mode}: first export`,
    );
    const firstLogBytes = statSync(logPath).size - logStart;

    const churned = applyChurn(dataset, { fraction: 0.01, seed: 43 });
    await syncDynamoDbSegments(runtime.segmentWriter, dataset, churned.dataset);
    runtime.standIn?.resetCounts();
    resetCounts(aws);
    activity.reset();
    const rerunLogStart = statSync(logPath).size;
    const rerunRun = await runAndWait(runtime, exp.id);
    const rerun = measure(
      runtime,
      rerunRun,
      budget,
      floorOf(before, contactsOf(churned.dataset, matching), { ...floorOptions, listsToCreate: 0 }),
      aws,
      activity.summary(),
      `${mode}: 1%-churn re-run`,
    );
    // Priced as deployed: the send queue is FIFO with a message group per send lane, at the stack's
    // sender memory (sendersPriced).
    const pricing = {
      rate: 5,
      sender: { senders: sendersPriced(mode), memoryMb: SIZING.sender.memorySize },
    };
    const cost = costPer100k(
      {
        profiles: PROFILES,
        autopilotRequests: first.requests.total,
        aws: first.aws,
        logBytes: firstLogBytes,
        planningSeconds: first.run.planningMs / 1000,
      },
      pricing,
    );
    const rerunCost = costPer100k(
      {
        profiles: PROFILES,
        autopilotRequests: rerun.requests.total,
        aws: rerun.aws,
        logBytes: statSync(logPath).size - rerunLogStart,
        planningSeconds: rerun.run.planningMs / 1000,
      },
      pricing,
    );
    const snapshot = {
      // Write units the snapshot's items took, per contact of the first export and per changed one of the re-run.
      firstWruPerContact: capacityOf(first.aws).snapshotWru / PROFILES,
      rerunWruPerChange:
        capacityOf(rerun.aws).snapshotWru /
        Math.max(1, rerun.floor.changedWithoutJoin + rerun.floor.joins + rerun.floor.leaves),
    };
    writeFileSync(
      join(RESULTS, `pipeline-${mode}.svg`),
      rateChartSvg(
        [first.series, rerun.series],
        `Requests/s against the budget — ${mode} mode, ${PROFILES.toLocaleString('en-US')} profiles, ${SENDERS} senders`,
      ),
    );
    return {
      mode,
      budget,
      first,
      rerun: {
        ...rerun,
        shareOfFirst: rerun.requests.total / Math.max(1, first.requests.total),
      },
      costPer100kAt5PerSecond: { lines: cost, totalUsd: cost.reduce((n, l) => n + l.usd, 0) },
      rerunCostPer100kAt5PerSecond: { lines: rerunCost, totalUsd: rerunCost.reduce((n, l) => n + l.usd, 0) },
      snapshot,
      hoursFor100kAt5PerSecond: (first.requests.total * (100_000 / PROFILES)) / 5 / 3600,
    };
  } finally {
    await runtime.close();
  }
};

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

const main = async (): Promise<void> => {
  mkdirSync(RESULTS, { recursive: true });
  const modes = [];
  for (const mode of MODES) {
    console.log(`\n[${mode}] ${PROFILES.toLocaleString('en-US')} profiles, ${SENDERS} senders…`);
    const result = await benchMode(mode);
    modes.push(result);
    const f = result.first;
    const r = result.rerun;
    console.log(
      `  budget ${result.budget}/s · first: ${f.requests.total} requests (floor ${f.floor.requests}, ×${f.floor.ratio.toFixed(3)}), ` +
        `rate use ${pct(f.sending.rateUse)} over ${f.sending.seconds.toFixed(1)} s, 429s ${pct(f.requests.throttledShare)}, ` +
        `budget ${f.rateBudget.writesPerRequest.toFixed(3)} writes + ${f.rateBudget.readsPerRequest.toFixed(3)} reads per request`,
    );
    console.log(
      `  senders: ${f.senders.deliveries} deliveries, ${f.senders.averageConcurrent.toFixed(2)} busy on average (peak ${f.senders.peakConcurrent}), ` +
        `${f.senders.busySeconds.toFixed(1)} sender-s over ${f.senders.spanSeconds.toFixed(1)} s, ${f.senders.waitingSeconds.toFixed(1)} s waiting for slots`,
    );
    console.log(
      `  re-run: ${r.requests.total} requests (floor ${r.floor.requests}, ×${r.floor.ratio.toFixed(3)}) = ${pct(r.shareOfFirst)} of the first; ` +
        `100k at 5/s: ${result.hoursFor100kAt5PerSecond.toFixed(2)} h, ~$${result.costPer100kAt5PerSecond.totalUsd.toFixed(4)} per run, ` +
        `re-run ~$${result.rerunCostPer100kAt5PerSecond.totalUsd.toFixed(4)}; snapshot ${result.snapshot.firstWruPerContact.toFixed(3)} WRU per contact, ` +
        `${result.snapshot.rerunWruPerChange.toFixed(3)} per change on the re-run`,
    );
  }
  const targets = {
    rateUse: 0.95,
    throttledShare: 0.01,
    floorRatio: 1.02,
    rerunShare: 0.03,
    /** USD per 100,000-profile first export at 5/s, by mode (issue 14). */
    costUsd: { list: 0.06, 'list-bulk': 0.01, field: 0.01 } as Record<Mode, number>,
    rerunCostUsd: 0.005,
    snapshotWruPerContact: 0.05,
  };
  const met = {
    rateUse: modes.every((m) => m.first.sending.rateUse >= targets.rateUse),
    throttledShare: modes.every(
      (m) =>
        m.first.requests.throttledShare <= targets.throttledShare &&
        m.rerun.requests.throttledShare <= targets.throttledShare,
    ),
    floorRatio: modes.every(
      (m) => m.first.floor.ratio <= targets.floorRatio && m.rerun.floor.ratio <= targets.floorRatio,
    ),
    rerunShare: modes.every((m) => m.rerun.shareOfFirst <= targets.rerunShare),
    costUsd: modes.every((m) => m.costPer100kAt5PerSecond.totalUsd <= targets.costUsd[m.mode]),
    rerunCostUsd: modes.every((m) => m.rerunCostPer100kAt5PerSecond.totalUsd <= targets.rerunCostUsd),
    snapshotWruPerContact: modes.every((m) => m.snapshot.firstWruPerContact <= targets.snapshotWruPerContact),
  };
  const result = {
    name: 'pipeline',
    date: new Date().toISOString(),
    machine: { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model },
    profiles: PROFILES,
    senders: SENDERS,
    ...(LATENCY === undefined ? {} : { standInLatencyMs: LATENCY }),
    targets,
    met,
    modes,
  };
  writeFileSync(join(RESULTS, 'pipeline.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nTargets: ${JSON.stringify(met)}\nWrote ${RESULTS}/pipeline.json and pipeline-<mode>.svg`);
};

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
