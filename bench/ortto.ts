/**
 * Ortto benchmark (issue: a 100,000-profile export in about two minutes): the local runtime against
 * the Ortto stand-in at Ortto's lowest plan rate (10 requests/s, answers 250–400 ms late), a first
 * export in tag mode and a 1%-churn re-run. Reports sending time, requests against the floor (one
 * merge per 100 changed people, joins and leaves included) and the counted AWS cost, against the
 * targets: ≤ 2 minutes of sending, ≤ 1,010 requests, ≤ $0.01 for the first export.
 * Writes bench/results/ortto.json.
 *
 *   npx tsx bench/ortto.ts [--profiles 100000] [--rate 10] [--latency 250-400] [--out bench/results]
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ORTTO_DOCUMENTED_RATE, orttoCosts, orttoRequests } from '#lib/adapters/ortto/cost-model.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import { PRIVACY_NOTICE_VERSION } from '#lib/use-cases/connection-inputs.ts';
import { sendLanes } from '#lib/use-cases/planning/lanes.ts';
import { invokeLocalApi } from '#local/api-gateway.ts';
import { FileLogger } from '#local/file-logger.ts';
import type { RequestRecord } from '#local/ortto-standin/types.ts';
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
import { costPer100k } from './lib/cost.ts';
import { machineInfo } from './lib/machine.ts';

const { values } = parseArgs({
  options: {
    profiles: { type: 'string', default: '100000' },
    rate: { type: 'string', default: String(ORTTO_DOCUMENTED_RATE) },
    latency: { type: 'string', default: '250-400' },
    out: { type: 'string', default: 'bench/results' },
  },
});
const PROFILES = Number(values.profiles);
const RATE = Number(values.rate);
const [LATENCY_MIN = 250, LATENCY_MAX = LATENCY_MIN] = String(values.latency).split('-').map(Number);
const RESULTS = String(values.out);
const TARGETS = { sendingSeconds: 120, requests: 1_010, costUsd: 0.01 } as const;
const MERGE = 'POST /v1/person/merge';
const TAGS_GET = 'POST /v1/tags/get';
/**
 * Every merge is one request: merges go round the connection's send lanes (planning/lanes.ts), each
 * lane's sender priced as busy for the whole sending time (an upper bound: it is billed while its
 * one request is out).
 */
const SENDERS_PRICED = sendLanes(orttoCosts, 'supported', RATE).upsert ?? 1;

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

const runAndWait = async (runtime: LocalRuntime, exportId: string): Promise<RunRecord> => {
  const started = await api<{ runId: string }>(runtime, 'POST', `/exports/${exportId}/runs`);
  return runtime.waitForRun(started.runId, { timeoutMs: 30 * 60_000 });
};

/**
 * What the stand-in saw of one run: requests by route, 429s, the span of the merges, and the
 * verification's tag counts (one tags/get per segment tag before planning) apart from the merges.
 */
const measure = (
  run: RunRecord,
  timeline: readonly RequestRecord[],
  aws: AwsCounts,
  logBytes: number,
  segments: number,
) => {
  const byRoute: Record<string, number> = {};
  for (const r of timeline) byRoute[r.route] = (byRoute[r.route] ?? 0) + 1;
  const merges = timeline.filter((r) => r.route === MERGE).map((r) => r.t);
  const sendingSeconds = merges.length > 1 ? ((merges.at(-1) ?? 0) - (merges[0] ?? 0)) / 1000 : 0;
  const planningSeconds = run.planningFinishedAt
    ? (Date.parse(run.planningFinishedAt) - Date.parse(run.createdAt)) / 1000
    : 0;
  const requests = timeline.length;
  const floor = run.estimate?.floorRequests ?? 0;
  const cost = costPer100k(
    { profiles: PROFILES, autopilotRequests: requests, aws, logBytes, planningSeconds },
    { rate: RATE, sender: { senders: SENDERS_PRICED, memoryMb: SIZING.sender.memorySize } },
  );
  return {
    run: { id: run.id, status: run.status, failed: run.progress.failed, accepted: run.progress.accepted },
    planningSeconds,
    sendingSeconds,
    requests: {
      total: requests,
      byRoute,
      throttled: timeline.filter((r) => r.status === 429).length,
      verify: byRoute[TAGS_GET] ?? 0,
      expectedVerify: orttoRequests.verify(segments),
    },
    // The floor is the merges'; the merges are what it is compared with.
    floor: { requests: floor, merges: merges.length, ratio: floor > 0 ? merges.length / floor : null },
    costUsd: cost.reduce((n, l) => n + l.usd, 0),
    cost,
  };
};

const main = async (): Promise<void> => {
  mkdirSync(join('bench', '.tmp'), { recursive: true });
  const logPath = join('bench', '.tmp', 'ortto.jsonl');
  writeFileSync(logPath, '');
  const runtime = await startLocalRuntime({
    // Unused here, but the runtime always has one; Ortto connections go to the Ortto stand-in.
    autopilot: { kind: 'standin', ratePerSecond: 5 },
    ortto: {
      standIn: {
        ratePerSecond: RATE,
        burst: RATE,
        seed: 1,
        recordTimeline: true,
        faults: { latencyMs: { min: LATENCY_MIN, max: LATENCY_MAX } },
      },
    },
    // Pollers of the send queue, as the stack's sender maximum concurrency: enough for the connection's
    // send lanes (5 at 10/s), which are what keeps its budget busy with one-request batches.
    senders: 6,
    logger: new FileLogger(logPath),
  });
  const ortto = runtime.ortto;
  if (ortto === undefined) throw new Error('the Ortto stand-in did not start');
  try {
    const aws = countAwsCalls({ dynamo: runtime.dynamo, sqs: runtime.sqs });
    const dataset = generateSampleProfiles({ profiles: PROFILES, seed: 42 });
    await seedDynamoDbSegments(runtime.segmentWriter, dataset);
    const connection = await api<{ id: string }>(runtime, 'POST', '/connections', {
      displayName: 'bench ortto',
      type: 'ortto',
      region: 'global',
      apiKey: ortto.apiKey,
      consent: { accepted: true, noticeVersion: PRIVACY_NOTICE_VERSION },
      ratePerSecond: RATE,
    });
    const exp = await api<{ id: string }>(runtime, 'POST', '/exports', {
      name: 'bench ortto',
      connectionId: connection.id,
      segmentIds: dataset.segments.map((s) => s.id),
      membership: 'tag',
      dataMatching: SAMPLE_DATA_MATCHING,
      cap: Math.max(100_000, PROFILES),
    });

    ortto.standIn.resetCounts();
    resetCounts(aws);
    let logStart = statSync(logPath).size;
    const firstRun = await runAndWait(runtime, exp.id);
    const first = measure(
      firstRun,
      ortto.standIn.timeline(),
      structuredClone(aws),
      statSync(logPath).size - logStart,
      dataset.segments.length,
    );

    const churned = applyChurn(dataset, { fraction: 0.01, seed: 43 });
    await syncDynamoDbSegments(runtime.segmentWriter, dataset, churned.dataset);
    ortto.standIn.resetCounts();
    resetCounts(aws);
    logStart = statSync(logPath).size;
    const rerunRun = await runAndWait(runtime, exp.id);
    const rerun = measure(
      rerunRun,
      ortto.standIn.timeline(),
      structuredClone(aws),
      statSync(logPath).size - logStart,
      dataset.segments.length,
    );

    const met = {
      sendingSeconds: first.sendingSeconds <= TARGETS.sendingSeconds,
      requests: first.requests.total <= TARGETS.requests,
      costUsd: first.costUsd <= TARGETS.costUsd,
      succeeded: first.run.status === 'succeeded' && rerun.run.status === 'succeeded',
    };
    const result = {
      name: 'ortto',
      ...machineInfo(),
      profiles: PROFILES,
      ratePerSecond: RATE,
      latencyMs: { min: LATENCY_MIN, max: LATENCY_MAX },
      targets: TARGETS,
      met,
      method:
        'The local runtime (real planner, sender and API handlers; DynamoDB Local; fauxqs) exports the sample ' +
        'profiles in tag mode into the Ortto stand-in, which enforces the rate (token bucket, burst = rate) and ' +
        'answers each request 250–400 ms late. sendingSeconds: first to last person/merge the stand-in received. ' +
        'requests: every request the stand-in received (custom-field reads and creations, and the tag counts ' +
        "that verify each run, included); floor: the planner's own (one merge per 100 changed people), and " +
        'its ratio is the merges over it. cost: bench/lib/cost.ts from the counted DynamoDB, SQS ' +
        `and log use, with ${SENDERS_PRICED} senders (the send lanes at this rate) × ${SIZING.sender.memorySize} MB billed for the whole sending time.`,
      first,
      rerun: { ...rerun, shareOfFirst: rerun.requests.total / Math.max(1, first.requests.total) },
    };
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, 'ortto.json'), `${JSON.stringify(result, null, 2)}\n`);
    const line = (label: string, m: typeof first) =>
      `${label}: ${m.run.status}, ${m.requests.total} requests (${m.floor.merges} merges, floor ${m.floor.requests}; ` +
      `${m.requests.verify} tag counts), ` +
      `sending ${m.sendingSeconds.toFixed(1)} s, planning ${m.planningSeconds.toFixed(1)} s, $${m.costUsd.toFixed(4)}`;
    console.log(line('first export', first));
    console.log(line('1% re-run', rerun));
    console.log(`targets met: ${JSON.stringify(met)}`);
  } finally {
    await runtime.close();
  }
};

await main();
