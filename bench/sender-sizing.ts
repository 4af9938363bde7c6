/**
 * Sender memory by measurement (issue 14): cold start and throughput at 128/256/512 MB, modelled
 * from what the sender costs on one full core here (bench/lib/sender-sizing-model.ts says how).
 *
 *   npx tsx bench/sender-sizing.ts [--memory 128,256,512] [--samples 9] [--profiles 5000] [--rate 100]
 *     [--heap 128:old=64,semi=2 …] [--glibc-defaults]
 *
 * Each size runs under the heap limits it would have on Lambda: those `--heap` gives it (as its own
 * NODE_OPTIONS would, repeatable), else the stack's sender flags (SENDER_NODE_OPTIONS) at the
 * stack's size (SIZING.sender), else the ones Lambda's bootstrap passes (bench/lib/lambda-node-flags.ts).
 * Every size gets the stack's allocator settings for the sender (SENDER_MALLOC_ENV) unless
 * `--glibc-defaults`.
 * (a) Cold init: the sender bundle built as the stack builds it, in a fresh `node` per sample under
 * those heap limits: CPU from process start to handler ready, and peak RSS.
 * (b) Sending: the local runtime (DynamoDB Local, fauxqs, the stand-in) plans the runs; one sender
 * process per memory size (bench/lib/sender-sizing-worker.ts, the real handler, bundled as the
 * sender is) delivers them one SQS batch at a time: a list-mode first export (upsert + list joins),
 * its 1%-churn re-run (joins and leaves) and a field-mode first export (bulk upserts). CPU inside
 * invocations ÷ the requests the stand-in served gives CPU per request; peak RSS is the process's
 * after all three. The model asks of one sender its workload's share of Autopilot's 5/s: all of it
 * for per-contact batches (one send lane), a third for bulk upserts (three lanes at 5/s).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { startFauxqs } from 'fauxqs';
import { autopilotCosts } from '#lib/adapters/autopilot/cost-model.ts';
import { sendLanes } from '#lib/use-cases/planning/lanes.ts';
import { startDynamoDbLocal } from '#local/dynamodb-local.ts';
import { esbuildBuildOptions, FUNCTION_ENTRIES, REPO_ROOT } from '../cdk/constructs/bundling.ts';
import { houseEnvironment } from '../cdk/constructs/house-function.ts';
import {
  SENDER_BATCH_SIZE,
  SENDER_MALLOC_ENV,
  SENDER_NODE_OPTIONS,
  SIZING,
} from '../cdk/stacks/stateless-stack.ts';
import { BENCH_TMP, bundleWorker } from './lib/bundle-worker.ts';
import { lastJsonLine, runChild } from './lib/child.ts';
import type { InitProbeReport } from './lib/init-probe.ts';
import { effectiveHeapFlags, parseHeapOption } from './lib/lambda-node-flags.ts';
import { machineInfo } from './lib/machine.ts';
import { AUTOPILOT_RATE_PER_SECOND, sizingModel } from './lib/sender-sizing-model.ts';
import type { SizingWorkerConfig, SizingWorkerReport } from './lib/sender-sizing-worker.ts';
import { sendingPhases } from './lib/sizing-phases.ts';
import { median, percentile, round } from './lib/stats.ts';

const { values } = parseArgs({
  options: {
    memory: { type: 'string', default: '128,256,512' },
    samples: { type: 'string', default: '9' },
    profiles: { type: 'string', default: '5000' },
    rate: { type: 'string', default: '100' },
    heap: { type: 'string', multiple: true, default: [] },
    'glibc-defaults': { type: 'boolean', default: false },
    out: { type: 'string', default: join(REPO_ROOT, 'bench', 'results', 'sender-sizing.json') },
  },
});
const MEMORY = String(values.memory).split(',').map(Number);
const SAMPLES = Number(values.samples);
const SENDER_TIMEOUT_MS = 300_000;
/** `--heap 128:old=64,semi=2` (repeatable): a size's own NODE_OPTIONS heap limits. */
const OWN_HEAP = new Map(
  (values.heap ?? []).map((spec) => {
    const { memoryMB, nodeOptions } = parseHeapOption(spec);
    return [memoryMB, nodeOptions] as const;
  }),
);
/** The heap flags a sender of `memoryMB` runs with on Lambda (see the header). */
const heapFlags = (memoryMB: number): string[] =>
  effectiveHeapFlags(
    memoryMB,
    OWN_HEAP.get(memoryMB) ?? (memoryMB === SIZING.sender.memorySize ? SENDER_NODE_OPTIONS : []),
  );
/** The sender function's allocator settings, as the stack sets them. */
const ALLOCATOR_ENV: Record<string, string> = values['glibc-defaults'] ? {} : { ...SENDER_MALLOC_ENV };
/** Send lanes per workload at Autopilot's rate: list mode's per-contact batches, field's bulk upserts. */
const LANES = ((lanes) => ({
  'list first export': lanes['list-join'] ?? 1,
  'list 1% re-run': Math.max(lanes['list-join'] ?? 1, lanes['list-leave'] ?? 1),
  'field first export': lanes.upsert ?? 1,
}))(sendLanes(autopilotCosts, 'unsupported', AUTOPILOT_RATE_PER_SECOND));

/** What the stack gives the sender (dummy values); the network is refused by the probe anyway. */
const coldEnv = (): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  ...houseEnvironment('INFO'),
  ...ALLOCATOR_ENV,
  STATE_TABLE: 'bench-state',
  SECRET_PREFIX: 'autopilot-export/connections/',
  AUTOPILOT_BASE_URL: 'https://api2.autopilothq.com/v1',
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'bench/dummy/secret/key/not/real/0000000000',
  AWS_LAMBDA_FUNCTION_NAME: 'bench',
  NOTIFY_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:bench-runs',
  SEND_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/bench-send',
  SEND_DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/bench-send-dlq',
  SENDER_PARALLELISM: String(SENDER_BATCH_SIZE),
  TZ: 'UTC',
});

const coldInit = async (probe: string, bundle: string, memoryMB: number) => {
  const reports: InitProbeReport[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const result = await runChild(process.execPath, [...heapFlags(memoryMB), probe, bundle], {
      env: coldEnv(),
      cwd: REPO_ROOT,
    });
    if (result.code !== 0) throw new Error(`sender did not initialise: ${result.stderr}`);
    reports.push(lastJsonLine<InitProbeReport>(result, 'sender init'));
  }
  const cpu = reports.map((r) => r.cpuMs);
  return {
    cpuMs: { median: round(median(cpu)), p90: round(percentile(cpu, 90)) },
    importCpuMs: round(median(reports.map((r) => r.importCpuMs))),
    wallMs: round(median(reports.map((r) => r.sinceProcessStartMs))),
    maxRssMB: round(median(reports.map((r) => r.maxRssMB))),
    networkAttempts: [...new Set(reports.flatMap((r) => r.networkAttempts))],
  };
};

/** A sender process under `memoryMB`'s heap limits; `ask` fetches its figures so far. */
const startWorker = async (file: string, memoryMB: number, config: SizingWorkerConfig) => {
  const child: ChildProcess = spawn(process.execPath, [...heapFlags(memoryMB), file], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...houseEnvironment('INFO'),
      ...ALLOCATOR_ENV,
      SIZING_WORKER: JSON.stringify(config),
    },
    cwd: REPO_ROOT,
    // The handler's log lines are written (their CPU counts) and dropped.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`sender worker exited ${code} before it was ready`)));
  });
  return {
    ask: () =>
      new Promise<SizingWorkerReport>((resolve) => {
        child.once('message', (m) => resolve(m as SizingWorkerReport));
        child.send('snapshot');
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.send('stop');
      }),
  };
};

const main = async (): Promise<void> => {
  const machine = machineInfo();
  const senderBundle = join(BENCH_TMP, 'sizing', 'sender', 'index.cjs');
  mkdirSync(join(senderBundle, '..'), { recursive: true });
  await build(esbuildBuildOptions(join(REPO_ROOT, FUNCTION_ENTRIES.sender), senderBundle));
  const probe = await bundleWorker('bench/lib/init-probe.ts', join(BENCH_TMP, 'init-probe.mjs'));
  // Bundled as the sender is, not by bundleWorker: a self-contained ES-module bundle (its 2 MB of
  // source kept as a two-byte string, 2.4 MB of sources inside its source map) made the process
  // ~10 MB larger than the deployed sender's code does.
  const workerFile = join(BENCH_TMP, 'sizing', 'worker', 'index.cjs');
  await build(esbuildBuildOptions(join(REPO_ROOT, 'bench', 'lib', 'sender-sizing-worker.ts'), workerFile));

  const dynamo = await startDynamoDbLocal();
  const fauxqs = await startFauxqs({ port: 0, logger: false });
  const sizes = [];
  try {
    for (const memoryMB of MEMORY) {
      process.stdout.write(`\n[${memoryMB} MB] cold init × ${SAMPLES}… `);
      const init = await coldInit(probe, senderBundle, memoryMB);
      process.stdout.write(`CPU ${init.cpuMs.median} ms, RSS ${init.maxRssMB} MB; sending… `);
      const sending = await sendingPhases({
        services: { dynamoEndpoint: dynamo.endpoint, sqsEndpoint: fauxqs.address },
        profiles: Number(values.profiles),
        ratePerSecond: Number(values.rate),
        senderTimeoutMs: SENDER_TIMEOUT_MS,
        startSender: (config) =>
          startWorker(workerFile, memoryMB, { ...config, batchSize: SENDER_BATCH_SIZE }),
      });
      const model = sizingModel({
        memoryMB,
        initCpuMs: init.cpuMs.median,
        cpuMsPerRequest: Object.fromEntries(sending.phases.map((p) => [p.name, p.cpuMsPerRequest])),
        peakRssMB: sending.peakRssMB,
        lanes: LANES,
      });
      console.log(
        `${sending.phases.map((p) => `${p.name} ${p.cpuMsPerRequest.toFixed(2)} ms/request`).join(', ')}; peak RSS ${round(sending.peakRssMB)} MB`,
      );
      sizes.push({
        memoryMB,
        heapFlags: heapFlags(memoryMB),
        allocatorEnv: ALLOCATOR_ENV,
        init,
        sending,
        model,
      });
    }
  } finally {
    await fauxqs.stop();
    await dynamo.stop();
  }

  const result = {
    name: 'sender-sizing',
    ...machine,
    method:
      'Measured on one full core of this machine, then scaled by Lambda CPU share = memory ÷ 1,769 MB ' +
      '(AWS Lambda Developer Guide, "Configure Lambda function memory"). Cold start ≈ init CPU (node start ' +
      'to handler ready, sender bundle as deployed, heap limits of the memory size) ÷ share; max requests/s ≈ ' +
      'share ÷ CPU per request (CPU inside sender invocations ÷ Autopilot requests served, per ' +
      'workload); CPU at 5/s = the share one sender needs for its part of 5 requests/s (5 ÷ the ' +
      "workload's send lanes: lanes) in the costliest workload; headroom = memory − peak RSS of the " +
      'sender process after all workloads. Network latency ' +
      `is not modelled (the sender keeps ${SENDER_BATCH_SIZE} requests in flight). Lambda runs arm64; this is ` +
      `Node ${process.version} on ${machine.cpu}.`,
    profiles: Number(values.profiles),
    standInRatePerSecond: Number(values.rate),
    lanes: LANES,
    sizes,
  };
  writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(
    '\nmemory  share  cold start  max req/s (per workload)          CPU at 5/s  peak RSS  headroom',
  );
  for (const { model: m } of sizes) {
    const perWorkload = Object.values(m.maxRequestsPerSecond)
      .map((r) => round(r).toString())
      .join(' / ');
    console.log(
      `${`${m.memoryMB} MB`.padEnd(8)}${m.cpuShare.toFixed(3).padStart(5)}${`${round(m.coldStartMs, 0)} ms`.padStart(12)}` +
        `  ${perWorkload.padEnd(33)}${`${round(m.cpuUseAtAutopilotRate * 100)}%`.padStart(10)}` +
        `${`${round(m.peakRssMB)} MB`.padStart(10)}${`${round(m.headroomMB)} MB`.padStart(10)}`,
    );
  }
  const lanesOf = (name: string): string => {
    const n = LANES[name as keyof typeof LANES] ?? 1;
    return `${n} lane${n === 1 ? '' : 's'}`;
  };
  console.log(
    `workloads: ${sizes[0]?.sending.phases.map((p) => `${p.name} (${lanesOf(p.name)})`).join(' / ')}`,
  );
  console.log(`Wrote ${relative(process.cwd(), values.out)}`);
};

await main();
