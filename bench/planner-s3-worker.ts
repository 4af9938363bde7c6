/**
 * One planner measurement over an S3 refresh, in its own process (bench/planner-s3.ts bundles this
 * file with esbuild and runs it with plain `node`). Plans one first-export run of one segment with
 * the real `planRun` over an `S3SegmentSource` for a fixed refresh, against the local S3 at
 * `--endpoint`; state store, queues and Autopilot are in-memory fakes. Prints one JSON line.
 *
 *   node worker.mjs --endpoint URL --bucket B --refresh R --segment S
 *                   [--mode list|field] [--trigger dry-run|on-demand] [--page-size 1000]
 *                   [--cap 100000] [--cap-policy truncate|fail]
 *   node worker.mjs --idle      # baseline: the bundle loaded, nothing run
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { S3Client } from '@aws-sdk/client-s3';
import { CachedSecretProvider } from '#lib/adapters/secrets/cached.ts';
import { S3SegmentSource } from '#lib/adapters/segments/s3-segment-source.ts';
import { ExportConfigSchema } from '#lib/domain/export-config.ts';
import type { ExportRecord } from '#lib/domain/export-record.ts';
import type { PlanMessage, SendBatchMessageInput } from '#lib/domain/messages.ts';
import { oneDestination } from '#lib/ports/destination.ts';
import { silentLogger } from '#lib/ports/logger.ts';
import { DEFAULT_RETRY } from '#lib/use-cases/destination-calls.ts';
import { type PlanRunDeps, planRun } from '#lib/use-cases/plan-run.ts';
import { startRun } from '#lib/use-cases/start-run.ts';
import { InMemorySecretProvider } from '#local/in-memory-secrets.ts';
import { SAMPLE_DATA_MATCHING } from '#local/sample-data.ts';
import { FakeClock } from '#test/fakes/fake-clock.ts';
import { InMemoryDestination } from '#test/fakes/in-memory-destination.ts';
import { InMemoryQueue } from '#test/fakes/in-memory-queue.ts';
import { InMemoryRateBudget } from '#test/fakes/in-memory-rate-budget.ts';
import { createInMemoryState } from '#test/fakes/in-memory-state.ts';
import { RecordingNotifier } from '#test/fakes/recording-notifier.ts';
import { aConnection } from '#test/fixtures/state-records.ts';
import { peakRssMB } from '#test/support/peak-rss.ts';
import { localS3Client } from '#test/support/s3-endpoint.ts';
import { HeapSampler, sampledPort } from './lib/heap-sampler.ts';
import { SinkCheckpoints, sinkStaging } from './lib/planner-sinks.ts';
import { SerialisingQueue } from './lib/serialising-queue.ts';

export interface PlannerS3WorkerReport {
  kind: 'idle' | 'plan';
  /** Wall time of the `planRun` call alone. */
  planMs?: number;
  /** CPU time (user + system, every thread) of the `planRun` call. */
  cpuMs?: number;
  status?: string;
  profilesRead?: number;
  distinct?: number;
  invalid?: number;
  overCap?: number;
  messagesQueued?: number;
  /** S3 GetObject calls the planner's source made, and the bytes they carried. */
  s3Gets?: number;
  s3MB?: number;
  /** Peak resident set of this process (VmHWM: see test/support/peak-rss.ts). */
  peakRssMB: number;
  rssBeforeMB: number;
  peakHeapUsedMB: number;
  peakHeapTotalMB: number;
  peakExternalMB: number;
}

const MB = 2 ** 20;
const mb = (bytes: number): number => Math.round((bytes / MB) * 10) / 10;

/** Counts GetObject calls and the bytes of their bodies' Content-Length. */
const countGets = (client: S3Client): { gets: number; bytes: number } => {
  const counts = { gets: 0, bytes: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      if (context.commandName === 'GetObjectCommand') {
        counts.gets++;
        counts.bytes += (out.output as { ContentLength?: number }).ContentLength ?? 0;
      }
      return out;
    },
    { step: 'initialize', name: 'benchGetCounter' },
  );
  return counts;
};

interface Options {
  endpoint: string;
  bucket: string;
  refresh: string;
  segment: string;
  mode: 'list' | 'field';
  trigger: 'dry-run' | 'on-demand';
  pageSize: number;
  cap: number;
  capPolicy: 'fail' | 'truncate';
}

const measure = async (o: Options): Promise<PlannerS3WorkerReport> => {
  const clock = new FakeClock({ start: Date.parse('2025-06-01T06:00:00Z') });
  const sampler = new HeapSampler();
  const state = createInMemoryState();
  const now = new Date(clock.now()).toISOString();
  const connection = aConnection({ cap: o.cap, createdAt: now, updatedAt: now });
  await state.connections.create(connection);
  const exp: ExportRecord = {
    ...ExportConfigSchema.parse({
      name: 'S3 refresh to Autopilot',
      connectionId: connection.id,
      segmentIds: [o.segment],
      membership: o.mode,
      dataMatching: SAMPLE_DATA_MATCHING,
      cap: o.cap,
      capPolicy: o.capPolicy,
    }),
    id: 'exp-1',
    createdBy: 'admin',
    createdAt: now,
    updatedBy: 'admin',
    updatedAt: now,
    version: 1,
  };
  await state.exports.create(exp);
  const client = (): S3Client => localS3Client(o.endpoint);
  const source = (s3: S3Client) =>
    new S3SegmentSource({ client: s3, bucket: o.bucket, refreshId: o.refresh });

  // Starting the run is the API's work: untimed, and on a source of its own.
  const startQueue = new InMemoryQueue<PlanMessage>();
  await startRun(
    {
      ...state,
      segments: source(client()),
      planQueue: startQueue,
      destinations: oneDestination(new InMemoryDestination()),
      clock,
      logger: silentLogger,
      newId: () => 'run-0001',
    },
    { exportId: exp.id, trigger: o.trigger, requestedBy: 'bench' },
  );
  const [message] = startQueue.take();
  if (message === undefined) throw new Error('startRun queued no plan message');

  const s3 = client();
  const gets = countGets(s3);
  const sendQueue = new SerialisingQueue<SendBatchMessageInput>();
  const deps: PlanRunDeps = {
    ...state,
    plans: sampledPort(state.plans, sampler),
    snapshots: sampledPort(sinkStaging(state.snapshots), sampler),
    checkpoints: sampledPort(new SinkCheckpoints(), sampler),
    notifier: new RecordingNotifier(),
    clock,
    logger: silentLogger,
    // A fresh source, as in a new planner invocation.
    segments: sampledPort(source(s3), sampler),
    destinations: oneDestination(new InMemoryDestination({ validKeys: ['key-1'] })),
    secrets: new CachedSecretProvider(new InMemorySecretProvider({ [connection.id]: 'key-1' }), { clock }),
    rateBudget: new InMemoryRateBudget(clock),
    sendQueue: sampledPort(sendQueue, sampler),
    planQueue: new SerialisingQueue<PlanMessage>(),
    settings: {
      pageSize: o.pageSize,
      perContactBatchSize: 25,
      reserveMs: 60_000,
      probeRecheckMs: 7 * 24 * 3600_000,
      ...DEFAULT_RETRY,
    },
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

  const run = await state.runs.get(message.runId);
  const planning = run?.planning;
  return {
    kind: 'plan',
    planMs: Math.round(planMs * 10) / 10,
    cpuMs: Math.round((cpu.user + cpu.system) / 100) / 10,
    status: run?.status ?? 'missing',
    profilesRead: planning?.profilesRead ?? 0,
    distinct: planning?.distinct ?? 0,
    invalid: Object.values(planning?.invalid ?? {}).reduce((a, b) => a + b, 0),
    overCap: planning?.overCapProfiles ?? 0,
    messagesQueued: sendQueue.messages,
    s3Gets: gets.gets,
    s3MB: mb(gets.bytes),
    peakRssMB: peakRssMB(),
    rssBeforeMB: mb(before.rss),
    peakHeapUsedMB: mb(sampler.peakHeapUsed),
    peakHeapTotalMB: mb(sampler.peakHeapTotal),
    peakExternalMB: mb(sampler.peakExternal),
  };
};

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      idle: { type: 'boolean', default: false },
      endpoint: { type: 'string' },
      bucket: { type: 'string' },
      refresh: { type: 'string' },
      segment: { type: 'string' },
      mode: { type: 'string', default: 'list' },
      trigger: { type: 'string', default: 'dry-run' },
      'page-size': { type: 'string', default: '1000' },
      cap: { type: 'string', default: '100000' },
      'cap-policy': { type: 'string', default: 'truncate' },
    },
  });
  if (values.idle) {
    const m = process.memoryUsage();
    const report: PlannerS3WorkerReport = {
      kind: 'idle',
      peakRssMB: peakRssMB(),
      rssBeforeMB: mb(m.rss),
      peakHeapUsedMB: mb(m.heapUsed),
      peakHeapTotalMB: mb(m.heapTotal),
      peakExternalMB: mb(m.external),
    };
    console.log(JSON.stringify(report));
    return;
  }
  const { endpoint, bucket, refresh, segment } = values;
  if (!endpoint || !bucket || !refresh || !segment)
    throw new Error('--endpoint, --bucket, --refresh and --segment are required');
  const report = await measure({
    endpoint,
    bucket,
    refresh,
    segment,
    mode: values.mode === 'field' ? 'field' : 'list',
    trigger: values.trigger === 'on-demand' ? 'on-demand' : 'dry-run',
    pageSize: Number(values['page-size']),
    cap: Number(values.cap),
    capPolicy: values['cap-policy'] === 'fail' ? 'fail' : 'truncate',
  });
  console.log(JSON.stringify(report));
};

await main();
