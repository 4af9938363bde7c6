import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { createTables, localDynamo, localSqs, uniqueName } from '#test/support/aws.ts';

describe('local services for integration tests', () => {
  it('DynamoDB Local creates the state and segment tables', async () => {
    const client = localDynamo();
    const { stateTable, segmentTable } = await createTables(client);
    const { TableNames } = await client.send(new ListTablesCommand({}));
    expect(TableNames).toEqual(expect.arrayContaining([stateTable, segmentTable]));
  });

  it('fauxqs speaks the current SQS protocol', async () => {
    const sqs = localSqs();
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('q') }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: '{"hello":1}' }));
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
    expect(Messages?.[0]?.Body).toBe('{"hello":1}');
  });
});
