/**
 * One planner measurement, in its own process (bench/planner.ts bundles this file with esbuild and
 * runs it with plain `node`, so the process holds the planner and nothing else). Plans one
 * first-export run of the sample segments in `--dir` with the real `planRun` over a
 * `FileSegmentSource`; state store, queues and Autopilot are in-memory fakes. Prints one JSON line.
 *
 *   node worker.mjs --dir DIR --mode list|field --trigger dry-run|on-demand [--page-size 1000]
 *   node worker.mjs --idle      # baseline: the bundle loaded, nothing run
 *
 * Profiling aids: `--heap-snapshot FILE` writes a V8 heap snapshot when planning is complete and
 * everything it built is still alive (the `plans.complete` call); `--counts a=1,b=2` gives the
 * run's starting estimate its segment sizes (otherwise counted from the files before planning);
 * `--digest` hashes every queued message, to show two planner versions queue the same bytes.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { writeHeapSnapshot } from 'node:v8';
import { CachedSecretProvider } from '#lib/adapters/secrets/cached.ts';
import { FileSegmentSource } from '#lib/adapters/segments/file-segment-source.ts';
import { ExportConfigSchema } from '#lib/domain/export-config.ts';
import type { ExportRecord } from '#lib/domain/export-record.ts';
import type { PlanMessage, SendBatchMessageInput } from '#lib/domain/messages.ts';
import { oneDestination } from '#lib/ports/destination.ts';
import { silentLogger } from '#lib/ports/logger.ts';
import type { SegmentSource } from '#lib/ports/segment-source.ts';
import { DEFAULT_RETRY } from '#lib/use-cases/destination-calls.ts';
import { type PlanRunDeps, planRun } from '#lib/use-cases/plan-run.ts';
import { startRun } from '#lib/use-cases/start-run.ts';
import { InMemorySecretProvider } from '#local/in-memory-secrets.ts';
import { SAMPLE_DATA_MATCHING, SAMPLE_SEGMENTS } from '#local/sample-data.ts';
import { FakeClock } from '#test/fakes/fake-clock.ts';
import { InMemoryDestination } from '#test/fakes/in-memory-destination.ts';
import { InMemoryQueue } from '#test/fakes/in-memory-queue.ts';
import { InMemoryRateBudget } from '#test/fakes/in-memory-rate-budget.ts';
import { createInMemoryState } from '#test/fakes/in-memory-state.ts';
import { RecordingNotifier } from '#test/fakes/recording-notifier.ts';
import { aConnection } from '#test/fixtures/state-records.ts';
import { HeapSampler, sampledPort } from './lib/heap-sampler.ts';
import { SinkCheckpoints, sinkStaging } from './lib/planner-sinks.ts';
import { SerialisingQueue } from './lib/serialising-queue.ts';

export interface PlannerWorkerReport {
  kind: 'idle' | 'plan';
  mode?: 'list' | 'field';
  trigger?: 'dry-run' | 'on-demand';
  /** Wall time of the `planRun` call alone. */
  planMs?: number;
  /** CPU time (user + system, every thread: GC helpers too) of the `planRun` call. */
  cpuMs?: number;
  status?: string;
  profilesRead?: number;
  distinct?: number;
  invalid?: number;
  merged?: number;
  added?: number;
  batchesTotal?: number;
  messagesQueued?: number;
  messageBytes?: number;
  requestsEstimated?: number;
  /** SHA-256 of the run's planning figures, estimate and batch count (keys sorted): same plan ⇔ same digest. */
  planDigest?: string;
  /** With `--digest`: SHA-256 of every queued message body, in order (hashing is inside the timing). */
  messagesDigest?: string;
  /** `process.resourceUsage().maxRSS`, the process's peak resident set. */
  maxRssMB: number;
  /** Resident set just before `planRun` (bundle loaded, fakes built, nothing read). */
  rssBeforeMB: number;
  heapUsedBeforeMB: number;
  peakHeapUsedMB: number;
  peakHeapTotalMB: number;
  peakExternalMB: number;
  heapSamples: number;
}

/** JSON with object keys sorted, so a digest does not depend on the order counters were first met. */
const stableJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );

const MB = 2 ** 20;
const mb = (bytes: number): number => Math.round((bytes / MB) * 10) / 10;

/** The production planner's settings (functions/shared/env.ts defaults). */
const SETTINGS = (pageSize: number): PlanRunDeps['settings'] => ({
  pageSize,
  perContactBatchSize: 25,
  reserveMs: 60_000,
  probeRecheckMs: 7 * 24 * 3600_000,
  ...DEFAULT_RETRY,
});

const idleReport = (): PlannerWorkerReport => {
  const m = process.memoryUsage();
  return {
    kind: 'idle',
    maxRssMB: mb(process.resourceUsage().maxRSS * 1024),
    rssBeforeMB: mb(m.rss),
    heapUsedBeforeMB: mb(m.heapUsed),
    peakHeapUsedMB: mb(m.heapUsed),
    peakHeapTotalMB: mb(m.heapTotal),
    peakExternalMB: mb(m.external),
    heapSamples: 1,
  };
};

const measure = async (
  dir: string,
  mode: 'list' | 'field',
  trigger: 'dry-run' | 'on-demand',
  pageSize: number,
  options: { heapSnapshot?: string; counts?: Record<string, number>; digest?: boolean },
): Promise<PlannerWorkerReport> => {
  const clock = new FakeClock({ start: Date.parse('2025-06-01T06:00:00Z') });
  const sampler = new HeapSampler();
  const state = createInMemoryState();
  const now = new Date(clock.now()).toISOString();
  const connection = aConnection({ displayName: 'Autopilot (bench)', createdAt: now, updatedAt: now });
  await state.connections.create(connection);
  const exp: ExportRecord = {
    ...ExportConfigSchema.parse({
      name: 'Sample segments to Autopilot',
      connectionId: connection.id,
      segmentIds: SAMPLE_SEGMENTS.map((s) => s.id),
      membership: mode,
      dataMatching: SAMPLE_DATA_MATCHING,
    }),
    id: 'exp-1',
    createdBy: 'admin',
    createdAt: now,
    updatedBy: 'admin',
    updatedAt: now,
    version: 1,
  };
  await state.exports.create(exp);

  // Starting the run is the API's work, not the planner's: untimed, and given the segment sizes
  // when known so that counting the files does not raise this process's peak before planning.
  const { counts } = options;
  const startSegments: SegmentSource = counts
    ? {
        listSegments: async () => [],
        readPage: async () => ({ profiles: [], skipped: [] }),
        getSegment: async (id) => {
          const s = SAMPLE_SEGMENTS.find((x) => x.id === id);
          return s && { id, name: s.name, profiles: counts[id] ?? 0 };
        },
      }
    : new FileSegmentSource({ dir });
  const startQueue = new InMemoryQueue<PlanMessage>();
  await startRun(
    {
      ...state,
      segments: startSegments,
      planQueue: startQueue,
      destinations: oneDestination(new InMemoryDestination()),
      clock,
      logger: silentLogger,
      newId: () => 'run-0001',
    },
    { exportId: exp.id, trigger, requestedBy: 'bench' },
  );
  const [message] = startQueue.take();
  if (message === undefined) throw new Error('startRun queued no plan message');

  const sendQueue = new SerialisingQueue<SendBatchMessageInput>({ digest: options.digest ?? false });
  const checkpoints = new SinkCheckpoints();
  const deps: PlanRunDeps = {
    ...state,
    plans: sampledPort(state.plans, sampler, (method) => {
      if (method === 'complete' && options.heapSnapshot) writeHeapSnapshot(options.heapSnapshot);
    }),
    snapshots: sampledPort(sinkStaging(state.snapshots), sampler),
    checkpoints: sampledPort(checkpoints, sampler),
    notifier: new RecordingNotifier(),
    clock,
    logger: silentLogger,
    // A fresh source, as in a new planner invocation: it counts each file's rows itself.
    segments: sampledPort(new FileSegmentSource({ dir }), sampler),
    destinations: oneDestination(new InMemoryDestination({ validKeys: ['key-1'] })),
    secrets: new CachedSecretProvider(new InMemorySecretProvider({ [connection.id]: 'key-1' }), { clock }),
    rateBudget: new InMemoryRateBudget(clock),
    sendQueue: sampledPort(sendQueue, sampler),
    planQueue: new SerialisingQueue<PlanMessage>(),
    settings: SETTINGS(pageSize),
  };

  globalThis.gc?.();
  const before = process.memoryUsage();
  sampler.start();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await planRun(deps, message, () => 15 * 60_000 - (performance.now() - t0));
  const planMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  sampler.stop();
  const maxRss = process.resourceUsage().maxRSS * 1024;

  const run = await state.runs.get(message.runId);
  const planning = run?.planning;
  const requestsEstimated = Object.values(run?.estimate?.requests ?? {}).reduce<number>(
    (a, b) => a + (b ?? 0),
    0,
  );
  return {
    kind: 'plan',
    mode,
    trigger,
    planMs: Math.round(planMs * 10) / 10,
    cpuMs: Math.round((cpu.user + cpu.system) / 100) / 10,
    status: run?.status ?? 'missing',
    profilesRead: planning?.profilesRead ?? 0,
    distinct: planning?.distinct ?? 0,
    invalid: Object.values(planning?.invalid ?? {}).reduce((a, b) => a + b, 0),
    merged: planning?.merged ?? 0,
    added: planning?.added ?? 0,
    batchesTotal: run?.batchesTotal ?? 0,
    messagesQueued: sendQueue.messages,
    messageBytes: sendQueue.bytes,
    requestsEstimated,
    planDigest: createHash('sha256')
      .update(stableJson({ planning, estimate: run?.estimate, batchesTotal: run?.batchesTotal }))
      .digest('hex'),
    ...(options.digest ? { messagesDigest: sendQueue.digest() } : {}),
    maxRssMB: mb(maxRss),
    rssBeforeMB: mb(before.rss),
    heapUsedBeforeMB: mb(before.heapUsed),
    peakHeapUsedMB: mb(sampler.peakHeapUsed),
    peakHeapTotalMB: mb(sampler.peakHeapTotal),
    peakExternalMB: mb(sampler.peakExternal),
    heapSamples: sampler.samples,
  };
};

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      idle: { type: 'boolean', default: false },
      dir: { type: 'string' },
      mode: { type: 'string', default: 'list' },
      trigger: { type: 'string', default: 'dry-run' },
      'page-size': { type: 'string', default: '1000' },
      'heap-snapshot': { type: 'string' },
      counts: { type: 'string' },
      digest: { type: 'boolean', default: false },
    },
  });
  if (values.idle) {
    console.log(JSON.stringify(idleReport()));
    return;
  }
  if (!values.dir) throw new Error('--dir is required');
  const mode = values.mode === 'field' ? 'field' : 'list';
  const trigger = values.trigger === 'on-demand' ? 'on-demand' : 'dry-run';
  const counts = values.counts
    ? Object.fromEntries(
        values.counts.split(',').map((pair) => {
          const [id = '', n = '0'] = pair.split('=');
          return [id, Number(n)];
        }),
      )
    : undefined;
  const report = await measure(values.dir, mode, trigger, Number(values['page-size']), {
    ...(values['heap-snapshot'] ? { heapSnapshot: values['heap-snapshot'] } : {}),
    ...(counts ? { counts } : {}),
    digest: values.digest,
  });
  console.log(JSON.stringify(report));
};

await main();
