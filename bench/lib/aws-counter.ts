import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';

/** AWS calls by command, with the items DynamoDB batch and transaction calls carry. */
export interface AwsCounts {
  dynamodb: Record<string, { calls: number; items: number }>;
  sqs: Record<string, { calls: number; messages: number; bytes: number }>;
}

type AnyInput = Record<string, unknown>;

const itemsOf = (command: string, input: AnyInput): number => {
  if (command === 'BatchWriteItemCommand') {
    return Object.values((input.RequestItems as Record<string, unknown[]>) ?? {}).reduce(
      (n, l) => n + l.length,
      0,
    );
  }
  if (command === 'TransactWriteItemsCommand') return ((input.TransactItems as unknown[]) ?? []).length;
  return 1;
};

/** Counts every call the runtime's clients make (a middleware at the initialize step). */
export const countAwsCalls = (clients: { dynamo: DynamoDBClient; sqs: SQSClient }): AwsCounts => {
  const counts: AwsCounts = { dynamodb: {}, sqs: {} };
  clients.dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      const raw = String(context.commandName);
      // The shared rate budget's slot reservations and hold checks are priced per Autopilot request, apart.
      const key = (args.input as { Key?: { sk?: { S?: string } } }).Key;
      const rate = key?.sk?.S === 'RATE';
      const command =
        rate && raw === 'UpdateItemCommand'
          ? 'RateBudgetUpdate'
          : rate && raw === 'GetItemCommand'
            ? 'RateBudgetRead'
            : raw;
      const entry = counts.dynamodb[command] ?? { calls: 0, items: 0 };
      counts.dynamodb[command] = entry;
      entry.calls++;
      entry.items += itemsOf(raw, args.input as AnyInput);
      return next(args);
    },
    { step: 'initialize', name: 'benchCounter' },
  );
  clients.sqs.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName);
      const input = args.input as AnyInput;
      const entry = counts.sqs[command] ?? { calls: 0, messages: 0, bytes: 0 };
      counts.sqs[command] = entry;
      entry.calls++;
      const entries = (input.Entries as Array<{ MessageBody?: string }> | undefined) ?? [];
      const bodies =
        command === 'SendMessageCommand'
          ? [input.MessageBody as string]
          : entries.map((e) => e.MessageBody ?? '');
      entry.messages +=
        command === 'SendMessageBatchCommand' || command === 'SendMessageCommand' ? bodies.length : 0;
      entry.bytes += bodies.reduce((n, b) => n + Buffer.byteLength(b ?? ''), 0);
      return next(args);
    },
    { step: 'initialize', name: 'benchCounter' },
  );
  return counts;
};

export const resetCounts = (counts: AwsCounts): void => {
  counts.dynamodb = {};
  counts.sqs = {};
};
