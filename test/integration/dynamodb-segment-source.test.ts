import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbSegmentSource } from '#lib/adapters/segments/dynamodb-segment-source.ts';
import { InvalidSegmentCursorError, SegmentNotFoundError } from '#lib/adapters/segments/errors.ts';
import type { SourceProfile } from '#lib/domain/contact.ts';
import type { SegmentPage, SegmentSource } from '#lib/ports/segment-source.ts';
import { DynamoDbSegmentWriter } from '#local/dynamodb-segment-writer.ts';
import {
  applyChurn,
  generateSampleProfiles,
  sampleSegmentMembers,
  seedDynamoDbSegments,
  syncDynamoDbSegments,
  toSourceProfile,
} from '#local/sample-data.ts';
import { createTables, localDynamo } from '#test/support/aws.ts';

let client: DynamoDBClient;
let tableName: string;
let source: DynamoDbSegmentSource;
let writer: DynamoDbSegmentWriter;

beforeAll(async () => {
  client = localDynamo();
  ({ segmentTable: tableName } = await createTables(client));
  source = new DynamoDbSegmentSource({ client, tableName });
  writer = new DynamoDbSegmentWriter({ client, tableName });
});

afterAll(() => client.destroy());

const profiles = (n: number, prefix: string): SourceProfile[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `${prefix}${String(i).padStart(4, '0')}`,
    attributes: { email: `${prefix}${i}@example.com`, seats: i, trial: i % 2 === 0 },
  }));

const readAll = async (
  src: SegmentSource,
  segmentId: string,
  limit: number,
): Promise<{ pages: SegmentPage[]; ids: string[] }> => {
  const pages: SegmentPage[] = [];
  let cursor: string | undefined;
  do {
    const page = await src.readPage(segmentId, cursor, limit);
    pages.push(page);
    cursor = page.next;
  } while (cursor);
  return { pages, ids: pages.flatMap((p) => p.profiles.map((x) => x.id)) };
};

describe('DynamoDbSegmentSource with DynamoDbSegmentWriter', () => {
  it('lists segments with the member counts the writer keeps', async () => {
    await writer.putSegment({ id: 'list-a', name: 'List A' });
    await writer.putSegment({ id: 'list-b', name: 'List B' });
    await writer.putMembers('list-a', profiles(30, 'a'));
    // Re-putting existing members replaces them without counting them again.
    const again = await writer.putMembers('list-a', profiles(35, 'a'));
    expect(again).toEqual({ added: 5, replaced: 30 });
    await writer.putMembers('list-b', profiles(3, 'b'));

    const listed = await source.listSegments();
    expect(listed).toEqual(
      expect.arrayContaining([
        { id: 'list-a', name: 'List A', profiles: 35, attributes: ['email', 'seats', 'trial'] },
        { id: 'list-b', name: 'List B', profiles: 3, attributes: ['email', 'seats', 'trial'] },
      ]),
    );
    expect(await source.getSegment('list-b')).toEqual({
      id: 'list-b',
      name: 'List B',
      profiles: 3,
      attributes: ['email', 'seats', 'trial'],
    });
    expect(await source.getSegment('no-such-segment')).toBeUndefined();
  });

  it('pages 250 profiles with limit 100 into 100 + 100 + 50, each profile exactly once', async () => {
    await writer.putSegment({ id: 'paged', name: 'Paged' });
    const written = profiles(250, 'p');
    await writer.putMembers('paged', written);

    const { pages, ids } = await readAll(source, 'paged', 100);

    expect(pages.map((p) => p.profiles.length)).toEqual([100, 100, 50]);
    expect(pages.at(-1)?.next).toBeUndefined();
    expect(ids).toHaveLength(250);
    expect(new Set(ids)).toEqual(new Set(written.map((p) => p.id)));
    expect(pages.flatMap((p) => p.skipped)).toEqual([]);
  });

  it('needs no trailing empty page when the segment size is a multiple of the limit', async () => {
    await writer.putSegment({ id: 'exact', name: 'Exact' });
    await writer.putMembers('exact', profiles(20, 'e'));

    const { pages } = await readAll(source, 'exact', 10);

    expect(pages.map((p) => p.profiles.length)).toEqual([10, 10]);
  });

  it('returns profile attributes as written (strings, numbers, booleans, nulls, maps, lists)', async () => {
    await writer.putSegment({ id: 'typed', name: 'Typed' });
    const attributes = {
      email: 'ann@example.com',
      seats: 12,
      lifetime_value: 1234.56,
      trial: false,
      company: null,
      address: { city: 'Dublin', lines: ['1 Main St', ''] },
      big: '12345678901234567890',
    };
    await writer.putMembers('typed', [{ id: 'ann', attributes: { ...attributes, dropped: undefined } }]);

    const page = await source.readPage('typed', undefined, 10);

    expect(page.profiles).toEqual([{ id: 'ann', attributes }]);
  });

  it('reports a member item without a valid attribute map as skipped, with a reason', async () => {
    await writer.putSegment({ id: 'broken', name: 'Broken' });
    await writer.putMembers('broken', profiles(3, 'ok'));
    await client.send(
      new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'SEG#broken' }, sk: { S: 'P#no-map' } } }),
    );
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { pk: { S: 'SEG#broken' }, sk: { S: 'P#string-map' }, a: { S: '{"email":"x@example.com"}' } },
      }),
    );

    const { pages, ids } = await readAll(source, 'broken', 2);
    const skipped = pages.flatMap((p) => p.skipped);

    expect(ids.sort()).toEqual(['ok0000', 'ok0001', 'ok0002']);
    expect(skipped).toHaveLength(2);
    expect(skipped.map((s) => s.profileId).sort()).toEqual(['no-map', 'string-map']);
    for (const s of skipped) expect(s.reason).toMatch(/^source_malformed_row: attribute map 'a'/);
  });

  it('removeMembers lowers the count by the members actually removed', async () => {
    await writer.putSegment({ id: 'shrinking', name: 'Shrinking' });
    await writer.putMembers('shrinking', profiles(10, 's'));

    const first = await writer.removeMembers('shrinking', ['s0000', 's0001', 's0001', 'not-a-member']);
    const second = await writer.removeMembers('shrinking', ['s0000']);

    expect(first).toEqual({ removed: 2 });
    expect(second).toEqual({ removed: 0 });
    expect((await source.getSegment('shrinking'))?.profiles).toBe(8);
    const { ids } = await readAll(source, 'shrinking', 100);
    expect(ids).not.toContain('s0000');
    expect(ids).toHaveLength(8);
  });

  it('putSegment renames a segment without resetting its count', async () => {
    await writer.putSegment({ id: 'renamed', name: 'Old name' });
    await writer.putMembers('renamed', profiles(4, 'r'));
    await writer.putSegment({ id: 'renamed', name: 'New name' });

    expect(await source.getSegment('renamed')).toEqual({
      id: 'renamed',
      name: 'New name',
      profiles: 4,
      attributes: ['email', 'seats', 'trial'],
    });
  });

  it('keeps the attribute names its members carry on the segment, adding those later members bring', async () => {
    await writer.putSegment({ id: 'named', name: 'Named' });
    expect((await source.getSegment('named'))?.attributes).toBeUndefined();

    await writer.putMembers('named', [
      { id: 'n1', attributes: { email: 'a@example.com', plan: 'pro', gone: undefined } },
      { id: 'n2', attributes: { email: 'b@example.com', address: { city: 'Cork' } } },
    ]);
    expect((await source.getSegment('named'))?.attributes).toEqual(['address', 'email', 'plan']);

    await writer.putMembers('named', [{ id: 'n3', attributes: { email: 'c@example.com', seats: 2 } }]);
    await writer.removeMembers('named', ['n1']);
    // Names stay once seen: a removed member's attributes may still be another's.
    expect((await source.getSegment('named'))?.attributes).toEqual(['address', 'email', 'plan', 'seats']);
    expect((await source.listSegments()).find((s) => s.id === 'named')?.attributes).toEqual([
      'address',
      'email',
      'plan',
      'seats',
    ]);
  });

  it('keeps at most 200 attribute names per segment, leaving out names longer than an export may map', async () => {
    await writer.putSegment({ id: 'wide', name: 'Wide' });
    const long = 'x'.repeat(201);
    const first = Object.fromEntries(
      [long, ...Array.from({ length: 150 }, (_, i) => `a${i}`)].map((k) => [k, 1]),
    );
    const second = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`b${i}`, 1]));

    await writer.putMembers('wide', [{ id: 'w1', attributes: first }]);
    await writer.putMembers('wide', [{ id: 'w2', attributes: second }]);

    const names = (await source.getSegment('wide'))?.attributes ?? [];
    expect(names).toHaveLength(200);
    expect(names).not.toContain(long);
    // The names seen first are the ones kept.
    for (let i = 0; i < 150; i++) expect(names).toContain(`a${i}`);
  });

  it('reads at most 200 attribute names from a segment item, and names the field when it is not a string set', async () => {
    const names = Array.from({ length: 260 }, (_, i) => `n${String(i).padStart(3, '0')}`);
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          pk: { S: 'SEGMENTS' },
          sk: { S: 'written-upstream' },
          name: { S: 'Written upstream' },
          profiles: { N: '0' },
          attributes: { SS: [...names, 'y'.repeat(201)] },
        },
      }),
    );
    expect((await source.getSegment('written-upstream'))?.attributes).toEqual(names.slice(0, 200));

    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          pk: { S: 'SEGMENTS' },
          sk: { S: 'bad-names' },
          name: { S: 'Bad names' },
          attributes: { S: 'email,plan' },
        },
      }),
    );
    await expect(source.getSegment('bad-names')).rejects.toThrow(
      /Segment item "bad-names" is malformed: attributes: /,
    );
  });

  it('refuses to write members of a segment that does not exist', async () => {
    await expect(writer.putMembers('ghost', profiles(1, 'g'))).rejects.toBeInstanceOf(SegmentNotFoundError);
    await expect(writer.removeMembers('ghost', ['g0000'])).rejects.toBeInstanceOf(SegmentNotFoundError);
  });

  it('rejects a malformed cursor with an error naming it', async () => {
    await writer.putSegment({ id: 'cursors', name: 'Cursors' });
    await writer.putMembers('cursors', profiles(5, 'c'));
    const other = await source.readPage('paged', undefined, 1);

    await expect(source.readPage('cursors', 'not a cursor!', 2)).rejects.toThrow(
      /Invalid cursor "not a cursor!" for segment "cursors": not base64url/,
    );
    const wrongShape = Buffer.from(JSON.stringify({ offset: 3 })).toString('base64url');
    await expect(source.readPage('cursors', wrongShape, 2)).rejects.toBeInstanceOf(InvalidSegmentCursorError);
    // A cursor issued for another segment must not silently read that segment's members.
    await expect(source.readPage('cursors', other.next, 2)).rejects.toThrow(
      /belongs to partition "SEG#paged"/,
    );
  });

  it('rejects a page limit below 1', async () => {
    await expect(source.readPage('paged', undefined, 0)).rejects.toBeInstanceOf(RangeError);
  });

  it('seeds sample segments and applies churn as a difference', async () => {
    const { segmentTable } = await createTables(client);
    const sampleSource = new DynamoDbSegmentSource({ client, tableName: segmentTable });
    const sampleWriter = new DynamoDbSegmentWriter({ client, tableName: segmentTable });
    const before = generateSampleProfiles({ profiles: 800, seed: 7 });
    const { dataset: after } = applyChurn(before, { fraction: 0.05, seed: 8 });

    await seedDynamoDbSegments(sampleWriter, before);
    const written = await syncDynamoDbSegments(sampleWriter, before, after);

    const unchanged = after.segments.reduce((n, s) => n + [...sampleSegmentMembers(after, s.id)].length, 0);
    expect(written.put).toBeLessThan(unchanged / 5); // only the difference is written
    for (const segment of after.segments) {
      const expected = [...sampleSegmentMembers(after, segment.id)].map(toSourceProfile);
      const names = [...new Set(expected.flatMap((p) => Object.keys(p.attributes)))].sort();
      expect(await sampleSource.getSegment(segment.id)).toEqual({
        ...segment,
        profiles: expected.length,
        attributes: names,
      });
      const { pages } = await readAll(sampleSource, segment.id, 250);
      const read = pages.flatMap((p) => p.profiles).sort((a, b) => a.id.localeCompare(b.id));
      expect(read).toEqual(expected.sort((a, b) => a.id.localeCompare(b.id)));
    }
  });
});
