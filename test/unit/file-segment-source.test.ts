import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidSegmentCursorError,
  SegmentNotFoundError,
  SegmentSourceConfigError,
} from '#lib/adapters/segments/errors.ts';
import { FileSegmentSource } from '#lib/adapters/segments/file-segment-source.ts';
import type { SegmentPage } from '#lib/ports/segment-source.ts';
import {
  generateSampleProfiles,
  type SampleProfile,
  toSourceProfile,
  writeSampleFiles,
} from '#local/sample-data.ts';

let root: string;
let dirNo = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'file-segment-source-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh directory with `segments.json` listing one segment per file. */
const segmentDir = async (files: Record<string, string | Buffer>): Promise<string> => {
  const dir = join(root, `d${++dirNo}`);
  await mkdir(dir);
  const manifest = Object.keys(files).map((file) => ({
    id: file.replace(/\..*$/, ''),
    name: `Segment ${file}`,
    file,
  }));
  await writeFile(join(dir, 'segments.json'), JSON.stringify(manifest));
  for (const [file, content] of Object.entries(files)) await writeFile(join(dir, file), content);
  return dir;
};

const readAll = async (
  source: FileSegmentSource,
  segmentId: string,
  limit: number,
): Promise<{ pages: SegmentPage[]; page: SegmentPage }> => {
  const pages: SegmentPage[] = [];
  let cursor: string | undefined;
  do {
    const page = await source.readPage(segmentId, cursor, limit);
    pages.push(page);
    cursor = page.next;
  } while (cursor);
  return {
    pages,
    page: { profiles: pages.flatMap((p) => p.profiles), skipped: pages.flatMap((p) => p.skipped) },
  };
};

describe('FileSegmentSource: JSONL', () => {
  it('reads one profile per line, the id apart from the attributes', async () => {
    const dir = await segmentDir({
      'a.jsonl':
        '{"id":"p1","email":"ann@example.com","seats":3,"trial":true}\n{"id":42,"email":"bo@example.com"}\n',
    });
    const source = new FileSegmentSource({ dir });

    const page = await source.readPage('a', undefined, 10);

    expect(page).toEqual({
      profiles: [
        { id: 'p1', attributes: { email: 'ann@example.com', seats: 3, trial: true } },
        { id: '42', attributes: { email: 'bo@example.com' } },
      ],
      skipped: [],
    });
  });

  it('tolerates a BOM, CRLF line ends, blank lines and a missing final newline', async () => {
    const dir = await segmentDir({
      'a.jsonl': Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from('{"id":"p1","name":"Zoë"}\r\n\r\n   \n{"id":"p2"}'),
      ]),
    });
    const source = new FileSegmentSource({ dir });

    const { page } = await readAll(source, 'a', 1);

    expect(page.profiles).toEqual([
      { id: 'p1', attributes: { name: 'Zoë' } },
      { id: 'p2', attributes: {} },
    ]);
    expect((await source.getSegment('a'))?.profiles).toBe(2);
  });

  it('reports malformed lines as skipped with reason and line number, and keeps reading', async () => {
    const lines = [
      '{"id":"p1"}',
      '{"id":"p2",', // truncated
      '["not","an","object"]',
      '{"email":"no-id@example.com"}',
      '{"id":"","email":"empty-id@example.com"}',
      '{"id":{"nested":true}}',
      'null',
      '{"id":"p8"}',
    ];
    const dir = await segmentDir({ 'a.jsonl': `${lines.join('\n')}\n` });
    const source = new FileSegmentSource({ dir });

    const { page } = await readAll(source, 'a', 3);

    expect(page.profiles.map((p) => p.id)).toEqual(['p1', 'p8']);
    expect(page.skipped).toEqual([
      { profileId: 'line:2', reason: 'source_malformed_row: invalid JSON' },
      { profileId: 'line:3', reason: 'source_malformed_row: not a JSON object' },
      { profileId: 'line:4', reason: 'source_malformed_row: id field "id" missing' },
      { profileId: 'line:5', reason: 'source_malformed_row: id field "id" missing' },
      { profileId: 'line:6', reason: 'source_malformed_row: id field "id" not a string or number' },
      { profileId: 'line:7', reason: 'source_malformed_row: not a JSON object' },
    ]);
    expect((await source.getSegment('a'))?.profiles).toBe(8);
  });

  it('takes the profile id from a configured field', async () => {
    const dir = await segmentDir({ 'a.jsonl': '{"profile_id":"x1","id":"other","email":"a@example.com"}\n' });
    const source = new FileSegmentSource({ dir, idField: 'profile_id' });

    const page = await source.readPage('a', undefined, 10);

    expect(page.profiles).toEqual([{ id: 'x1', attributes: { id: 'other', email: 'a@example.com' } }]);
  });

  it('skips a line longer than 1 MiB and reads on after it', async () => {
    const huge = `{"id":"big","blob":"${'x'.repeat(1_200_000)}"}`;
    const dir = await segmentDir({ 'a.jsonl': `{"id":"p1"}\n${huge}\n{"id":"p3"}\n` });
    const source = new FileSegmentSource({ dir });

    const { page } = await readAll(source, 'a', 1);

    expect(page.profiles.map((p) => p.id)).toEqual(['p1', 'p3']);
    expect(page.skipped).toEqual([
      { profileId: 'line:2', reason: 'source_malformed_row: line longer than 1 MiB' },
    ]);
  });
});

describe('FileSegmentSource: CSV', () => {
  it('reads RFC 4180 quoting: commas, doubled quotes, embedded newlines; values stay strings', async () => {
    const csv = [
      'id,name,company,note,seats,trial',
      'p1,Ann,"Smith, Jones & Co","She said ""hi""",12,true',
      'p2,"Bo","""Blue Sky"" Ventures","line one\nline two",,false',
      'p3,Cé,,"",0,',
    ].join('\n');
    const dir = await segmentDir({ 'a.csv': `${csv}\n` });
    const source = new FileSegmentSource({ dir });

    const page = await source.readPage('a', undefined, 10);

    expect(page.skipped).toEqual([]);
    expect(page.profiles).toEqual([
      {
        id: 'p1',
        attributes: {
          name: 'Ann',
          company: 'Smith, Jones & Co',
          note: 'She said "hi"',
          seats: '12',
          trial: 'true',
        },
      },
      {
        id: 'p2',
        attributes: {
          name: 'Bo',
          company: '"Blue Sky" Ventures',
          note: 'line one\nline two',
          trial: 'false',
        },
      },
      { id: 'p3', attributes: { name: 'Cé', seats: '0' } },
    ]);
  });

  it('tolerates a BOM and CRLF records, keeping CRLF inside quoted values', async () => {
    const csv = '\ufeffid,note\r\np1,"a\r\nb"\r\np2,plain\r\n';
    const dir = await segmentDir({ 'a.csv': csv });
    const source = new FileSegmentSource({ dir });

    const { page } = await readAll(source, 'a', 1);

    expect(page.profiles).toEqual([
      { id: 'p1', attributes: { note: 'a\r\nb' } },
      { id: 'p2', attributes: { note: 'plain' } },
    ]);
  });

  it('reports malformed rows with physical line numbers, counting embedded newlines', async () => {
    const csv = [
      'id,name,city', // line 1
      'p1,"Ann\nLee",Dublin', // lines 2-3
      'p2,Bo', // line 4: too few cells
      'p3,"Cy"x,Paris', // line 5: text after a closing quote
      ',Dee,Rome', // line 6: no id
      'p7,Eve,Oslo,extra', // line 7: too many cells
      'p8,Fay,Lyon', // line 8
      'p9,"Gus,Berlin', // line 9: unterminated quote (to the end of the file)
      'p10,Hal,Madrid', // line 10
    ].join('\n');
    const dir = await segmentDir({ 'a.csv': `${csv}\n` });
    const source = new FileSegmentSource({ dir });

    const { page } = await readAll(source, 'a', 2);

    expect(page.profiles.map((p) => p.id)).toEqual(['p1', 'p8', 'p10']);
    expect(page.skipped).toEqual([
      { profileId: 'line:4', reason: 'source_malformed_row: expected 3 cells, found 2' },
      { profileId: 'line:5', reason: 'source_malformed_row: unexpected text after a closing quote' },
      { profileId: 'line:6', reason: 'source_malformed_row: id field "id" missing' },
      { profileId: 'line:7', reason: 'source_malformed_row: expected 3 cells, found 4' },
      { profileId: 'line:9', reason: 'source_malformed_row: unterminated quoted field' },
    ]);
    expect((await source.getSegment('a'))?.profiles).toBe(8);
  });

  it('refuses a header without the id column, or with a duplicate or empty column name', async () => {
    const dir = await segmentDir({
      'noid.csv': 'email,name\na@example.com,Ann\n',
      'dup.csv': 'id,email,email\np1,a,b\n',
      'empty.csv': 'id,,name\np1,a,b\n',
    });
    const source = new FileSegmentSource({ dir });

    await expect(source.readPage('noid', undefined, 10)).rejects.toThrow(/noid\.csv.*no "id" column/);
    await expect(source.readPage('dup', undefined, 10)).rejects.toThrow(/dup\.csv.*duplicate column "email"/);
    await expect(source.readPage('empty', undefined, 10)).rejects.toThrow(/empty\.csv.*column 2 has no name/);
    await expect(source.readPage('dup', undefined, 10)).rejects.toBeInstanceOf(SegmentSourceConfigError);
  });

  it('counts data rows, not lines: the header and blank lines are not rows, multi-line records are one', async () => {
    const dir = await segmentDir({ 'a.csv': 'id,note\np1,"x\ny\nz"\n\np2,w\n', 'empty.csv': '' });
    const source = new FileSegmentSource({ dir });

    expect(await source.listSegments()).toEqual([
      { id: 'a', name: 'Segment a.csv', profiles: 2, attributes: ['note'] },
      { id: 'empty', name: 'Segment empty.csv', profiles: 0 },
    ]);
    expect(await source.readPage('empty', undefined, 10)).toEqual({ profiles: [], skipped: [] });
  });
});

describe('FileSegmentSource: attribute names', () => {
  it("names a CSV file's columns, in header order, without the id column", async () => {
    const dir = await segmentDir({ 'a.csv': 'email, id ,first_name,seats\nann@example.com,p1,Ann,3\n' });
    const source = new FileSegmentSource({ dir });

    expect((await source.getSegment('a'))?.attributes).toEqual(['email', 'first_name', 'seats']);
  });

  it('names the keys of the first JSONL rows, skipping malformed ones; keys first seen later are not looked for', async () => {
    const early = [
      '{"id":"p1","email":"ann@example.com"}',
      '{broken',
      '"not an object"',
      '{"id":"p2","email":"bo@example.com","plan":"pro"}',
    ];
    const filler = Array.from({ length: 30 }, (_, i) =>
      JSON.stringify({ id: `f${i}`, email: 'x@example.com' }),
    );
    const dir = await segmentDir({
      'a.jsonl': `${[...early, ...filler, '{"id":"late","late_key":1}'].join('\n')}\n`,
    });
    const source = new FileSegmentSource({ dir });

    const info = await source.getSegment('a');

    expect(info?.attributes).toEqual(['email', 'plan']);
    // The count still covers the whole file.
    expect(info?.profiles).toBe(early.length + filler.length + 1);
  });

  it('honours a configured id field', async () => {
    const dir = await segmentDir({ 'a.csv': 'customer_id,email\nc1,ann@example.com\n' });
    const source = new FileSegmentSource({ dir, idField: 'customer_id' });

    expect((await source.getSegment('a'))?.attributes).toEqual(['email']);
  });

  it('keeps at most 200 names, and leaves out names longer than an export may map (200 characters)', async () => {
    const columns = Array.from({ length: 250 }, (_, i) => `c${i}`);
    const long = 'x'.repeat(201);
    const dir = await segmentDir({
      'wide.csv': `id,${long},${columns.join(',')}\np1,${Array(251).fill('v').join(',')}\n`,
    });
    const source = new FileSegmentSource({ dir });

    const names = (await source.getSegment('wide'))?.attributes ?? [];

    expect(names).toEqual(columns.slice(0, 200));
  });

  it('says nothing about the attributes of an empty file', async () => {
    const dir = await segmentDir({ 'a.csv': '', 'b.jsonl': '\n' });
    const source = new FileSegmentSource({ dir });

    const listed = await source.listSegments();

    expect(listed.map((s) => 'attributes' in s)).toEqual([false, false]);
  });

  it('names the columns again when the file changes', async () => {
    const dir = await segmentDir({ 'a.csv': 'id,email\np1,a@example.com\n' });
    const source = new FileSegmentSource({ dir });
    expect((await source.getSegment('a'))?.attributes).toEqual(['email']);

    await writeFile(join(dir, 'a.csv'), 'id,email,plan\np1,a@example.com,pro\n');
    const later = new Date(Date.now() + 5_000);
    await utimes(join(dir, 'a.csv'), later, later);

    expect((await source.getSegment('a'))?.attributes).toEqual(['email', 'plan']);
  });
});

describe('FileSegmentSource: paging', () => {
  const mixedRows = (n: number): { jsonl: string; csv: string; ids: string[] } => {
    const ids: string[] = [];
    const jsonl: string[] = [];
    const csv: string[] = ['id,email,note'];
    for (let i = 0; i < n; i++) {
      const id = `p${i}`;
      ids.push(id);
      jsonl.push(JSON.stringify({ id, email: `${id}@example.com`, note: `n${i}` }));
      csv.push(
        i % 7 === 0 ? `${id},${id}@example.com,"multi\nline, ""quoted"""` : `${id},${id}@example.com,n${i}`,
      );
      if (i % 50 === 0) {
        jsonl.push('', '{broken');
        csv.push('', 'only-one-cell');
      }
    }
    return { jsonl: `${jsonl.join('\n')}\n`, csv: `${csv.join('\r\n')}\r\n`, ids };
  };

  for (const format of ['jsonl', 'csv'] as const) {
    it(`${format}: every row exactly once across page boundaries, for any limit`, async () => {
      const { ids, ...content } = mixedRows(1037);
      const dir = await segmentDir({ [`a.${format}`]: content[format] });
      const source = new FileSegmentSource({ dir });
      const info = await source.getSegment('a');
      expect(info?.profiles).toBe(1037 + 21); // rows + the malformed ones

      for (const limit of [1, 7, 100, 1058, 5000]) {
        const { pages, page } = await readAll(source, 'a', limit);
        expect(page.profiles.map((p) => p.id)).toEqual(ids);
        expect(page.skipped).toHaveLength(21);
        expect(new Set(page.skipped.map((s) => s.profileId)).size).toBe(21);
        // Full pages except the last; no trailing empty page.
        const sizes = pages.map((p) => p.profiles.length + p.skipped.length);
        expect(sizes.slice(0, -1).every((s) => s === limit)).toBe(true);
        expect(sizes.at(-1)).toBeGreaterThan(0);
        expect(pages).toHaveLength(Math.ceil(1058 / limit));
      }
    });

    it(`${format}: a cursor resumes in a new source instance (it survives serialisation)`, async () => {
      const { ids, ...content } = mixedRows(300);
      const dir = await segmentDir({ [`a.${format}`]: content[format] });
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await new FileSegmentSource({ dir }).readPage('a', cursor, 37);
        seen.push(...page.profiles.map((p) => p.id));
        cursor = page.next === undefined ? undefined : JSON.parse(JSON.stringify(page.next));
      } while (cursor);
      expect(seen).toEqual(ids);
    });
  }

  it('reads a 100,000-row file page by page, every profile exactly once', async () => {
    const dataset = generateSampleProfiles({ profiles: 100_000, seed: 11 });
    const all = {
      ...dataset,
      segments: [{ id: 'all', name: 'All' }],
      membership: new Uint8Array(dataset.profiles.length).fill(1),
    };
    const expectedIds = dataset.profiles.map((p) => p.id);
    for (const format of ['jsonl', 'csv'] as const) {
      const dir = join(root, `big-${format}`);
      await writeSampleFiles(dir, all, { format });
      const source = new FileSegmentSource({ dir });

      const { page } = await readAll(source, 'all', 1000);

      expect((await source.getSegment('all'))?.profiles).toBe(100_000);
      expect(page.skipped).toEqual([]);
      expect(page.profiles.map((p) => p.id)).toEqual(expectedIds);
      if (format === 'jsonl')
        expect(page.profiles[12_345]).toEqual(toSourceProfile(dataset.profiles[12_345] as SampleProfile));
    }
  });
});

describe('FileSegmentSource: cursors and configuration', () => {
  it('rejects a malformed cursor with an error naming it', async () => {
    const dir = await segmentDir({
      'a.jsonl': '{"id":"p1"}\n{"id":"p2"}\n',
      'b.jsonl': '{"id":"q1"}\n{"id":"q2"}\n',
    });
    const source = new FileSegmentSource({ dir });
    const fromB = (await source.readPage('b', undefined, 1)).next;

    await expect(source.readPage('a', 'garbage!', 1)).rejects.toThrow(
      'Invalid cursor "garbage!" for segment "a": not base64url',
    );
    await expect(source.readPage('a', Buffer.from('[1,2]').toString('base64url'), 1)).rejects.toBeInstanceOf(
      InvalidSegmentCursorError,
    );
    await expect(source.readPage('a', fromB, 1)).rejects.toThrow(/issued for segment "b"/);
  });

  it('refuses to resume after the file changed under the cursor', async () => {
    const dir = await segmentDir({ 'a.jsonl': '{"id":"p1"}\n{"id":"p2"}\n' });
    const source = new FileSegmentSource({ dir });
    const { next } = await source.readPage('a', undefined, 1);
    await writeFile(join(dir, 'a.jsonl'), '{"id":"p0"}\n{"id":"p1"}\n{"id":"p2"}\n');

    await expect(source.readPage('a', next, 1)).rejects.toThrow(/changed since the cursor was issued/);
  });

  it('recounts a segment when its file changes', async () => {
    const dir = await segmentDir({ 'a.jsonl': '{"id":"p1"}\n' });
    const source = new FileSegmentSource({ dir });
    expect((await source.getSegment('a'))?.profiles).toBe(1);

    await writeFile(join(dir, 'a.jsonl'), '{"id":"p1"}\n{"id":"p2"}\n');
    const later = new Date(Date.now() + 5_000);
    await utimes(join(dir, 'a.jsonl'), later, later);

    expect((await source.getSegment('a'))?.profiles).toBe(2);
  });

  it('names the offending field of a bad segments.json', async () => {
    const dir = await segmentDir({});
    const source = new FileSegmentSource({ dir });
    // Each version differs in size, so the source re-reads it rather than using its cached copy.
    const manifest = (value: unknown): Promise<void> =>
      writeFile(join(dir, 'segments.json'), JSON.stringify(value));

    await manifest([
      { id: 'a', name: 'A', file: 'a.jsonl' },
      { id: 'b', file: 'b.jsonl' },
    ]);
    await expect(source.listSegments()).rejects.toThrow(/segments\.json: \[1\]\.name: /);
    await manifest([{ id: 'a', name: 'A', file: 'a.txt' }]);
    await expect(source.listSegments()).rejects.toThrow(/\[0\]\.file: must end in \.jsonl or \.csv/);
    await manifest([
      { id: 'a', name: 'A', file: 'a.jsonl' },
      { id: 'a', name: 'Again', file: 'b.jsonl' },
    ]);
    await expect(source.listSegments()).rejects.toThrow(/\[1\]\.id: duplicate id "a"/);
    await manifest({ id: 'a' });
    await expect(source.listSegments()).rejects.toThrow(/segments\.json: \(root\): /);
    await writeFile(join(dir, 'segments.json'), '[{"id": "a",');
    await expect(source.listSegments()).rejects.toThrow(/segments\.json is not valid JSON/);
    await expect(source.listSegments()).rejects.toBeInstanceOf(SegmentSourceConfigError);
  });

  it('says which segment file is missing, and which segment is unknown', async () => {
    const dir = await segmentDir({ 'a.jsonl': '{"id":"p1"}\n' });
    await writeFile(
      join(dir, 'segments.json'),
      JSON.stringify([
        { id: 'a', name: 'A', file: 'a.jsonl' },
        { id: 'gone', name: 'Gone', file: 'gone.jsonl' },
      ]),
    );
    const source = new FileSegmentSource({ dir });

    await expect(source.listSegments()).rejects.toThrow(/file of segment "gone".*gone\.jsonl/);
    await expect(source.readPage('nope', undefined, 1)).rejects.toBeInstanceOf(SegmentNotFoundError);
    expect(await source.getSegment('nope')).toBeUndefined();
    await expect(source.readPage('a', undefined, 0)).rejects.toBeInstanceOf(RangeError);
  });
});
