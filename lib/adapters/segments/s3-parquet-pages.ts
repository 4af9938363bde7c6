import type { AsyncBuffer, ColumnMetaData, DecodedArray, FileMetaData, PageHeader } from 'hyparquet';
import { parquetSchema } from 'hyparquet';
import { parquetHeader, readPage } from 'hyparquet/src/column.js';
import { convert, DEFAULT_PARSERS } from 'hyparquet/src/convert.js';
import { getTreePath, isFlatColumn } from 'hyparquet/src/schema.js';
import { PARQUET_COMPRESSORS } from './s3-parquet-codecs.ts';
import {
  type ColumnDecoder,
  decodedPage,
  lazyPage,
  type PageScratch,
  type PageValues,
} from './s3-parquet-lazy-page.ts';

/*
 * Parquet read forward a page at a time, for files whose columns are all flat (a profile's
 * attributes; nested ones go through hyparquet's row reader, s3-parquet-file.ts). That reader
 * decodes, for every request, each page the rows fall in, whole: with pages of 25,000–100,000
 * values, a planner page of 1,000 rows decoded up to 100 times what it returned, and a
 * 1,000,000-row file took 264 s. Here each page is fetched and decoded once, and only a window of
 * each column chunk is held, never a row group (warehouses write row groups of 128 MB). Resuming
 * mid-group in a new source fetches the group's earlier pages again but decodes none of them.
 * Built on hyparquet's own page decoder (`hyparquet/src/*.js`, which the package exports), so
 * every encoding it reads is read the same way; strings stay encoded until their rows are read
 * (s3-parquet-lazy-page.ts).
 */

/** Bytes of a column chunk fetched per ranged GET (more when one page is larger). */
const WINDOW_BYTES = 256 * 1024;
/** A page header (with its statistics) is read from this many bytes first, more if it is longer. */
const HEADER_BYTES = 16 * 1024;

/** One column chunk of one row group, read forward: a window of its bytes and its current page. */
class ColumnPages {
  private window: Uint8Array = new Uint8Array(0);
  private windowStart = 0;
  /** File offset of the next page header, and the end of the chunk. */
  private pos: number;
  private readonly end: number;
  private dictionary: DecodedArray | undefined;
  private page: PageValues = decodedPage([]);
  /** Row (in the group) of `page[0]`, and of the first value of the next page. */
  private pageStart = 0;
  private nextRow = 0;

  constructor(
    private readonly file: AsyncBuffer,
    meta: ColumnMetaData,
    private readonly decoder: ColumnDecoder,
    private readonly scratch: ColumnScratch,
  ) {
    this.pos = Number(meta.dictionary_page_offset || meta.data_page_offset);
    this.end = this.pos + Number(meta.total_compressed_size);
  }

  /** Copies the values of the group's rows `[from, to)` into `out[at…]`; reads only move forward. */
  async read(from: number, to: number, out: unknown[], at: number): Promise<void> {
    let row = from;
    while (row < to) {
      const pageEnd = this.pageStart + this.page.length;
      if (row >= this.pageStart && row < pageEnd) {
        const stop = Math.min(to, pageEnd);
        for (let r = row; r < stop; r++) out[at + r - from] = this.page.at(r - this.pageStart);
        row = stop;
      } else if (row < this.pageStart) {
        throw new Error(`parquet column ${this.decoder.pathInSchema.join('.')} cannot go back to row ${row}`);
      } else {
        await this.nextPage(row);
      }
    }
  }

  /** Decodes the next data page that holds `row` or a later one; earlier pages are skipped undecoded. */
  private async nextPage(row: number): Promise<void> {
    for (;;) {
      if (this.pos >= this.end) {
        throw new Error(`parquet column ${this.decoder.pathInSchema.join('.')} ends before row ${row}`);
      }
      const { header, length } = await this.header();
      const size = length + header.compressed_page_size;
      const rows = header.data_page_header?.num_values ?? header.data_page_header_v2?.num_rows;
      if (header.type === 'INDEX_PAGE' || (rows !== undefined && this.nextRow + rows <= row)) {
        this.pos += size;
        this.nextRow += rows ?? 0;
        continue;
      }
      await this.ensure(this.pos, size);
      const bodyStart = this.pos - this.windowStart + length;
      const body = this.window.subarray(bodyStart, bodyStart + header.compressed_page_size);
      const lazy = lazyPage(body, header, this.decoder, this.dictionary, this.scratch.page);
      const data = lazy
        ? undefined
        : readPage(
            { view: this.view(), offset: bodyStart },
            header,
            this.decoder,
            this.dictionary,
            undefined,
            0,
          ).data;
      this.pos += size;
      if (header.type === 'DICTIONARY_PAGE') {
        // Numbers read from an uncompressed page view the window, which the next fetch overwrites.
        if (data) this.dictionary = detached(convert(data, this.decoder), this.scratch.window);
        continue;
      }
      this.page = lazy ?? decodedPage(data ?? []);
      this.pageStart = this.nextRow;
      this.nextRow += this.page.length;
      return;
    }
  }

  private async header(): Promise<{ header: PageHeader; length: number }> {
    let want = Math.min(HEADER_BYTES, this.end - this.pos);
    for (;;) {
      await this.ensure(this.pos, want);
      const reader = { view: this.view(), offset: this.pos - this.windowStart };
      try {
        const header = parquetHeader(reader);
        return { header, length: reader.offset - (this.pos - this.windowStart) };
      } catch (error) {
        // A header running past the bytes at hand reads out of the view's bounds.
        if (!(error instanceof RangeError) || want >= this.end - this.pos) throw error;
        want = Math.min(this.end - this.pos, want * 4);
      }
    }
  }

  /**
   * Makes the file's bytes `[start, start + length)` the start of the window. Bytes the window
   * already holds from `start` on are kept, so a page longer than one window is fetched once.
   * The window lives in the column's own buffer, reused from fetch to fetch and from row group to
   * row group: each fetched slice is copied in and dies young, where windows held across
   * collections would pile up until a full one. Only the page being read views the window, and
   * reads move forward, so it is done with before the window is overwritten.
   */
  private async ensure(start: number, length: number): Promise<void> {
    const windowEnd = this.windowStart + this.window.length;
    if (start >= this.windowStart && start + length <= windowEnd) return;
    const stop = Math.min(this.end, start + Math.max(length, WINDOW_BYTES));
    const keep = start >= this.windowStart && start < windowEnd ? windowEnd - start : 0;
    const more = new Uint8Array(await this.file.slice(start + keep, stop));
    const held = this.scratch.window;
    if (held.bytes.length < keep + more.length) {
      const bigger = new Uint8Array(Math.max(keep + more.length, held.bytes.length * 2));
      bigger.set(this.window.subarray(start - this.windowStart, start - this.windowStart + keep));
      held.bytes = bigger;
    } else if (keep > 0) {
      const from = this.window.byteOffset - held.bytes.byteOffset + start - this.windowStart;
      held.bytes.copyWithin(0, from, from + keep);
    }
    held.bytes.set(more, keep);
    this.window = held.bytes.subarray(0, keep + more.length);
    this.windowStart = start;
  }

  private view(): DataView {
    return new DataView(this.window.buffer, this.window.byteOffset, this.window.byteLength);
  }
}

/** A column's buffers, reused page after page: the window of fetched bytes, and the inflated page. */
interface ColumnScratch {
  window: PageScratch;
  page: PageScratch;
}

/** `values`, copied when they are a view into `window`'s bytes. */
const detached = (values: DecodedArray, window: PageScratch): DecodedArray =>
  ArrayBuffer.isView(values) && values.buffer === window.bytes.buffer
    ? (values.slice() as DecodedArray)
    : values;

/** The file's top-level column names when every column is flat; undefined otherwise. */
export const flatColumnNames = (metadata: FileMetaData): string[] | undefined => {
  const tree = parquetSchema(metadata);
  for (const child of tree.children) if (!isFlatColumn([tree, child])) return undefined;
  return tree.children.map((c) => c.element.name);
};

/** Consecutive rows of a file, column by column: `columns[c][i]` is column `names[c]` of row i. */
export interface ColumnRows {
  names: string[];
  columns: unknown[][];
}

/**
 * Reads a flat Parquet file forward from a row: each call returns the next rows, crossing row
 * groups as needed. `next` is the row the following call starts at.
 */
export class ParquetPageReader {
  private group = -1;
  private groupStart = 0;
  private groupRows = 0;
  private pages: ColumnPages[] = [];
  private readonly names: string[];
  /** Per column, across row groups. */
  private readonly scratch: ColumnScratch[];

  constructor(
    private readonly file: AsyncBuffer,
    private readonly metadata: FileMetaData,
    public next: number,
  ) {
    const names = flatColumnNames(metadata);
    if (!names) throw new Error('ParquetPageReader reads flat schemas only');
    this.names = names;
    this.scratch = names.map(() => ({
      window: { bytes: new Uint8Array(0) },
      page: { bytes: new Uint8Array(0) },
    }));
  }

  async read(count: number): Promise<ColumnRows> {
    const total = Number(this.metadata.num_rows);
    const start = this.next;
    const end = Math.min(total, start + count);
    const columns = this.names.map(() => new Array<unknown>(end - start));
    while (this.next < end) {
      if (this.next >= this.groupStart + this.groupRows || this.group < 0) this.enterGroup(this.next);
      const from = this.next - this.groupStart;
      const to = Math.min(end, this.groupStart + this.groupRows) - this.groupStart;
      // Columns are independent: their window reads go out together.
      await Promise.all(
        this.pages.map((p, c) => p.read(from, to, columns[c] as unknown[], this.next - start)),
      );
      this.next += to - from;
    }
    return { names: this.names, columns };
  }

  /** Positions on the row group holding `row`, with a reader per column chunk. */
  private enterGroup(row: number): void {
    const tree = parquetSchema(this.metadata);
    let groupStart = 0;
    for (const [index, group] of this.metadata.row_groups.entries()) {
      const rows = Number(group.num_rows);
      if (row < groupStart + rows) {
        this.group = index;
        this.groupStart = groupStart;
        this.groupRows = rows;
        const chunks = this.names.map((name) =>
          group.columns.find((chunk) => chunk.meta_data?.path_in_schema[0] === name),
        );
        this.pages = chunks.map((chunk, c) => {
          const meta = chunk?.meta_data;
          if (!meta || chunk?.file_path) throw new Error('parquet column chunk missing or outside this file');
          const schemaPath = getTreePath(tree, meta.path_in_schema);
          const element = schemaPath.at(-1)?.element;
          if (!element) throw new Error(`parquet column ${meta.path_in_schema.join('.')} not in the schema`);
          const decoder: ColumnDecoder = {
            pathInSchema: meta.path_in_schema,
            type: meta.type,
            element,
            schemaPath,
            codec: meta.codec,
            parsers: DEFAULT_PARSERS,
            compressors: PARQUET_COMPRESSORS,
          };
          return new ColumnPages(this.file, meta, decoder, this.scratch[c] as ColumnScratch);
        });
        return;
      }
      groupStart += rows;
    }
    throw new Error(`parquet file has no row ${row}`);
  }
}
