import { holdReadsPerSlot } from '#lib/adapters/dynamodb/rate-budget.ts';
import { slotsPerReservation } from '#lib/ports/rate-budget.ts';
import type { AwsCounts } from './aws-counter.ts';

/**
 * AWS list prices used for the estimate (us-east-1, on-demand, as published in 2025; check
 * current prices for your region). Free tiers are ignored.
 */
export const PRICES = {
  lambdaGbSecondArm: 0.0000133334,
  lambdaPerMillionRequests: 0.2,
  sqsPerMillionRequests: 0.4,
  dynamoPerMillionWru: 0.625,
  dynamoPerMillionRru: 0.125,
  secretsPer10kCalls: 0.05,
  cloudWatchLogsPerGb: 0.5,
} as const;

/** What one run did, counted locally, from which a per-100,000-profile run is scaled. */
export interface RunCounts {
  profiles: number;
  autopilotRequests: number;
  aws: AwsCounts;
  /** Bytes of structured log lines written. */
  logBytes: number;
  planningSeconds: number;
}

export interface CostLine {
  item: string;
  quantity: number;
  unit: string;
  usd: number;
  assumption: string;
}

const WRITE_COMMANDS = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
]);
const READ_COMMANDS = new Set(['GetItemCommand', 'QueryCommand', 'ScanCommand', 'BatchGetItemCommand']);

/** Sender sizing the cost is priced for (the stack's, see cdk/stacks/stateless-stack.ts SIZING). */
export interface SenderPricing {
  /** Functions billed for the whole sending time: one when pipelining keeps a connection's budget busy. */
  senders: number;
  memoryMb: number;
}

/** Budget writes a sender makes for a batch of `requests` at `rate`, telling each acquire what follows. */
export const reservationsFor = (requests: number, rate: number): number => {
  let writes = 0;
  for (let left = requests; left > 0; writes++) left -= slotsPerReservation(rate, left - 1);
  return writes;
};

/** DynamoDB capacity units of a run, as DynamoDB Local reported consuming them (aws-counter.ts). */
export const capacityOf = (aws: AwsCounts): { wru: number; rru: number; snapshotWru: number } => {
  let wru = 0;
  let rru = 0;
  for (const [command, c] of Object.entries(aws.dynamodb)) {
    if (WRITE_COMMANDS.has(command)) wru += c.units ?? 0;
    else if (READ_COMMANDS.has(command)) rru += c.units ?? 0;
  }
  return { wru, rru, snapshotWru: aws.dynamodb.SnapshotWrite?.units ?? 0 };
};

/**
 * Scales a measured run to 100,000 profiles at Autopilot's documented 5 requests/s and prices it.
 * DynamoDB is priced from the capacity units DynamoDB Local reported for every call (so item sizes,
 * transactions and compressed snapshot parts count as they would in AWS); the rate budget's calls are
 * modelled at the priced rate, because the local budget is far higher. Lambda is the senders billed
 * for the sending time the requests take at that rate.
 */
export const costPer100k = (
  counts: RunCounts,
  priced: { rate: number; sender?: SenderPricing /** @deprecated: `sender` */; senders?: number },
): CostLine[] => {
  const options = {
    rate: priced.rate,
    sender: priced.sender ?? { senders: priced.senders ?? 1, memoryMb: 512 },
  };
  const scale = 100_000 / counts.profiles;
  const requests = counts.autopilotRequests * scale;
  const sendingSeconds = requests / options.rate;
  const capacity = capacityOf(counts.aws);
  const wru = (capacity.wru - capacity.snapshotWru) * scale;
  const snapshotWru = capacity.snapshotWru * scale;
  const rru = capacity.rru * scale;
  const s = counts.aws.sqs;
  // Every 64 KB of a message is billed as one request; receive and delete are requests too.
  const sqsChunks =
    Math.ceil((s.SendMessageBatchCommand?.bytes ?? 0) / 65_536) + (s.SendMessageBatchCommand?.messages ?? 0);
  const messages = (s.SendMessageBatchCommand?.messages ?? 0) + (s.SendMessageCommand?.messages ?? 0);
  // One conditional write reserves a block of slots, sized at the priced rate (not the local budget's)
  // for a batch of the run's average requests: each acquire says how many follow it.
  const perBatch = Math.max(1, Math.round(counts.autopilotRequests / Math.max(1, messages)));
  const writesPerBatch = reservationsFor(perBatch, options.rate);
  const rateWru = (requests / perBatch) * writesPerBatch;
  // Modelled at the priced rate too: the local budget's slots come closer than the hold's freshness
  // window, so a local run reads the hold less often per request than the same run at 5/s.
  const readsPerRequest = holdReadsPerSlot(options.rate);
  const rateRru = requests * readsPerRequest;
  const sqsRequests = (sqsChunks + messages * 2) * scale; // send + receive + delete per message
  const invocations = (messages / 5) * scale + 10;
  const senderGbS = options.sender.senders * sendingSeconds * (options.sender.memoryMb / 1024);
  const plannerGbS = counts.planningSeconds * scale * 1;
  const secretsCalls = Math.ceil(sendingSeconds / 60) * options.sender.senders + 10;
  const logGb = (counts.logBytes * scale) / 1e9;
  const senders = `${options.sender.senders} sender${options.sender.senders === 1 ? '' : 's'}`;
  return [
    {
      item: 'Lambda compute (sender)',
      quantity: senderGbS,
      unit: 'GB-s',
      usd: senderGbS * PRICES.lambdaGbSecondArm,
      assumption: `${senders} × ${options.sender.memoryMb} MB for the ${Math.round(sendingSeconds)} s the requests take at ${options.rate}/s`,
    },
    {
      item: 'Lambda compute (planner)',
      quantity: plannerGbS,
      unit: 'GB-s',
      usd: plannerGbS * PRICES.lambdaGbSecondArm,
      assumption: '1024 MB × planning time measured locally, scaled',
    },
    {
      item: 'Lambda requests',
      quantity: invocations,
      unit: 'invocations',
      usd: (invocations / 1e6) * PRICES.lambdaPerMillionRequests,
      assumption: 'sender batch size 5',
    },
    {
      item: 'SQS requests',
      quantity: sqsRequests,
      unit: 'requests',
      usd: (sqsRequests / 1e6) * PRICES.sqsPerMillionRequests,
      assumption: 'send (per 64 KB), receive and delete per message',
    },
    {
      item: 'DynamoDB writes',
      quantity: wru,
      unit: 'WRU',
      usd: (wru / 1e6) * PRICES.dynamoPerMillionWru,
      assumption: 'run state, batch ledger, plan and checkpoints: units DynamoDB Local reported, scaled',
    },
    {
      item: 'DynamoDB writes (snapshot)',
      quantity: snapshotWru,
      unit: 'WRU',
      usd: (snapshotWru / 1e6) * PRICES.dynamoPerMillionWru,
      assumption:
        'staged plan parts, settlements, rebases and the head: units DynamoDB Local reported, scaled',
    },
    {
      item: 'DynamoDB writes (rate budget)',
      quantity: rateWru,
      unit: 'WRU',
      usd: (rateWru / 1e6) * PRICES.dynamoPerMillionWru,
      assumption: `${writesPerBatch} reservation${writesPerBatch === 1 ? '' : 's'} per batch of ${perBatch} Autopilot request${perBatch === 1 ? '' : 's'} at ${options.rate}/s`,
    },
    {
      item: 'DynamoDB reads (rate budget)',
      quantity: rateRru,
      unit: 'RRU',
      usd: (rateRru / 1e6) * PRICES.dynamoPerMillionRru,
      assumption: `consistent reads of the 429 hold: ${readsPerRequest.toFixed(2)} per request at ${options.rate}/s (before every slot spent)`,
    },
    {
      item: 'DynamoDB reads',
      quantity: rru,
      unit: 'RRU',
      usd: (rru / 1e6) * PRICES.dynamoPerMillionRru,
      assumption: 'units DynamoDB Local reported (consistent reads: 4 KB a unit), scaled',
    },
    {
      item: 'Secrets Manager API calls',
      quantity: secretsCalls,
      unit: 'calls',
      usd: (secretsCalls / 10_000) * PRICES.secretsPer10kCalls,
      assumption: 'one read per sender environment per minute (cached 60 s)',
    },
    {
      item: 'CloudWatch Logs ingestion',
      quantity: logGb,
      unit: 'GB',
      usd: logGb * PRICES.cloudWatchLogsPerGb,
      assumption: 'structured log bytes measured locally, scaled',
    },
  ];
};
