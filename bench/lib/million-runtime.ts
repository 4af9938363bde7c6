/**
 * The local runtime of bench/million.ts in a process of its own (bundled by esbuild, run by plain
 * `node`): the real API, senders and refresh arrivals over the parent's DynamoDB Local and fauxqs.
 * The planner runs in a process of its own (million-planner.ts), as a planner Lambda does: this
 * process's poller of the plan queue is parked on an empty queue, so every plan message reaches that
 * one. The driver, the dataset, fauxqs's stored files and queues and the Autopilot stand-in live in
 * the parent, which drives this process over the IPC channel (`MillionRequest` in).
 */
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { invokeLocalApi } from '#local/api-gateway.ts';
import { type LocalRuntime, startLocalRuntime } from '#local/runtime.ts';
import { type AwsCounts, countAwsCalls, resetCounts } from './aws-counter.ts';
import { countingLogger, type ProcessCounts, resetPeak, serveIpc, statusMB } from './million-ipc.ts';
import { countS3Calls, type S3Counts } from './queue-deliveries.ts';

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

export interface MillionStarted {
  stateTable: string;
  segmentBucket: string;
  planQueueUrl: string;
  /** The planner's environment, as strings (what Lambda would pass the planner function). */
  plannerEnv: Record<string, string>;
}

export type MillionCounts = ProcessCounts;

let runtime: LocalRuntime | undefined;
let aws: AwsCounts | undefined;
let s3: S3Counts = {};
let baselineRssMB = 0;
const sourceErrors: Record<string, number> = {};

const started = (): LocalRuntime => {
  if (runtime === undefined) throw new Error('the runtime has not been started');
  return runtime;
};

/**
 * Points this process's plan-queue poller at an empty queue of its own, so the planner process
 * receives every plan message. The plan queue is empty until the first run starts, long after this.
 */
const parkPlanner = async (r: LocalRuntime): Promise<void> => {
  const planQueueUrl = r.queues.plan.queueUrl;
  const { QueueUrl: parked } = await r.sqs.send(
    new CreateQueueCommand({ QueueName: `parked-planner-${Date.now().toString(36)}` }),
  );
  if (parked === undefined) throw new Error('the parked queue has no URL');
  r.sqs.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { QueueUrl?: string };
      if (context.commandName === 'ReceiveMessageCommand' && input.QueueUrl === planQueueUrl)
        return next({ ...args, input: { ...input, QueueUrl: parked } });
      return next(args);
    },
    { step: 'initialize', name: 'benchParkPlanner' },
  );
};

const asStrings = (env: object): Record<string, string> =>
  Object.fromEntries(
    Object.entries(env)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => [key, String(value)]),
  );

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
        // Held until planning ends on the first run, so planning has the machine's cores to itself.
        startSenders: false,
        logger: countingLogger(s.logPath, sourceErrors),
      });
      if (runtime.s3 === undefined || runtime.segmentBucket === undefined)
        throw new Error('the runtime did not start in s3 mode');
      await parkPlanner(runtime);
      aws = countAwsCalls({ dynamo: runtime.dynamo, sqs: runtime.sqs });
      s3 = countS3Calls(runtime.s3);
      const value: MillionStarted = {
        stateTable: runtime.env.planner.STATE_TABLE,
        segmentBucket: runtime.segmentBucket,
        planQueueUrl: runtime.queues.plan.queueUrl,
        plannerEnv: asStrings(runtime.env.planner),
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
      for (const key of Object.keys(sourceErrors)) delete sourceErrors[key];
      return null;
    }
    case 'resetPeak':
      baselineRssMB = resetPeak();
      return baselineRssMB;
    case 'counts': {
      const value: MillionCounts = {
        aws: structuredClone(aws ?? { dynamodb: {}, sqs: {} }),
        s3: structuredClone(s3),
        // Its plan-queue poller is parked: the planner process plans.
        plannerInvocations: 0,
        sourceErrors: { ...sourceErrors },
        peakRssMB: statusMB('VmHWM'),
        rssMB: statusMB('VmRSS'),
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

serveIpc(handle);
