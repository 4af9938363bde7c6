import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { createPlannerDeps } from '#functions/planner/deps.ts';
import { loadEnv, PlannerEnvSchema } from '#functions/shared/env.ts';
import { DynamoDbCheckpoints } from '#lib/adapters/dynamodb/checkpoints.ts';
import { S3Checkpoints } from '#lib/adapters/s3/checkpoints.ts';
import { noMetrics } from '#lib/ports/metrics.ts';
import { fakeS3 } from '#test/fakes/fake-s3.ts';
import { RecordingLogger } from '#test/fakes/recording-logger.ts';

const base = {
  STATE_TABLE: 'state',
  SEGMENT_TABLE: 'segments',
  PLAN_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/plan',
  SEND_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/send',
};
const quiet = { logger: new RecordingLogger(), metrics: noMetrics };

/** An S3 client that records what is sent to it and answers nothing of interest. */
const recordingS3 = (): { client: S3Client; sent: { command: string; input: Record<string, unknown> }[] } => {
  const sent: { command: string; input: Record<string, unknown> }[] = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      sent.push({ command: command.constructor.name, input: command.input });
      return {};
    },
  } as unknown as S3Client;
  return { client, sent };
};

describe('CHECKPOINT_BUCKET', () => {
  it('puts the planner’s checkpoints in that bucket under state/checkpoints/, for any segment source', async () => {
    const s3 = recordingS3();
    for (const env of [
      { ...base, CHECKPOINT_BUCKET: 'acme-segments' },
      { ...base, SEGMENT_SOURCE: 's3', SEGMENT_BUCKET: 'acme-segments', CHECKPOINT_BUCKET: 'acme-segments' },
    ]) {
      const deps = createPlannerDeps(loadEnv(PlannerEnvSchema, env), { ...quiet, s3: s3.client });

      expect(deps.plan.checkpoints).toBeInstanceOf(S3Checkpoints);
      await deps.plan.checkpoints.save('run_1', '{"v":1}');
    }

    // Each save first asks (HEAD) whether the key points at a large checkpoint's body, to delete it after.
    const save = [
      ['HeadObjectCommand', 'acme-segments', 'state/checkpoints/run_1.json.gz'],
      ['PutObjectCommand', 'acme-segments', 'state/checkpoints/run_1.json.gz'],
    ];
    expect(s3.sent.map((s) => [s.command, s.input.Bucket, s.input.Key])).toEqual([...save, ...save]);
  });

  it('keeps them in the state table without it', () => {
    const deps = createPlannerDeps(loadEnv(PlannerEnvSchema, base), quiet);

    expect(deps.plan.checkpoints).toBeInstanceOf(DynamoDbCheckpoints);
  });

  it('refuses a prefix that is not a folder, naming the variable', () => {
    expect(() =>
      loadEnv(PlannerEnvSchema, { ...base, CHECKPOINT_BUCKET: 'b-1', CHECKPOINT_PREFIX: 'state' }),
    ).toThrow(/env\.CHECKPOINT_PREFIX: .*ending in \//);
  });
});

describe('S3Checkpoints refused a read', () => {
  it('says which key and that a missing key answers 403 without s3:ListBucket on the prefix', async () => {
    const denied = () =>
      Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    const checkpoints = new S3Checkpoints({
      client: fakeS3({}, denied).client,
      bucket: 'acme-segments',
      prefix: 'state/checkpoints/',
    });

    await expect(checkpoints.load('run_1')).rejects.toThrow(
      /state\/checkpoints\/run_1\.json\.gz was refused \(403\).*s3:ListBucket/,
    );
  });
});
