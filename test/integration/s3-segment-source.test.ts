import type { S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidSegmentCursorError,
  RefreshManifestMismatchError,
  SegmentNotFoundError,
  SegmentSourceConfigError,
} from '#lib/adapters/segments/errors.ts';
import { S3SegmentSource } from '#lib/adapters/segments/s3-segment-source.ts';
import type { SourceProfile } from '#lib/domain/contact.ts';
import type { SegmentPage } from '#lib/ports/segment-source.ts';
import { uniqueName } from '#test/support/aws.ts';
import {
  asCsv,
  asJsonl,
  asParquet,
  createBucket,
  gzip,
  localS3,
  putObject,
  putRefresh,
  sha256,
  someProfiles,
} from '#test/support/s3.ts';

let s3: S3Client;
let bucket: string;

beforeAll(async () => {
  s3 = localS3();
  bucket = await createBucket(s3);
});

const source = (refreshId: string): S3SegmentSource => new S3SegmentSource({ client: s3, bucket, refreshId });

const manifestOf = (refreshId: string, segments: unknown[]) => ({
  refreshId,
  createdAt: '2026-12-03T10:00:00Z',
  segments,
});

/**
 * Reads a whole segment `limit` rows at a time. Each page uses a new source and a cursor that went
 * through JSON, as a planner resuming from a checkpoint in another invocation would.
 */
const readAll = async (refreshId: string, segmentId: string, limit: number) => {
  const pages: SegmentPage[] = [];
  let cursor: string | undefined;
  do {
    const page = await source(refreshId).readPage(segmentId, cursor, limit);
    pages.push(page);
    cursor = page.next === undefined ? undefined : (JSON.parse(JSON.stringify({ c: page.next })).c as string);
  } while (cursor !== undefined && pages.length < 1000);
  return {
    pages: pages.length,
    profiles: pages.flatMap((p) => p.profiles),
    skipped: pages.flatMap((p) => p.skipped),
  };
};

type Format = 'csv' | 'jsonl' | 'parquet';
const encode = (format: Format, gz: boolean, profiles: SourceProfile[]): string | Uint8Array => {
  if (format === 'parquet') return asParquet(profiles);
  const text = format === 'csv' ? asCsv(profiles) : asJsonl(profiles);
  return gz ? gzip(text) : text;
};

describe.each([
  { format: 'csv' as const, gz: false },
  { format: 'csv' as const, gz: true },
  { format: 'jsonl' as const, gz: false },
  { format: 'jsonl' as const, gz: true },
  { format: 'parquet' as const, gz: false },
])('S3SegmentSource over $format files (gzip: $gz)', ({ format, gz }) => {
  const first = someProfiles('a', 13);
  const second = someProfiles('b', 11);
  const refreshId = uniqueName(`r-${format}${gz ? '-gz' : ''}`);
  const ext = `${format}${gz ? '.gz' : ''}`;

  beforeAll(async () => {
    const files = {
      [`part-1.${ext}`]: encode(format, gz, first),
      [`part-2.${ext}`]: encode(format, gz, second),
    };
    const file = (key: string) => ({ key, format, ...(gz ? { gzip: true } : {}) });
    await putRefresh(
      s3,
      bucket,
      refreshId,
      manifestOf(refreshId, [
        { id: 'seg', name: 'Two files', files: [file(`part-1.${ext}`), file(`part-2.${ext}`)] },
      ]),
      files,
    );
  });

  it.each([1, 5, 13, 24, 100])(
    'yields every profile of every file, in order, resuming from serialised cursors (limit %i)',
    async (limit) => {
      const read = await readAll(refreshId, 'seg', limit);
      expect(read.profiles).toEqual([...first, ...second]);
      expect(read.skipped).toEqual([]);
      expect(read.pages).toBe(Math.ceil(24 / limit));
    },
  );

  it('pages from one source instance yield the same profiles', async () => {
    const s = source(refreshId);
    const seen: SourceProfile[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await s.readPage('seg', cursor, 7);
      expect(page.profiles.length).toBeLessThanOrEqual(7);
      seen.push(...page.profiles);
      cursor = page.next;
    } while (cursor && ++pages < 100);
    expect(seen).toEqual([...first, ...second]);
  });

  it('two reads interleaved on one source each yield every profile', async () => {
    const s = source(refreshId);
    const readWith = async (limit: number) => {
      const seen: SourceProfile[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await s.readPage('seg', cursor, limit);
        seen.push(...page.profiles);
        cursor = page.next;
      } while (cursor && ++pages < 100);
      return seen;
    };
    const [a, b] = await Promise.all([readWith(3), readWith(4)]);
    expect(a).toEqual([...first, ...second]);
    expect(b).toEqual([...first, ...second]);
  });

  it('lists the segment with its profiles counted from the files and its attributes', async () => {
    expect(await source(refreshId).listSegments()).toEqual([
      { id: 'seg', name: 'Two files', profiles: 24, attributes: ['email', 'city'] },
    ]);
  });
});

describe('S3SegmentSource', () => {
  it('keeps the body a page stopped in open for the next page instead of fetching it again', async () => {
    const refreshId = uniqueName('r-ahead');
    const files = {
      'a.jsonl.gz': gzip(asJsonl(someProfiles('a', 20))),
      'b.csv': asCsv(someProfiles('b', 20)),
    };
    await putRefresh(
      s3,
      bucket,
      refreshId,
      manifestOf(refreshId, [
        {
          id: 's',
          name: 'S',
          files: [
            { key: 'a.jsonl.gz', format: 'jsonl', gzip: true },
            { key: 'b.csv', format: 'csv' },
          ],
        },
      ]),
      files,
    );
    const counted = localS3();
    const gets: string[] = [];
    counted.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'GetObjectCommand')
          gets.push(String((args.input as { Key?: string }).Key));
        return next(args);
      },
      { step: 'initialize' },
    );
    const s = new S3SegmentSource({ client: counted, bucket, refreshId });
    let cursor: string | undefined;
    let profiles = 0;
    do {
      const page = await s.readPage('s', cursor, 3);
      profiles += page.profiles.length;
      cursor = page.next;
    } while (cursor && gets.length < 100);
    expect(profiles).toBe(40);
    // The manifest once, then each file once, though the segment took 14 pages.
    expect(gets).toEqual([
      `refreshes/${refreshId}/manifest.json`,
      `refreshes/${refreshId}/a.jsonl.gz`,
      `refreshes/${refreshId}/b.csv`,
    ]);
  });

  it('takes profile counts and attributes from the manifest when it declares them', async () => {
    const refreshId = uniqueName('r-declared');
    const body = asJsonl(someProfiles('p', 3));
    await putRefresh(
      s3,
      bucket,
      refreshId,
      manifestOf(refreshId, [
        {
          id: 's',
          name: 'S',
          files: [{ key: 'a.jsonl', format: 'jsonl', rows: 3 }],
          attributes: ['email', 'tier'],
        },
      ]),
      { 'a.jsonl': body },
    );
    expect(await source(refreshId).getSegment('s')).toEqual({
      id: 's',
      name: 'S',
      profiles: 3,
      attributes: ['email', 'tier'],
    });
    expect(await source(refreshId).getSegment('other')).toBeUndefined();
    await expect(source(refreshId).readPage('other', undefined, 5)).rejects.toBeInstanceOf(
      SegmentNotFoundError,
    );
  });

  it('skips malformed rows with their file and line, and keeps reading', async () => {
    const refreshId = uniqueName('r-malformed');
    const jsonl = [
      '{"id":"1","email":"a@x.io"}',
      '{"id":',
      '',
      '{"email":"no-id@x.io"}',
      '[1]',
      '{"id":"5"}',
    ].join('\n');
    const csv = 'id,email\r\n1,a@x.io\r\n2,b@x.io,extra\r\n"3,c@x.io\n';
    await putRefresh(
      s3,
      bucket,
      refreshId,
      manifestOf(refreshId, [
        { id: 'j', name: 'J', files: [{ key: 'j.jsonl.gz', format: 'jsonl', gzip: true }] },
        { id: 'c', name: 'C', files: [{ key: 'c.csv', format: 'csv' }] },
      ]),
      { 'j.jsonl.gz': gzip(jsonl), 'c.csv': csv },
    );
    const j = await readAll(refreshId, 'j', 2);
    expect(j.profiles.map((p) => p.id)).toEqual(['1', '5']);
    expect(j.skipped).toEqual([
      { profileId: 'j.jsonl.gz:line:2', reason: 'source_malformed_row: invalid JSON' },
      { profileId: 'j.jsonl.gz:line:4', reason: 'source_malformed_row: id field "id" missing' },
      { profileId: 'j.jsonl.gz:line:5', reason: 'source_malformed_row: not a JSON object' },
    ]);
    const c = await readAll(refreshId, 'c', 10);
    expect(c.profiles).toEqual([{ id: '1', attributes: { email: 'a@x.io' } }]);
    expect(c.skipped).toEqual([
      { profileId: 'c.csv:line:3', reason: 'source_malformed_row: expected 2 cells, found 3' },
      { profileId: 'c.csv:line:4', reason: 'source_malformed_row: unterminated quoted field' },
    ]);
  });

  it('skips a Parquet row without an id, naming its row', async () => {
    const refreshId = uniqueName('r-pq-bad');
    const profiles = someProfiles('q', 6);
    const withGap = profiles.map((p, i) => (i === 4 ? { ...p, id: '' } : p));
    await putRefresh(
      s3,
      bucket,
      refreshId,
      manifestOf(refreshId, [{ id: 'p', name: 'P', files: [{ key: 'p.parquet', format: 'parquet' }] }]),
      {
        'p.parquet': asParquet(withGap),
      },
    );
    const read = await readAll(refreshId, 'p', 4);
    expect(read.profiles.map((p) => p.id)).toEqual(['q1', 'q2', 'q3', 'q4', 'q6']);
    expect(read.skipped).toEqual([
      { profileId: 'p.parquet:row:5', reason: 'source_malformed_row: id field "id" missing' },
    ]);
  });

  it('names the manifest field that is wrong', async () => {
    const refreshId = uniqueName('r-bad-manifest');
    await putRefresh(
      s3,
      bucket,
      refreshId,
      manifestOf(refreshId, [{ id: 's', name: 'S', files: [{ key: '../other/a.csv', format: 'xlsx' }] }]),
      {},
    );
    const error = await source(refreshId)
      .listSegments()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SegmentSourceConfigError);
    expect((error as Error).message).toContain('segments[0].files[0].key: must not contain ".."');
    expect((error as Error).message).toContain('segments[0].files[0].format:');
  });

  it('reports a missing manifest or file by its key', async () => {
    const refreshId = uniqueName('r-missing');
    await expect(source(refreshId).listSegments()).rejects.toThrow(
      `refreshes/${refreshId}/manifest.json does not exist`,
    );
    await putRefresh(
      s3,
      bucket,
      refreshId,
      manifestOf(refreshId, [{ id: 's', name: 'S', files: [{ key: 'gone.csv', format: 'csv' }] }]),
      {},
    );
    await expect(source(refreshId).readPage('s', undefined, 5)).rejects.toThrow(
      `refreshes/${refreshId}/gone.csv does not exist`,
    );
  });

  it('reports a file declared gzip that is not gzip by its key', async () => {
    const refreshId = uniqueName('r-not-gzip');
    await putRefresh(
      s3,
      bucket,
      refreshId,
      manifestOf(refreshId, [
        { id: 's', name: 'S', files: [{ key: 'a.jsonl.gz', format: 'jsonl', gzip: true }] },
      ]),
      { 'a.jsonl.gz': asJsonl(someProfiles('a', 3)) },
    );
    const error = await source(refreshId)
      .readPage('s', undefined, 5)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SegmentSourceConfigError);
    expect((error as Error).message).toContain(`refreshes/${refreshId}/a.jsonl.gz is not valid gzip`);
  });

  it('verify passes when declared rows and checksums match, and names each mismatch otherwise', async () => {
    const refreshId = uniqueName('r-verify');
    const csv = asCsv(someProfiles('v', 5));
    const jsonlGz = gzip(asJsonl(someProfiles('w', 4)));
    const parquet = asParquet(someProfiles('x', 6));
    const files = { 'v.csv': csv, 'w.jsonl.gz': jsonlGz, 'x.parquet': parquet };
    const good = manifestOf(refreshId, [
      {
        id: 's',
        name: 'S',
        files: [
          { key: 'v.csv', format: 'csv', rows: 5, sha256: sha256(csv) },
          { key: 'w.jsonl.gz', format: 'jsonl', gzip: true, rows: 4, sha256: sha256(jsonlGz) },
          { key: 'x.parquet', format: 'parquet', rows: 6, sha256: sha256(parquet) },
        ],
      },
    ]);
    await putRefresh(s3, bucket, refreshId, good, files);
    await expect(source(refreshId).verify()).resolves.toBeUndefined();

    const badId = uniqueName('r-verify-bad');
    const bad = structuredClone(good);
    bad.refreshId = badId;
    const segment = bad.segments[0] as { files: Array<{ rows?: number; sha256?: string }> };
    (segment.files[0] as { rows: number }).rows = 6;
    (segment.files[1] as { sha256: string }).sha256 = sha256('something else');
    (segment.files[2] as { rows: number }).rows = 7;
    await putRefresh(s3, bucket, badId, bad, files);
    const error = await source(badId)
      .verify()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RefreshManifestMismatchError);
    expect((error as RefreshManifestMismatchError).mismatches).toEqual([
      'segments[0].files[0] (v.csv).rows: declared 6, the file has 5',
      `segments[0].files[1] (w.jsonl.gz).sha256: declared ${sha256('something else')}, the file has ${sha256(jsonlGz)}`,
      'segments[0].files[2] (x.parquet).rows: declared 7, the file has 6',
    ]);
  });

  it.each(['jsonl', 'parquet'] as const)(
    'refuses a %s cursor once its file was rewritten',
    async (format) => {
      const refreshId = uniqueName(`r-rewrite-${format}`);
      const key = `a.${format}`;
      const body = (prefix: string) => encode(format, false, someProfiles(prefix, 10));
      await putRefresh(
        s3,
        bucket,
        refreshId,
        manifestOf(refreshId, [{ id: 's', name: 'S', files: [{ key, format }] }]),
        {
          [key]: body('old'),
        },
      );
      const { next } = await source(refreshId).readPage('s', undefined, 3);
      await putObject(s3, bucket, `refreshes/${refreshId}/${key}`, body('new-longer-ids'));
      await expect(source(refreshId).readPage('s', next, 3)).rejects.toThrow(InvalidSegmentCursorError);
      await expect(source(refreshId).readPage('s', next, 3)).rejects.toThrow(
        `${key} changed since the cursor was issued`,
      );
    },
  );

  it('refuses a cursor issued for another segment or refresh', async () => {
    const refreshId = uniqueName('r-cursor');
    const files = { 'a.jsonl': asJsonl(someProfiles('a', 5)) };
    const segments = [
      { id: 's', name: 'S', files: [{ key: 'a.jsonl', format: 'jsonl' }] },
      { id: 't', name: 'T', files: [{ key: 'a.jsonl', format: 'jsonl' }] },
    ];
    await putRefresh(s3, bucket, refreshId, manifestOf(refreshId, segments), files);
    const other = uniqueName('r-cursor-other');
    await putRefresh(s3, bucket, other, manifestOf(other, segments), files);
    const { next } = await source(refreshId).readPage('s', undefined, 2);
    await expect(source(refreshId).readPage('t', next, 2)).rejects.toThrow('it was issued for segment "s"');
    await expect(source(other).readPage('s', next, 2)).rejects.toThrow(
      `it was issued for refresh "${refreshId}"`,
    );
  });

  it('streams a 200,000-row JSONL file page by page', async () => {
    const refreshId = uniqueName('r-large');
    const rows = 200_000;
    const lines: string[] = [];
    for (let i = 1; i <= rows; i++)
      lines.push(`{"id":"u${i}","email":"u${i}@example.com","score":${i % 97}}`);
    await putRefresh(
      s3,
      bucket,
      refreshId,
      manifestOf(refreshId, [{ id: 'big', name: 'Big', files: [{ key: 'big.jsonl', format: 'jsonl' }] }]),
      {
        'big.jsonl': `${lines.join('\n')}\n`,
      },
    );
    lines.length = 0;
    const s = source(refreshId);
    let count = 0;
    let last = '';
    const rssBefore = process.memoryUsage().rss;
    let peakRss = rssBefore;
    let cursor: string | undefined;
    do {
      const page = await s.readPage('big', cursor, 10_000);
      count += page.profiles.length;
      last = page.profiles.at(-1)?.id ?? last;
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      cursor = page.next;
    } while (cursor);
    expect(count).toBe(rows);
    expect(last).toBe(`u${rows}`);
    const mib = (bytes: number) => Math.round(bytes / 1024 / 1024);
    console.info(`s3 200k-row JSONL: RSS ${mib(rssBefore)} MiB before reading, peak ${mib(peakRss)} MiB`);
  });
});
