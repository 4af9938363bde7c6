import { describe, expect, it } from 'vitest';
import { InvalidSegmentCursorError, SegmentNotFoundError } from '#lib/adapters/segments/errors.ts';
import { IDLE_BODY_MS, RefreshSegmentSource } from '#lib/adapters/segments/refresh-segment-source.ts';
import { fakeS3 } from '#test/fakes/fake-s3.ts';
import { createInMemoryState } from '#test/fakes/in-memory-state.ts';

const rows = (prefix: string, n: number): string =>
  Array.from({ length: n }, (_, i) =>
    JSON.stringify({ id: `${prefix}${i + 1}`, email: `${prefix}${i + 1}@example.com` }),
  )
    .join('\n')
    .concat('\n');

const folder = (refreshId: string, segmentId: string, body: string): Record<string, string> => ({
  [`refreshes/${refreshId}/manifest.json`]: JSON.stringify({
    refreshId,
    createdAt: '2026-12-03T06:00:00Z',
    segments: [{ id: segmentId, name: 'VIP', files: [{ key: 'v.jsonl', format: 'jsonl' }] }],
  }),
  [`refreshes/${refreshId}/v.jsonl`]: body,
});

const world = async () => {
  const state = createInMemoryState();
  const s3 = fakeS3({ ...folder('r1', 'vip', rows('a', 6)), ...folder('r-bad', 'vip', rows('x', 2)) });
  await state.refreshes.record({
    refreshId: 'r1',
    outcome: 'complete',
    createdAt: '2026-12-03T06:00:00Z',
    arrivedAt: '2026-12-03T06:01:00.000Z',
    segments: [{ id: 'vip', name: 'VIP', profiles: 6, attributes: ['email'] }],
  });
  await state.refreshes.record({
    refreshId: 'r-bad',
    outcome: 'rejected',
    arrivedAt: '2026-12-03T06:01:00.000Z',
    reasons: ['rows differ'],
  });
  let now = 0;
  const source = new RefreshSegmentSource({
    client: s3.client,
    bucket: 'segments',
    refreshes: state.refreshes,
    now: () => now,
  });
  return { state, s3, source, wait: (ms: number) => (now += ms) };
};

describe('RefreshSegmentSource', () => {
  it('lists and sizes segments from the ledger alone', async () => {
    const { s3, source } = await world();

    expect(await source.listSegments()).toEqual([
      { id: 'vip', name: 'VIP', profiles: 6, attributes: ['email'] },
    ]);
    expect(await source.getSegment('vip')).toMatchObject({ profiles: 6 });
    expect(await source.getSegment('never')).toBeUndefined();
    expect(s3.gets).toEqual([]);
  });

  it('goes on with the body the last page stopped in, and lets go of one left idle', async () => {
    const { s3, source, wait } = await world();

    const first = await source.readPage('vip', undefined, 2);
    const second = await source.readPage('vip', first.next, 2);
    wait(IDLE_BODY_MS + 1);
    const third = await source.readPage('vip', second.next, 2);

    expect([first, second, third].flatMap((p) => p.profiles.map((x) => x.id))).toEqual([
      'a1',
      'a2',
      'a3',
      'a4',
      'a5',
      'a6',
    ]);
    const fileReads = s3.gets.filter((g) => g.includes('v.jsonl'));
    expect(fileReads).toHaveLength(2);
    expect(fileReads[1]).not.toBe('refreshes/r1/v.jsonl@0');
  });

  it('a segment no complete refresh holds cannot be read', async () => {
    const { source } = await world();

    await expect(source.readPage('never', undefined, 2)).rejects.toBeInstanceOf(SegmentNotFoundError);
  });

  it('refuses a cursor naming a refresh that is not complete, reading nothing from it', async () => {
    const { s3, state } = await world();
    const other = new RefreshSegmentSource({
      client: s3.client,
      bucket: 'segments',
      refreshes: state.refreshes,
    });
    const page = await other.readPage('vip', undefined, 1);
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(page.next ?? '', 'base64url').toString()), r: 'r-bad' }),
    ).toString('base64url');
    const before = s3.gets.length;

    const error = await new RefreshSegmentSource({
      client: s3.client,
      bucket: 'segments',
      refreshes: state.refreshes,
    })
      .readPage('vip', forged, 1)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidSegmentCursorError);
    expect((error as Error).message).toContain('refresh "r-bad" is not a complete refresh');
    expect(s3.gets).toHaveLength(before);
  });
});
