import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalPipeline, startLocalPipeline } from '#test/support/local-pipeline.ts';

let pipeline: LocalPipeline;
const calls: { command: string; key: string }[] = [];

beforeAll(async () => {
  pipeline = await startLocalPipeline({ profiles: 120 });
  pipeline.runtime.checkpoints.s3.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push({ command: String(context.commandName), key: String((args.input as { Key?: string }).Key) });
      return next(args);
    },
    { step: 'initialize', name: 'recordCheckpointCalls' },
  );
});

afterAll(async () => {
  await pipeline?.runtime.close();
});

describe('the local runtime’s planner checkpoints', () => {
  it('live in the local S3 as in AWS: looked for, saved before the first batch, deleted once planned', async () => {
    const run = await pipeline.run();
    expect(run.status).toBe('succeeded');
    const key = `state/checkpoints/${run.id}.json.gz`;
    const forRun = calls.filter((c) => c.key === key).map((c) => c.command);

    expect(forRun[0]).toBe('GetObjectCommand');
    expect(forRun).toContain('PutObjectCommand');
    expect(forRun.at(-1)).toBe('DeleteObjectCommand');
    const { bucket, s3 } = pipeline.runtime.checkpoints;
    await expect(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
  });
});
