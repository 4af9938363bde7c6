import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { inject } from 'vitest';
import { segmentTableDefinition, stateTableDefinition } from '#lib/adapters/dynamodb/tables.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#local/dynamodb-local.ts';

/** A DynamoDB client for the run's DynamoDB Local (integration project only). */
export const localDynamo = (): DynamoDBClient =>
  new DynamoDBClient({
    endpoint: inject('dynamoEndpoint'),
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });

/** An SQS client for the run's fauxqs. */
export const localSqs = (): SQSClient =>
  new SQSClient({ endpoint: inject('sqsEndpoint'), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });

export const uniqueName = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;

/** Fresh, uniquely named state and segment tables, so suites never see each other's items. */
export const createTables = async (
  client: DynamoDBClient,
): Promise<{ stateTable: string; segmentTable: string }> => {
  const stateTable = uniqueName('state');
  const segmentTable = uniqueName('segments');
  await client.send(new CreateTableCommand(stateTableDefinition(stateTable)));
  await client.send(new CreateTableCommand(segmentTableDefinition(segmentTable)));
  return { stateTable, segmentTable };
};

/** Receives until `count` messages arrived (or `timeoutMs`), deleting nothing. */
export const receiveAll = async (
  sqs: SQSClient,
  queueUrl: string,
  count: number,
  timeoutMs: number,
): Promise<Message[]> => {
  const received: Message[] = [];
  const deadline = Date.now() + timeoutMs;
  while (received.length < count && Date.now() < deadline) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        VisibilityTimeout: 60,
        MessageAttributeNames: ['All'],
      }),
    );
    received.push(...Messages);
  }
  return received;
};
