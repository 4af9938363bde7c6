/**
 * The local runtime of bench/million.ts in a process of its own (bundled by esbuild, run by plain
 * `node` under the planner's deployed heap limits), so the planner's peak memory is this process's
 * and not the benchmark's: the driver, the dataset, fauxqs's stored files and queues and the
 * Autopilot stand-in live in the parent. Here run the real planner, senders, API and refresh
 * arrivals over the parent's DynamoDB Local and fauxqs. The parent drives it over the IPC channel
 * (`MillionRequest` in, `MillionResponse` out).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { invokeLocalApi } from '#local/api-gateway.ts';
import { FileLogger } from '#local/file-logger.ts';
import { type LocalRuntime, startLocalRuntime } from '#local/runtime.ts';
import { type AwsCounts, countAwsCalls, resetCounts } from './aws-counter.ts';
import { countDeliveries, countS3Calls, type Deliveries, type S3Counts } from './queue-deliveries.ts';

export interface MillionStart {
  dynamoEndpoint: string;
  sqsEndpoint: string;
  autopilotUrl: string;
  apiKey: string;
  senders: number;
  plannerTimeoutMs: number;
  logPath: string;
}

export type MillionRequest = { id: number } & (
  | { op: 'start'; start: MillionStart }
  | { op: 'api'; method: string; url: string; body?: unknown }
  | { op: 'waitForRefresh'; refreshId: string; timeoutMs: number }
  | { op: 'startSenders' }
  | { op: 'reset' }
  | { op: 'resetPeak' }
  | { op: 'counts' }
  | { op: 'close' }
);

export type MillionResponse = { id: number } & ({ ok: true; value: unknown } | { ok: false; error: string });

export interface MillionStarted {
  stateTable: string;
  segmentBucket: string;
  planQueueUrl: string;
}

export interface MillionCounts {
  aws: AwsCounts;
  s3: S3Counts;
  /** Plan-queue messages delivered to the planner: one invocation each. */
  plannerInvocations: number;
  /** The event sources' errors (a planner past its timeout shows here). */
  sourceErrors: Record<string, number>;
  /** This process's resident set: high-water mark since the last reset, and now. */
  peakRssMB: number;
  rssMB: number;
  /** Resident set right after the last peak reset (after a full GC): what the idle process holds. */
  baselineRssMB: number;
}

const kB = (field: string): number => {
  const value = new RegExp(`^${field}:\\s*(\\d+)\\s*kB$`, 'm').exec(
    readFileSync('/proc/self/status', 'utf8'),
  )?.[1];
  if (value === undefined) throw new Error(`/proc/self/status has no ${field} (Linux only)`);
  return Math.round((Number(value) / 1024) * 10) / 10;
};

/** Sets VmHWM back to the current resident set (Linux: clear_refs 5), so the next peak is one run's own. */
const resetPeak = (): void => writeFileSync('/proc/self/clear_refs', '5');

let runtime: LocalRuntime | undefined;
let aws: AwsCounts | undefined;
let s3: S3Counts = {};
let deliveries: Deliveries = { messages: 0 };
let baselineRssMB = 0;
const sourceErrors: Record<string, number> = {};

const started = (): LocalRuntime => {
  if (runtime === undefined) throw new Error('the runtime has not been started');
  return runtime;
};

/** Counts the event sources' error lines by message, and writes every line to the log file. */
const countingLogger = (path: string): FileLogger => {
  const file = new FileLogger(path);
  const error = file.error.bind(file);
  file.error = (message, fields) => {
    if (message.endsWith('event source error')) {
      const key = `${message}: ${String(fields?.error ?? '').slice(0, 60)}`;
      sourceErrors[key] = (sourceErrors[key] ?? 0) + 1;
    }
    error(message, fields);
  };
  return file;
};

const handle = async (request: MillionRequest): Promise<unknown> => {
  switch (request.op) {
    case 'start': {
      const s = request.start;
      runtime = await startLocalRuntime({
        autopilot: { kind: 'real', url: s.autopilotUrl, apiKey: s.apiKey },
        services: { dynamoEndpoint: s.dynamoEndpoint, sqsEndpoint: s.sqsEndpoint },
        segments: 's3',
        senders: s.senders,
        plannerTimeoutMs: s.plannerTimeoutMs,
        // Held until planning ends, so the planner's peak is measured without senders at work.
        startSenders: false,
        logger: countingLogger(s.logPath),
      });
      if (runtime.s3 === undefined || runtime.segmentBucket === undefined)
        throw new Error('the runtime did not start in s3 mode');
      aws = countAwsCalls({ dynamo: runtime.dynamo, sqs: runtime.sqs });
      s3 = countS3Calls(runtime.s3);
      deliveries = countDeliveries(runtime.sqs, runtime.queues.plan.queueUrl);
      const value: MillionStarted = {
        stateTable: runtime.env.planner.STATE_TABLE,
        segmentBucket: runtime.segmentBucket,
        planQueueUrl: runtime.queues.plan.queueUrl,
      };
      return value;
    }
    case 'api': {
      const res = await invokeLocalApi(started(), {
        method: request.method,
        url: request.url,
        headers: { authorization: 'Bearer dev-admin', 'content-type': 'application/json' },
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      });
      return { status: res.status, body: res.body };
    }
    case 'waitForRefresh':
      return started().waitForRefresh(request.refreshId, { timeoutMs: request.timeoutMs });
    case 'startSenders':
      await started().startSenders();
      return null;
    case 'reset': {
      if (aws) resetCounts(aws);
      for (const key of Object.keys(s3)) delete s3[key];
      deliveries.messages = 0;
      for (const key of Object.keys(sourceErrors)) delete sourceErrors[key];
      return null;
    }
    case 'resetPeak': {
      globalThis.gc?.();
      resetPeak();
      baselineRssMB = kB('VmRSS');
      return baselineRssMB;
    }
    case 'counts': {
      const value: MillionCounts = {
        aws: structuredClone(aws ?? { dynamodb: {}, sqs: {} }),
        s3: structuredClone(s3),
        plannerInvocations: deliveries.messages,
        sourceErrors: { ...sourceErrors },
        peakRssMB: kB('VmHWM'),
        rssMB: kB('VmRSS'),
        baselineRssMB,
      };
      return value;
    }
    case 'close':
      await runtime?.close();
      runtime = undefined;
      return null;
  }
};

process.on('message', (message: MillionRequest) => {
  handle(message).then(
    (value) => process.send?.({ id: message.id, ok: true, value } satisfies MillionResponse),
    (error: unknown) =>
      process.send?.({
        id: message.id,
        ok: false,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      } satisfies MillionResponse),
  );
});
