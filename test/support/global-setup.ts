import { startFauxqs } from 'fauxqs';
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '#local/dynamodb-local.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    sqsEndpoint: string;
  }
}

/** Starts the real local services once per test run; suites get their endpoints through `inject`. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [dynamo, sqs] = await Promise.all([startDynamoDbLocal(), startFauxqs({ port: 0, logger: false })]);
  project.provide('dynamoEndpoint', dynamo.endpoint);
  project.provide('sqsEndpoint', sqs.address);
  return async () => {
    await Promise.all([dynamo.stop(), sqs.stop()]);
  };
}
