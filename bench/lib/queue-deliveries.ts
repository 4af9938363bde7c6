import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';

/**
 * Messages delivered from one queue, as the event source's ReceiveMessage calls answered them. With
 * a batch size of 1 each delivery is one function invocation: on the plan queue, one planner
 * invocation (first planning, each continuation, each redelivery after a timeout).
 */
export interface Deliveries {
  messages: number;
}

export const countDeliveries = (sqs: SQSClient, queueUrl: string): Deliveries => {
  const counts: Deliveries = { messages: 0 };
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      const input = args.input as { QueueUrl?: string };
      if (context.commandName === 'ReceiveMessageCommand' && input.QueueUrl === queueUrl) {
        counts.messages += (out.output as { Messages?: unknown[] }).Messages?.length ?? 0;
      }
      return out;
    },
    { step: 'initialize', name: 'benchDeliveryCounter' },
  );
  return counts;
};

/** S3 calls by command (aws-counter.ts counts DynamoDB and SQS; the S3 segment source reads here). */
export type S3Counts = Record<string, { calls: number; bytes: number }>;

export const countS3Calls = (s3: S3Client): S3Counts => {
  const counts: S3Counts = {};
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      const command = String(context.commandName);
      const entry = counts[command] ?? { calls: 0, bytes: 0 };
      counts[command] = entry;
      entry.calls++;
      entry.bytes += (out.output as { ContentLength?: number }).ContentLength ?? 0;
      return out;
    },
    { step: 'initialize', name: 'benchS3Counter' },
  );
  return counts;
};
