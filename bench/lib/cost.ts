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

const WRITE_COMMANDS = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand']);
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

/**
 * Scales a measured run to 100,000 profiles at Autopilot's documented 5 requests/s and prices it.
 * Lambda time is dominated by senders waiting for their rate-budget slots: `senders` concurrent
 * functions are billed for the whole sending time.
 */
export const costPer100k = (counts: RunCounts, options: { senders: number; rate: number }): CostLine[] => {
  const scale = 100_000 / counts.profiles;
  const requests = counts.autopilotRequests * scale;
  const sendingSeconds = requests / options.rate;
  const d = counts.aws.dynamodb;
  const writeItems = sum(
    Object.entries(d)
      .filter(([c]) => WRITE_COMMANDS.has(c))
      .map(([, v]) => v.items),
  );
  const batchItems = d.BatchWriteItemCommand?.items ?? 0;
  const transactItems = d.TransactWriteItemsCommand?.items ?? 0;
  // Transactions cost twice; the run item they update carries its counters (~2 KB → 2 units).
  const wru = (writeItems + batchItems + transactItems * 2 * 2) * scale;
  // One conditional write reserves k slots (k at the priced rate, not the local budget's). A slot
  // is spent after a consistent read of the stored 429 hold unless the sender saw it within 20 ms:
  // with two senders taking turns nearly every slot is read (0.99 per request measured at 5/s).
  const k = slotsPerReservation(options.rate);
  const rateWru = requests / k;
  const rateRru = requests;
  const rru = ((d.GetItemCommand?.calls ?? 0) + (d.QueryCommand?.calls ?? 0) * 4) * scale;
  const s = counts.aws.sqs;
  // Every 64 KB of a message is billed as one request; receive and delete are requests too.
  const sqsChunks =
    Math.ceil((s.SendMessageBatchCommand?.bytes ?? 0) / 65_536) + (s.SendMessageBatchCommand?.messages ?? 0);
  const messages = (s.SendMessageBatchCommand?.messages ?? 0) + (s.SendMessageCommand?.messages ?? 0);
  const sqsRequests = (sqsChunks + messages * 2) * scale; // send + receive + delete per message
  const invocations = (messages / 5) * scale + 10;
  const senderGbS = options.senders * sendingSeconds * 0.5;
  const plannerGbS = counts.planningSeconds * scale * 1;
  const secretsCalls = Math.ceil(sendingSeconds / 60) * options.senders + 10;
  const logGb = (counts.logBytes * scale) / 1e9;
  return [
    {
      item: 'Lambda compute (sender)',
      quantity: senderGbS,
      unit: 'GB-s',
      usd: senderGbS * PRICES.lambdaGbSecondArm,
      assumption: `${options.senders} senders × 512 MB for the ${Math.round(sendingSeconds)} s the requests take at ${options.rate}/s`,
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
      assumption: 'state and snapshot; items ≤ 1 KB except the run item (2 KB) in batch transactions',
    },
    {
      item: 'DynamoDB writes (rate budget)',
      quantity: rateWru,
      unit: 'WRU',
      usd: (rateWru / 1e6) * PRICES.dynamoPerMillionWru,
      assumption: `one reservation of ${k} slots per ${k} Autopilot requests at ${options.rate}/s`,
    },
    {
      item: 'DynamoDB reads (rate budget)',
      quantity: rateRru,
      unit: 'RRU',
      usd: (rateRru / 1e6) * PRICES.dynamoPerMillionRru,
      assumption: 'a consistent read of the 429 hold before each request (measured 0.99 per request)',
    },
    {
      item: 'DynamoDB reads',
      quantity: rru,
      unit: 'RRU',
      usd: (rru / 1e6) * PRICES.dynamoPerMillionRru,
      assumption: 'strongly consistent gets; snapshot and segment queries ≈ 4 units per page',
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
