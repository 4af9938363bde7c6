import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import * as z from 'zod';
import type { SegmentInfo, SegmentPage, SegmentSource } from '#lib/ports/segment-source.ts';
import { MAX_ATTRIBUTE_NAME, MAX_SEGMENT_ATTRIBUTES } from './attribute-names.ts';
import { parseCsvRecord } from './csv.ts';
import { checkLimit, decodeCursor, encodeCursor } from './cursor.ts';
import { InvalidSegmentCursorError, SegmentNotFoundError, SegmentSourceConfigError } from './errors.ts';
import { csvRow, jsonRow, parseHeader } from './file-rows.ts';
import { MANIFEST_FILE, parseManifest, type SegmentManifestEntry } from './manifest.ts';
import { type RawRecord, type RecordFormat, scanRecords } from './record-scanner.ts';

export interface FileSegmentSourceOptions {
  /** Directory holding `segments.json` and the segment files. */
  dir: string;
  /** Attribute holding the profile id (default `id`); it is not repeated in `attributes`. */
  idField?: string;
}

const CursorSchema = z
  .object({
    v: z.literal(1),
    s: z.string(),
    o: z.number().int().nonnegative(),
    n: z.number().int().positive(),
    m: z.number(),
    z: z.number().int().nonnegative(),
    h: z.array(z.string()).optional(),
  })
  .strict();
type Cursor = z.infer<typeof CursorSchema>;

interface Stamp {
  mtimeMs: number;
  size: number;
}

/** What one version of a segment file holds: its data rows, and the attribute names it shows. */
interface FileFacts {
  stamp: Stamp;
  rows: number;
  /** Undefined when no record could name any (an empty file, an unreadable header). */
  attributes: string[] | undefined;
}

/** JSONL records whose keys name a segment's attributes (the S3 source samples as many). */
const ATTRIBUTE_SAMPLE_ROWS = 20;

/**
 * A `SegmentSource` over local files, for `npm start` and benchmarks. Files are streamed from a
 * byte-offset cursor, never loaded whole. Rows that cannot become a profile are reported in
 * `skipped` with their line (`line:12`) and a reason; they never fail the read.
 *
 * CSV values stay strings and an empty cell means "absent". A cursor is tied to the file's size
 * and modification time: rewriting the file mid-read makes the next page fail loudly rather than
 * resume at an offset that now points elsewhere.
 */
export class FileSegmentSource implements SegmentSource {
  private readonly dir: string;
  private readonly idField: string;
  private manifest: { stamp: Stamp; entries: SegmentManifestEntry[] } | undefined;
  private readonly facts = new Map<string, FileFacts>();
  /** Per file, the bytes read past the last page's end: the next page starts from them. */
  private readonly readAhead = new Map<string, { stamp: Stamp; offset: number; bytes: Buffer }>();

  constructor(options: FileSegmentSourceOptions) {
    this.dir = resolve(options.dir);
    this.idField = options.idField ?? 'id';
  }

  async listSegments(): Promise<SegmentInfo[]> {
    const entries = await this.entries();
    return Promise.all(entries.map((e) => this.info(e)));
  }

  async getSegment(id: string): Promise<SegmentInfo | undefined> {
    const entry = (await this.entries()).find((e) => e.id === id);
    return entry && this.info(entry);
  }

  async readPage(segmentId: string, cursor: string | undefined, limit: number): Promise<SegmentPage> {
    checkLimit(limit);
    const entry = (await this.entries()).find((e) => e.id === segmentId);
    if (!entry) throw new SegmentNotFoundError(segmentId);
    const path = this.pathOf(entry);
    const format = formatOf(entry);
    const stamp = await this.stampOf(path, entry);
    let from = { offset: 0, line: 1 };
    let header: string[] | undefined;
    if (cursor !== undefined) {
      const c = decodeCursor(cursor, CursorSchema, segmentId);
      checkCursor(c, segmentId, cursor, stamp, format);
      from = { offset: c.o, line: c.n };
      header = c.h;
    }
    const page: SegmentPage = { profiles: [], skipped: [] };
    let rows = 0;
    const ahead = this.readAhead.get(path);
    const prefix =
      ahead && ahead.offset === from.offset && sameStamp(ahead.stamp, stamp) ? ahead.bytes : undefined;
    this.readAhead.delete(path);
    const { stoppedAt, rest } = await scanRecords(
      path,
      format,
      from,
      (record) => {
        if (format === 'csv' && header === undefined) {
          header = parseHeader(this.idField, record, entry);
          return true;
        }
        if (rows === limit) return false;
        rows++;
        if (format === 'csv') csvRow(this.idField, record, header ?? [], page);
        else jsonRow(this.idField, record, page);
        return true;
      },
      prefix,
    );
    if (stoppedAt) {
      if (rest) this.readAhead.set(path, { stamp, offset: stoppedAt.offset, bytes: rest });
      const next: Cursor = {
        v: 1,
        s: segmentId,
        o: stoppedAt.offset,
        n: stoppedAt.line,
        m: stamp.mtimeMs,
        z: stamp.size,
      };
      if (header) next.h = header;
      page.next = encodeCursor(next);
    }
    return page;
  }

  private async info(entry: SegmentManifestEntry): Promise<SegmentInfo> {
    const { rows, attributes } = await this.factsOf(entry);
    const info: SegmentInfo = { id: entry.id, name: entry.name, profiles: rows };
    if (attributes !== undefined) info.attributes = attributes;
    return info;
  }

  /**
   * Data rows (a CSV header is not one; blank lines are ignored) and the attribute names of the
   * CSV header or the first JSONL records, in one read per file version.
   */
  private async factsOf(entry: SegmentManifestEntry): Promise<FileFacts> {
    const path = this.pathOf(entry);
    const stamp = await this.stampOf(path, entry);
    const cached = this.facts.get(path);
    if (cached && sameStamp(cached.stamp, stamp)) return cached;
    const format = formatOf(entry);
    const sample = format === 'csv' ? 1 : ATTRIBUTE_SAMPLE_ROWS;
    let records = 0;
    let names: Set<string> | undefined;
    await scanRecords(path, format, { offset: 0, line: 1 }, (record) => {
      if (records++ < sample) names = this.nameAttributes(record, format, names);
      return true;
    });
    const rows = format === 'csv' ? Math.max(0, records - 1) : records;
    const facts = { stamp, rows, attributes: names && [...names] };
    this.facts.set(path, facts);
    return facts;
  }

  /** Adds the names one record shows to `names` (created by the first record that shows any). */
  private nameAttributes(
    record: RawRecord,
    format: RecordFormat,
    names: Set<string> | undefined,
  ): Set<string> | undefined {
    if (record.broken) return names;
    let keys: string[];
    if (format === 'csv') {
      const parsed = parseCsvRecord(record.buf, record.start, record.end);
      if (!parsed.ok) return names;
      keys = parsed.fields.map((f) => f.trim());
    } else {
      let value: unknown;
      try {
        value = JSON.parse(record.buf.toString('utf8', record.start, record.end));
      } catch {
        // A malformed row names nothing; the page that reads it reports it.
        return names;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return names;
      keys = Object.keys(value);
    }
    const into = names ?? new Set<string>();
    for (const key of keys) {
      if (into.size === MAX_SEGMENT_ATTRIBUTES) break;
      if (key !== '' && key !== this.idField && key.length <= MAX_ATTRIBUTE_NAME) into.add(key);
    }
    return into;
  }

  private async entries(): Promise<SegmentManifestEntry[]> {
    const path = join(this.dir, MANIFEST_FILE);
    const stamp = await this.stampOf(path);
    if (this.manifest && sameStamp(this.manifest.stamp, stamp)) return this.manifest.entries;
    let json: unknown;
    try {
      json = JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      throw new SegmentSourceConfigError(`${path} is not valid JSON: ${(error as Error).message}`);
    }
    const entries = parseManifest(path, json);
    this.manifest = { stamp, entries };
    return entries;
  }

  private pathOf(entry: SegmentManifestEntry): string {
    return resolve(this.dir, entry.file);
  }

  private async stampOf(path: string, entry?: SegmentManifestEntry): Promise<Stamp> {
    try {
      const s = await stat(path);
      return { mtimeMs: s.mtimeMs, size: s.size };
    } catch (error) {
      const what = entry ? `file of segment "${entry.id}"` : 'segment manifest';
      throw new SegmentSourceConfigError(`Cannot read the ${what}, ${path}: ${(error as Error).message}`);
    }
  }
}

const formatOf = (entry: SegmentManifestEntry): RecordFormat =>
  extname(entry.file).toLowerCase() === '.csv' ? 'csv' : 'jsonl';

const sameStamp = (a: Stamp, b: Stamp): boolean => a.mtimeMs === b.mtimeMs && a.size === b.size;

const checkCursor = (
  c: Cursor,
  segmentId: string,
  cursor: string,
  stamp: Stamp,
  format: RecordFormat,
): void => {
  const fail = (problem: string): never => {
    throw new InvalidSegmentCursorError(segmentId, cursor, problem);
  };
  if (c.s !== segmentId) fail(`it was issued for segment "${c.s}"`);
  if (c.m !== stamp.mtimeMs || c.z !== stamp.size)
    fail('the segment file changed since the cursor was issued');
  if (c.o > stamp.size) fail('offset beyond the end of the file');
  if (format === 'csv' && c.h === undefined) fail('a CSV cursor must carry the header');
};
