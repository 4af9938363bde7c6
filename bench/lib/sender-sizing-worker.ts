/**
 * One sender "execution environment" for bench/sender-sizing.ts: the real sender handler, built by
 * the real composition code (functions/sender/deps.ts) with the deployed logger and metrics writing
 * to stdout, fed by a one-at-a-time SQS event source over the local queue. Only DynamoDB, SQS and
 * the key store point at local stand-ins. Bundled as the stack bundles the sender (CommonJS,
 * minified, the AWS SDK left to node_modules, a source map without sources), so the code it holds
 * weighs what the deployed sender's does. Runs under the heap limits of the memory size measured,
 * and accounts the CPU spent inside handler invocations (what Lambda's CPU share throttles; the
 * local poller between invocations is Lambda's, not the function's). Answers the parent's
 * `snapshot` message with its figures so far (IPC), and exits on `stop`.
 *
 *   SIZING_WORKER='{"senderEnv":{…},…}' node --max-semi-space-size=… sizing/worker/index.cjs
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent } from 'aws-lambda';
import { createSenderDeps } from '#functions/sender/deps.ts';
import { createSenderHandler } from '#functions/sender/handler.ts';
import { SenderEnvSchema } from '#functions/shared/env.ts';
import { InMemorySecretProvider } from '#local/in-memory-secrets.ts';
import { SqsEventSource } from '#local/sqs-event-source.ts';

export interface SizingWorkerConfig {
  senderEnv: Record<string, string>;
  dynamoEndpoint: string;
  sqsEndpoint: string;
  /** Connection id → API key, as the key store holds them. */
  keys: Record<string, string>;
  functionTimeoutMs: number;
  /** Messages per invocation, as the stack's event source mapping. */
  batchSize: number;
}

export interface SizingWorkerReport {
  invocations: number;
  /** Invocations running right now: a run can end before the invocation that ended it returns. */
  inFlight: number;
  /** CPU (user + system) inside handler invocations. */
  handlerCpuMs: number;
  handlerWallMs: number;
  /** CPU of the whole process from start to stop (poller and idle time included). */
  processCpuMs: number;
  maxRssMB: number;
  heapUsedMB: number;
}

const raw = process.env.SIZING_WORKER;
if (raw === undefined) throw new Error('SIZING_WORKER (the JSON configuration) is not set');
const config = JSON.parse(raw) as SizingWorkerConfig;
// As local/dynamodb-local.ts, whose import would bundle the DynamoDB Local launcher in.
const local = { region: 'eu-west-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
const sqs = new SQSClient({ ...local, endpoint: config.sqsEndpoint });
const env = SenderEnvSchema.parse(config.senderEnv);
const handler = createSenderHandler(
  createSenderDeps(env, {
    dynamo: new DynamoDBClient({ ...local, endpoint: config.dynamoEndpoint }),
    sqs,
    secrets: new InMemorySecretProvider(config.keys),
  }),
);

let invocations = 0;
let handlerCpuUs = 0;
let handlerWallMs = 0;
const source = new SqsEventSource({
  client: sqs,
  queueUrl: env.SEND_QUEUE_URL,
  batchSize: config.batchSize,
  concurrency: 1,
  functionTimeoutMs: config.functionTimeoutMs,
  functionName: 'autopilot-export-sender',
  handler: async (event: SQSEvent, context: Context) => {
    const cpu = process.cpuUsage();
    const wall = performance.now();
    try {
      return await handler(event, context);
    } finally {
      const used = process.cpuUsage(cpu);
      handlerCpuUs += used.user + used.system;
      handlerWallMs += performance.now() - wall;
      invocations++;
    }
  },
});
// CommonJS, as the deployed bundle: no top-level await.
source.start().then(
  () => process.send?.('ready'),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

const snapshot = (): SizingWorkerReport => {
  const total = process.cpuUsage();
  return {
    invocations,
    inFlight: source.inFlight,
    handlerCpuMs: handlerCpuUs / 1000,
    handlerWallMs,
    processCpuMs: (total.user + total.system) / 1000,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    heapUsedMB: process.memoryUsage().heapUsed / 2 ** 20,
  };
};

process.on('message', (message) => {
  if (message === 'snapshot') process.send?.(snapshot());
  if (message === 'stop') source.stop().then(() => process.exit(0));
});
