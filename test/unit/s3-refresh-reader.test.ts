import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { MAX_SEGMENT_ATTRIBUTES } from '#lib/adapters/segments/attribute-names.ts';
import { S3RefreshReader } from '#lib/adapters/segments/s3-refresh-reader.ts';
import { TransientError } from '#lib/domain/errors.ts';
import { fakeS3 as fakeS3Of } from '#test/fakes/fake-s3.ts';

const fakeS3 = (objects: Record<string, string>, missing?: () => Error): S3Client =>
  fakeS3Of(objects, missing).client;

const unavailable = (): Error =>
  Object.assign(new Error('Service Unavailable'), {
    name: 'ServiceUnavailable',
    $fault: 'server',
    $metadata: { httpStatusCode: 503 },
  });

const manifestOf = (segments: unknown[]) =>
  JSON.stringify({ refreshId: 'r1', createdAt: '2026-12-03T06:00:00Z', segments });

describe('S3RefreshReader', () => {
  it('answers a missing manifest as the refresh’s problem, naming the key', async () => {
    const reader = new S3RefreshReader({ client: fakeS3({}), bucket: 'segments' });

    expect(await reader.manifest('r1')).toEqual({
      ok: false,
      problems: ['s3://segments/refreshes/r1/manifest.json does not exist'],
    });
  });

  it('throws when S3 is unavailable, so the arrival is retried instead of the refresh rejected', async () => {
    const reader = new S3RefreshReader({ client: fakeS3({}, unavailable), bucket: 'segments' });

    for (const read of [() => reader.manifest('r1'), () => reader.verify('r1'), () => reader.facts('r1')]) {
      const error = await read().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransientError);
      expect(error).toMatchObject({ details: { status: 503 } });
    }
  });

  it('answers a manifest field that is wrong, and a file that is missing, as problems', async () => {
    const bad = new S3RefreshReader({
      client: fakeS3({ 'refreshes/r1/manifest.json': manifestOf([{ id: 's', name: 'S', files: [] }]) }),
      bucket: 'segments',
    });
    expect(await bad.manifest('r1')).toEqual({
      ok: false,
      problems: [expect.stringContaining('segments[0].files:')],
    });

    const gone = new S3RefreshReader({
      client: fakeS3({
        'refreshes/r1/manifest.json': manifestOf([
          { id: 's', name: 'S', files: [{ key: 'gone.csv', format: 'csv', rows: 2 }] },
        ]),
      }),
      bucket: 'segments',
    });
    expect(await gone.verify('r1')).toEqual(['s3://segments/refreshes/r1/gone.csv does not exist']);
  });

  it('keeps at most 200 attribute names per segment, none longer than an export can map', async () => {
    const columns = ['id', `x${'y'.repeat(300)}`, ...Array.from({ length: 1200 }, (_, i) => `c${i}`)];
    const reader = new S3RefreshReader({
      client: fakeS3({
        'refreshes/r1/manifest.json': manifestOf([
          { id: 's', name: 'Wide', files: [{ key: 'wide.csv', format: 'csv', rows: 1 }] },
        ]),
        'refreshes/r1/wide.csv': `${columns.join(',')}\n${columns.map(() => '1').join(',')}\n`,
      }),
      bucket: 'segments',
    });

    const facts = await reader.facts('r1');

    expect(facts.ok).toBe(true);
    const [segment] = facts.ok ? facts.segments : [];
    expect(segment).toMatchObject({ id: 's', name: 'Wide', profiles: 1 });
    expect(segment?.attributes).toHaveLength(MAX_SEGMENT_ATTRIBUTES);
    expect(segment?.attributes.slice(0, 2)).toEqual(['c0', 'c1']);
  });
});
