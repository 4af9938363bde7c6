/**
 * The planner of bench/million.ts in a process of its own, as a planner Lambda runs it: the real
 * handler built by the real composition code (createPlannerDeps from the planner's environment, so
 * its own AWS clients, secret cache, checkpoints and text spill), bundled by esbuild and run by plain
 * `node` under the deployed heap flags, fed by the plan queue through an event source like Lambda's
 * (batch size 1, concurrency 1, the function's timeout). Its VmHWM is the planner's alone: the API,
 * the senders and the refresh arrivals run in the runtime process (million-runtime.ts), whose own
 * poller of the plan queue is parked. The parent drives it over IPC (`PlannerRequest` in).
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createPlannerDeps } from '#functions/planner/deps.ts';
import { createPlannerHandlers } from '#functions/planner/handler.ts';
import { PlannerEnvSchema } from '#functions/shared/env.ts';
import { noMetrics } from '#lib/ports/metrics.ts';
import { InMemorySecretProvider } from '#local/in-memory-secrets.ts';
import { SqsEventSource } from '#local/sqs-event-source.ts';
import { type AwsCounts, countAwsCalls, resetCounts } from './aws-counter.ts';
import {
  countingLogger,
  type MemorySample,
  memorySample,
  type ProcessCounts,
  resetPeak,
  serveIpc,
  statusMB,
} from './million-ipc.ts';
import { countDeliveries, countS3Calls, type Deliveries, type S3Counts } from './queue-deliveries.ts';

export interface PlannerStart {
  dynamoEndpoint: string;
  sqsEndpoint: string;
  /** The clients' region and credentials (the local services ignore them; the SDK wants some). */
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** The planner's environment as Lambda passes it: strings, parsed here by the function's own schema. */
  env: Record<string, string>;
  timeoutMs: number;
  logPath: string;
}

export type PlannerRequest = { id: number } & (
  | { op: 'start'; start: PlannerStart }
  | { op: 'putApiKey'; connectionId: string; apiKey: string }
  | { op: 'reset' }
  | { op: 'resetPeak' }
  | { op: 'counts' }
  | { op: 'close' }
);

// In AWS the key is in Secrets Manager; here the parent hands over the one the API stored.
const secrets = new InMemorySecretProvider();
const sourceErrors: Record<string, number> = {};
let source: SqsEventSource | undefined;
let clients: { dynamo: DynamoDBClient; sqs: SQSClient; s3: S3Client } | undefined;
let aws: AwsCounts = { dynamodb: {}, sqs: {} };
let s3: S3Counts = {};
let deliveries: Deliveries = { messages: 0 };
let baselineRssMB = 0;
/** Each invocation's own peak since the last reset, in the order they ended. */
let invocationPeaksMB: number[] = [];
/** The sample with the highest resident set since the last reset: how much of the peak is heap. */
let peakSample: MemorySample | undefined;
/** Set to a file path to have every sample appended to it as a JSON line (with the time), to see where a peak forms. */
const trace = process.env.MILLION_MEMORY_TRACE;
setInterval(() => {
  const sample = memorySample();
  if (peakSample === undefined || sample.rssMB > peakSample.rssMB) peakSample = sample;
  if (trace)
    appendFileSync(
      trace,
      `${JSON.stringify({ at: new Date().toISOString(), ...sample, s3: s3.GetObjectCommand })}\n`,
    );
}, 250).unref();

/** The handler as Lambda would run it, with the peak of each invocation taken as it ends. */
const measuredInvocation =
  <E, C, R>(handler: (event: E, context: C) => Promise<R>) =>
  async (event: E, context: C): Promise<R> => {
    try {
      return await handler(event, context);
    } finally {
      invocationPeaksMB.push(statusMB('VmHWM'));
      // The next invocation's peak is its own (no GC: what this one left behind is the next one's start).
      writeFileSync('/proc/self/clear_refs', '5');
    }
  };

const start = async (s: PlannerStart): Promise<null> => {
  const env = PlannerEnvSchema.parse(s.env);
  const local = { region: s.region, credentials: s.credentials };
  clients = {
    dynamo: new DynamoDBClient({ ...local, endpoint: s.dynamoEndpoint }),
    sqs: new SQSClient({ ...local, endpoint: s.sqsEndpoint }),
    // fauxqs answers on 127.0.0.1, where bucket subdomains do not resolve.
    s3: new S3Client({ ...local, endpoint: s.sqsEndpoint, forcePathStyle: true }),
  };
  aws = countAwsCalls(clients);
  s3 = countS3Calls(clients.s3);
  deliveries = countDeliveries(clients.sqs, env.PLAN_QUEUE_URL);
  const logger = countingLogger(s.logPath, sourceErrors);
  const planner = createPlannerHandlers(
    createPlannerDeps(env, { ...clients, secrets, logger, metrics: noMetrics }),
  );
  source = new SqsEventSource({
    client: clients.sqs,
    queueUrl: env.PLAN_QUEUE_URL,
    handler: measuredInvocation(planner.planMessage),
    batchSize: 1,
    concurrency: 1,
    functionTimeoutMs: s.timeoutMs,
    functionName: 'autopilot-export-planner',
    onError: (error) => logger.error('planner event source error', { error: String(error) }),
  });
  await source.start();
  return null;
};

serveIpc<PlannerRequest>(async (request) => {
  switch (request.op) {
    case 'start':
      return start(request.start);
    case 'putApiKey':
      await secrets.putApiKey(request.connectionId, request.apiKey);
      return null;
    case 'reset':
      resetCounts(aws);
      for (const key of Object.keys(s3)) delete s3[key];
      deliveries.messages = 0;
      for (const key of Object.keys(sourceErrors)) delete sourceErrors[key];
      invocationPeaksMB = [];
      peakSample = undefined;
      return null;
    case 'resetPeak':
      baselineRssMB = resetPeak();
      peakSample = undefined;
      return baselineRssMB;
    case 'counts': {
      const value: ProcessCounts = {
        aws: structuredClone(aws),
        s3: structuredClone(s3),
        plannerInvocations: deliveries.messages,
        sourceErrors: { ...sourceErrors },
        peakRssMB: Math.max(statusMB('VmHWM'), ...invocationPeaksMB),
        invocationPeaksMB: [...invocationPeaksMB],
        ...(peakSample === undefined ? {} : { peakSample }),
        rssMB: statusMB('VmRSS'),
        baselineRssMB,
      };
      return value;
    }
    case 'close':
      await source?.stop();
      for (const client of Object.values(clients ?? {})) client.destroy();
      return null;
  }
});
