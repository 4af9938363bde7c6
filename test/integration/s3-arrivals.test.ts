import type { S3Client } from '@aws-sdk/client-s3';
import type { S3ObjectCreatedNotificationEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Arrivals } from '#local/s3-arrivals.ts';
import { RecordingLogger } from '#test/fakes/recording-logger.ts';
import { createBucket, localS3, putObject } from '#test/support/s3.ts';

/** The local stand-in for S3 → EventBridge "Object Created", driven one listing at a time. */

let s3: S3Client;
beforeAll(() => {
  s3 = localS3();
});
afterAll(() => s3.destroy());

const arrivals = async (handler: (event: S3ObjectCreatedNotificationEvent) => Promise<unknown>) => {
  const bucket = await createBucket(s3);
  const logger = new RecordingLogger();
  const events: S3ObjectCreatedNotificationEvent[] = [];
  const poller = new S3Arrivals({
    s3,
    bucket,
    logger,
    maxAttempts: 3,
    handler: async (event) => {
      events.push(event);
      return handler(event);
    },
  });
  return { bucket, logger, events, poller };
};

describe('S3Arrivals', () => {
  it('delivers each new refresh manifest once, shaped as EventBridge delivers it, and nothing else', async () => {
    const { bucket, events, poller } = await arrivals(async () => 'ok');
    await putObject(s3, bucket, 'refreshes/r1/a.csv', 'id\n1\n');
    await putObject(s3, bucket, 'refreshes/r1/manifest.json', '{}');
    await putObject(s3, bucket, 'refreshes/r1/nested/manifest.json', '{}');
    await putObject(s3, bucket, 'elsewhere/manifest.json', '{}');
    await poller.poll();
    await poller.poll();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      source: 'aws.s3',
      'detail-type': 'Object Created',
      resources: [`arn:aws:s3:::${bucket}`],
      detail: { bucket: { name: bucket }, object: { key: 'refreshes/r1/manifest.json', size: 2 } },
    });

    await putObject(s3, bucket, 'refreshes/r0/manifest.json', '{}');
    await poller.poll();
    // A folder whose id sorts before every other one still arrives.
    expect(events.map((e) => e.detail.object.key)).toEqual([
      'refreshes/r1/manifest.json',
      'refreshes/r0/manifest.json',
    ]);
    expect(await poller.delivered('refreshes/r0/manifest.json')).toEqual({
      key: 'refreshes/r0/manifest.json',
      attempts: 1,
      result: 'ok',
    });
  });

  it('delivers a manifest uploaded again as a new event, as S3 emits one per PUT', async () => {
    const { bucket, events, poller } = await arrivals(async () => 'ok');
    await putObject(s3, bucket, 'refreshes/r/manifest.json', '{"v":1}');
    await poller.poll();
    await putObject(s3, bucket, 'refreshes/r/manifest.json', '{"v":2}');
    await poller.poll();
    await poller.poll();
    expect(events).toHaveLength(2);
    expect(events[0]?.id).not.toBe(events[1]?.id);
    expect(await poller.delivered('refreshes/r/manifest.json', { count: 2 })).toMatchObject({ attempts: 1 });
  });

  it('retries a failed delivery on the next listings with the same event, then succeeds', async () => {
    let failures = 2;
    const { bucket, logger, events, poller } = await arrivals(async () => {
      if (failures-- > 0) throw new Error('DynamoDB throttled');
      return 'started';
    });
    await putObject(s3, bucket, 'refreshes/r/manifest.json', '{}');
    for (let i = 0; i < 5; i++) await poller.poll();
    expect(events).toHaveLength(3);
    expect(new Set(events.map((e) => e.id)).size).toBe(1);
    expect(await poller.delivered('refreshes/r/manifest.json')).toMatchObject({
      attempts: 3,
      result: 'started',
    });
    expect(logger.lines.filter((l) => l.includes('"refresh arrival failed"'))).toHaveLength(2);
  });

  it('gives a delivery up after maxAttempts, saying why, and calls no more', async () => {
    const { bucket, events, poller } = await arrivals(async () => {
      throw new Error('planner down');
    });
    await putObject(s3, bucket, 'refreshes/r/manifest.json', '{}');
    for (let i = 0; i < 6; i++) await poller.poll();
    expect(events).toHaveLength(3);
    expect(await poller.delivered('refreshes/r/manifest.json')).toMatchObject({
      attempts: 3,
      error: 'Error: planner down',
    });
  });

  it('waits for a delivery that has not happened within the timeout, and says which', async () => {
    const { poller } = await arrivals(async () => 'ok');
    await expect(poller.delivered('refreshes/none/manifest.json', { timeoutMs: 50 })).rejects.toThrow(
      'refreshes/none/manifest.json: 1 upload(s) not delivered within 50 ms',
    );
  });
});
