import { statSync } from 'node:fs';
import type { S3Client } from '@aws-sdk/client-s3';
import { autopilotCosts } from '#lib/adapters/autopilot/cost-model.ts';
import type { DynamoDbRateBudget } from '#lib/adapters/dynamodb/rate-budget.ts';
import { isTerminal } from '#lib/domain/run.ts';
import type { RunRecord } from '#lib/domain/run-record.ts';
import type { State } from '#lib/ports/state.ts';
import { sendLanes } from '#lib/use-cases/planning/lanes.ts';
import type { AutopilotStandIn } from '#local/autopilot-standin/index.ts';
import { dropRefresh } from '#local/refresh-drop.ts';
import type { SampleDataset } from '#local/sample-data.ts';
import { sampleRefreshSegments } from '#local/sample-refresh.ts';
import { checksPass, type SegmentCheck, verifyAgainstAutopilot } from '#local/verify.ts';
import { SIZING } from '../../cdk/stacks/stateless-stack.ts';
import type { AwsCounts } from './aws-counter.ts';
import type { MillionChild, MillionPlanner } from './million-child.ts';
import type { ProcessCounts } from './million-ipc.ts';
import { costPerRun } from './run-cost.ts';

/** Priced at Autopilot's documented 5 requests/s. */
const PRICED_RATE = 5;
/**
 * Field mode's batches are one bulk request each: they go round the send lanes that keep 5/s busy
 * (planning/lanes.ts), each lane's sender priced as busy the whole sending time (an upper bound).
 */
const PRICED_SENDERS = sendLanes(autopilotCosts, 'supported', PRICED_RATE).upsert ?? 1;

/** The parent's view of the runtime: its own clients on the same table and bucket (never counted). */
export interface Harness {
  child: MillionChild;
  planner: MillionPlanner;
  standIn: AutopilotStandIn;
  state: State;
  s3: S3Client;
  bucket: string;
  apiKey: string;
  logPath: string;
  exportId: string;
  connection: { id: string; ratePerSecond: number };
  /** Verification reads through the same kind of shared budget as the pipeline, on the parent's client. */
  rateBudget: DynamoDbRateBudget;
  lists: Array<{ segmentId: string; name: string; field: string }>;
  senders: number;
  /** Default 30 min per wait: a stuck run fails the bench rather than hanging it. */
  timeoutMs: number;
}

type Tally = Record<string, Record<string, number | undefined>>;

/** Two tallies of calls by command added field by field. */
const sum = <T extends Tally>(a: T, b: T): T => {
  const out: Tally = structuredClone(a);
  for (const [key, counts] of Object.entries(b)) {
    const into = out[key] ?? {};
    for (const [field, n] of Object.entries(counts)) into[field] = (into[field] ?? 0) + (n ?? 0);
    out[key] = into;
  }
  return out as T;
};

/** The runtime's and the planner's counts together: what the whole pipeline did. */
const together = (runtime: ProcessCounts, planner: ProcessCounts) => {
  const sourceErrors = { ...runtime.sourceErrors };
  for (const [key, n] of Object.entries(planner.sourceErrors))
    sourceErrors[key] = (sourceErrors[key] ?? 0) + n;
  const aws: AwsCounts = {
    dynamodb: sum(runtime.aws.dynamodb, planner.aws.dynamodb),
    sqs: sum(runtime.aws.sqs, planner.aws.sqs),
  };
  return { aws, s3: sum(runtime.s3, planner.s3), sourceErrors };
};

const s = (ms: number): number => Math.round(ms / 100) / 10;
const SEND_ROUTES = new Set(['POST /contact', 'POST /contacts', 'DELETE /list/{id}/contact/{id}']);

/** Drops the dataset as a refresh and waits until the runtime's arrival handler has verified and recorded it. */
export const dropAndArrive = async (
  h: Pick<Harness, 'child' | 'state' | 's3' | 'bucket' | 'timeoutMs'>,
  dataset: SampleDataset,
): Promise<{ refreshId: string; ms: number }> => {
  const t0 = Date.now();
  const { refreshId } = await dropRefresh({ s3: h.s3, bucket: h.bucket }, sampleRefreshSegments(dataset));
  const arrival = (await h.child.waitForRefresh(refreshId, h.timeoutMs)) as { delivery: { error?: string } };
  if (arrival.delivery.error !== undefined)
    throw new Error(`refresh ${refreshId}: ${arrival.delivery.error}`);
  const recorded = await h.state.refreshes.get(refreshId);
  if (recorded?.outcome === 'rejected') throw new Error(`refresh ${refreshId} rejected: ${recorded.reasons}`);
  return { refreshId, ms: Date.now() - t0 };
};

const waitFor = async (h: Harness, runId: string, done: (run: RunRecord) => boolean): Promise<RunRecord> => {
  const deadline = Date.now() + h.timeoutMs;
  for (;;) {
    const gone = h.child.exitReason() ?? h.planner.exitReason();
    if (gone !== undefined) throw new Error(`run ${runId}: ${gone}`);
    const run = await h.state.runs.get(runId);
    if (run !== undefined && (done(run) || isTerminal(run.status))) return run;
    if (Date.now() > deadline)
      throw new Error(`run ${runId} (${run?.status}) did not get there in ${h.timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
};

const requestsOf = (standIn: AutopilotStandIn): { total: number; sending: number; throttled: number } => {
  let total = 0;
  let sending = 0;
  let throttled = 0;
  for (const [route, byStatus] of Object.entries(standIn.counts())) {
    for (const [status, n] of Object.entries(byStatus)) {
      total += n;
      if (SEND_ROUTES.has(route)) sending += n;
      if (status === '429') throttled += n;
    }
  }
  return { total, sending, throttled };
};

/** What Autopilot holds equals the segments: every profile's membership field, per segment. */
export const verify = async (
  h: Harness,
  dataset: SampleDataset,
): Promise<{ ms: number; ok: boolean; checks: SegmentCheck[]; requests: number }> => {
  const t0 = Date.now();
  const result = await verifyAgainstAutopilot({
    baseUrl: h.standIn.url,
    apiKey: h.apiKey,
    dataset,
    mode: 'field',
    lists: h.lists,
    pacing: {
      rateBudget: h.rateBudget,
      connectionId: h.connection.id,
      ratePerSecond: h.connection.ratePerSecond,
      deadlineMs: h.timeoutMs,
    },
  });
  return {
    ms: Date.now() - t0,
    ok: checksPass(result.checks),
    checks: result.checks,
    requests: result.requests.total,
  };
};

/**
 * One run end to end: the refresh dropped and verified by the arrival handler, the run started on
 * demand (it reads that newest refresh), planned across as many planner invocations as its deadline
 * needs, with the senders held until planning ends on the first run, sent, then read back.
 */
export const measuredRun = async (h: Harness, dataset: SampleDataset, profiles: number) => {
  await Promise.all([h.child.reset(), h.planner.reset()]);
  h.standIn.resetCounts();
  const logStart = statSync(h.logPath).size;
  await h.child.resetPeak();
  const arrival = await dropAndArrive(h, dataset);
  const arrivalPeak = await h.child.counts();
  const runtimeBaselineMB = await h.child.resetPeak();
  const baselineRssMB = await h.planner.resetPeak();
  const { runId } = await h.child.api<{ runId: string }>('POST', `/exports/${h.exportId}/runs`);
  const planned = await waitFor(h, runId, (r) => r.planningDone);
  const [planning, runtimeWhilePlanning] = await Promise.all([h.planner.counts(), h.child.counts()]);
  await h.child.startSenders();
  const run = await waitFor(h, runId, () => false);
  if (run.status !== 'succeeded') throw new Error(`run ${runId} ended ${run.status}: ${run.reason ?? ''}`);
  const counts = together(await h.child.counts(), await h.planner.counts());
  const autopilot = requestsOf(h.standIn);
  const logBytes = statSync(h.logPath).size - logStart;
  const verified = await verify(h, dataset);
  const created = Date.parse(run.createdAt);
  const planningEnd = Date.parse(planned.planningFinishedAt ?? run.planningFinishedAt ?? run.createdAt);
  const finished = Date.parse(run.finishedAt ?? new Date().toISOString());
  const planningSeconds = (planningEnd - created) / 1000;
  const cost = costPerRun(
    { profiles, autopilotRequests: autopilot.total, aws: counts.aws, logBytes, planningSeconds },
    counts.s3,
    { rate: PRICED_RATE, sender: { senders: PRICED_SENDERS, memoryMb: SIZING.sender.memorySize } },
  );
  return {
    runId,
    status: run.status,
    wallSeconds: {
      arrival: s(arrival.ms),
      planning: s(planningEnd - created),
      sending: s(finished - planningEnd),
      verifying: s(verified.ms),
    },
    planner: {
      invocations: planning.plannerInvocations,
      sourceErrors: counts.sourceErrors,
      peakRssMB: planning.peakRssMB,
      invocationPeaksMB: planning.invocationPeaksMB ?? [],
      peakSample: planning.peakSample,
      baselineRssMB,
      ownMB: Math.round((planning.peakRssMB - baselineRssMB) * 10) / 10,
    },
    runtime: {
      peakRssMBWhilePlanning: runtimeWhilePlanning.peakRssMB,
      baselineRssMB: runtimeBaselineMB,
      arrivalPeakRssMB: arrivalPeak.peakRssMB,
    },
    planning: run.planning,
    estimate: run.estimate,
    progress: run.progress,
    autopilot: { ...autopilot, byRoute: h.standIn.counts(), verificationReads: verified.requests },
    aws: { ...counts.aws, s3: counts.s3 },
    logBytes,
    verification: { ok: verified.ok, checks: verified.checks },
    costAt5PerSecond: cost,
  };
};
