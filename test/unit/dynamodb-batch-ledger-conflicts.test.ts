import {
  DynamoDBClient,
  GetItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { createDynamoDbState } from '#lib/adapters/dynamodb/state.ts';
import { FakeClock } from '#test/fakes/fake-clock.ts';
import { aBatchOutcome } from '#test/fixtures/state-records.ts';

// DynamoDB Local serialises transactions, so it never reports the conflicts real DynamoDB does when
// several senders update one run item at once; these edges are exercised against a stubbed client.
const client = new DynamoDBClient({ region: 'eu-west-1' });
const dynamo = mockClient(client);
const state = createDynamoDbState({ client, tableName: 'state', clock: new FakeClock() });

const whole = { from: 0, to: 100, final: true } as const;

const cancelled = (...codes: string[]): TransactionCanceledException =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

afterEach(() => {
  dynamo.reset();
});

describe('DynamoDB batch ledger under contention', () => {
  it('retries a batch whose transaction lost a conflict on the run item', async () => {
    dynamo
      .on(TransactWriteItemsCommand)
      .rejectsOnce(cancelled('None', 'TransactionConflict'))
      .rejectsOnce(cancelled('None', 'TransactionConflict'))
      .resolves({});

    expect(await state.batches.record('run-1', 4, whole, aBatchOutcome())).toMatchObject({ recorded: true });
    expect(dynamo.commandCalls(TransactWriteItemsCommand)).toHaveLength(3);
  });

  it('a retry that finds the batch already recorded reports where the batch stands', async () => {
    dynamo
      .on(TransactWriteItemsCommand)
      .rejectsOnce(cancelled('TransactionConflict', 'None'))
      .rejectsOnce(cancelled('ConditionalCheckFailed', 'None'));
    dynamo.on(GetItemCommand).resolves({
      Item: { pk: { S: 'RUN#run-1' }, sk: { S: 'BATCH#00000004' }, next: { N: '100' }, done: { BOOL: true } },
    });

    expect(await state.batches.record('run-1', 4, whole, aBatchOutcome())).toEqual({
      recorded: false,
      state: { next: 100, done: true },
    });
  });

  it('gives up with a transient error when the run item stays contended', async () => {
    dynamo.on(TransactWriteItemsCommand).rejects(cancelled('None', 'TransactionConflict'));

    await expect(state.batches.record('run-1', 4, whole, aBatchOutcome())).rejects.toMatchObject({
      name: 'TransientError',
    });
  });

  it('retries adding requests that collided with a transaction', async () => {
    const conflict = Object.assign(new Error('conflict'), { name: 'TransactionConflictException' });
    dynamo.on(UpdateItemCommand).rejectsOnce(conflict).resolves({});

    await state.batches.addRequests('run-1', { bulkUpsert: 1 }, 0);

    expect(dynamo.commandCalls(UpdateItemCommand)).toHaveLength(2);
  });

  it('writes counters for arbitrary reason strings through placeholders', async () => {
    dynamo.on(TransactWriteItemsCommand).resolves({});

    await state.batches.record('run-1', 1, whole, aBatchOutcome({ failed: { 'a.b #c': 1, status: 2 } }));

    const update =
      dynamo.commandCalls(TransactWriteItemsCommand)[0]?.args[0].input.TransactItems?.[1]?.Update;
    expect(update?.UpdateExpression).not.toMatch(/a\.b|status/);
    expect(Object.values(update?.ExpressionAttributeNames ?? {})).toEqual(
      expect.arrayContaining(['progress', 'failedByReason', 'a.b #c', 'status']),
    );
  });
});
