import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';

/**
 * AWS calls by command, with the items DynamoDB batch and transaction calls carry and the capacity
 * units DynamoDB reports consuming for them (`ReturnConsumedCapacity`: item sizes, transactions'
 * double price and updates priced on the larger of the old and new item, by DynamoDB's own rules).
 */
export interface AwsCounts {
  dynamodb: Record<string, { calls: number; items: number; units?: number }>;
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

const CAPACITY_COMMANDS = new Set([
  'GetItemCommand',
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'QueryCommand',
  'ScanCommand',
  'BatchWriteItemCommand',
  'BatchGetItemCommand',
  'TransactWriteItemsCommand',
  'TransactGetItemsCommand',
]);

/** Writes of the snapshot's parts and head (`SNAP#…` items), priced apart: their target is per contact. */
const isSnapshotWrite = (command: string, input: AnyInput): boolean => {
  const pkOf = (item: unknown): string | undefined => (item as { pk?: { S?: string } } | undefined)?.pk?.S;
  if (command === 'PutItemCommand') return pkOf(input.Item)?.startsWith('SNAP#') === true;
  if (command !== 'BatchWriteItemCommand') return false;
  const [first] = Object.values((input.RequestItems as Record<string, WriteRequestLike[]>) ?? {}).flat();
  return pkOf(first?.PutRequest?.Item ?? first?.DeleteRequest?.Key)?.startsWith('SNAP#') === true;
};
type WriteRequestLike = { PutRequest?: { Item?: unknown }; DeleteRequest?: { Key?: unknown } };

/** The units of a ConsumedCapacity answer (one object, or one per table for batch and transaction calls). */
const unitsOf = (consumed: unknown): number => {
  const list = Array.isArray(consumed) ? consumed : consumed === undefined ? [] : [consumed];
  return list.reduce((n: number, c) => n + Number((c as { CapacityUnits?: number }).CapacityUnits ?? 0), 0);
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
            : isSnapshotWrite(raw, args.input as AnyInput)
              ? 'SnapshotWrite'
              : raw;
      const entry = counts.dynamodb[command] ?? { calls: 0, items: 0 };
      counts.dynamodb[command] = entry;
      entry.calls++;
      entry.items += itemsOf(raw, args.input as AnyInput);
      const input = args.input as AnyInput;
      if (CAPACITY_COMMANDS.has(raw)) input.ReturnConsumedCapacity = 'TOTAL';
      const result = await next(args);
      entry.units = (entry.units ?? 0) + unitsOf((result.output as unknown as AnyInput).ConsumedCapacity);
      return result;
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
