import type { DecodedArray, PageHeader } from 'hyparquet';
import type { readPage } from 'hyparquet/src/column.js';
import { decompressPage } from 'hyparquet/src/datapage.js';
import { readRleBitPackedHybrid } from 'hyparquet/src/encoding.js';
import { getMaxDefinitionLevel, getMaxRepetitionLevel } from 'hyparquet/src/schema.js';
import { snappyUncompress } from 'hyparquet/src/snappy.js';

/*
 * A data page whose values are made only when a row is asked for. hyparquet decodes a page whole:
 * every string of a 100,000-row page at once, each first as a Uint8Array view. Held while the
 * planner reads the page a thousand rows at a time, those objects outlive the young generation,
 * and promoting them was most of a 1,000,000-row Parquet read's peak memory. Here a page of
 * strings keeps its decompressed bytes and the offsets of its values (typed arrays, which the
 * garbage collector neither copies nor scans), and a dictionary page keeps its indices; a string is
 * decoded when its row is read, and dies with the planner's page. Any other page (numbers,
 * booleans, delta encodings, nested levels) is decoded whole by hyparquet, as before.
 */

export type ColumnDecoder = Parameters<typeof readPage>[2];

/** A data page's values by row. */
export interface PageValues {
  readonly length: number;
  at(row: number): unknown;
}

export const decodedPage = (data: DecodedArray): PageValues => ({
  length: data.length,
  at: (row) => data[row],
});

/** Rows of a flat column: each row's value index, or -1 for a null (absent when nothing is null). */
const rowSlots = (defs: Uint8Array | undefined, scratch: PageScratch | undefined): Int32Array | undefined => {
  if (!defs) return undefined;
  const slots = ints(scratch, 0, defs.length);
  let value = 0;
  for (let r = 0; r < defs.length; r++) slots[r] = defs[r] === 1 ? value++ : -1;
  return value === defs.length ? undefined : slots;
};

const nullCount = (defs: Uint8Array | undefined): number => {
  let nulls = 0;
  if (defs) for (const d of defs) if (d !== 1) nulls++;
  return nulls;
};

class PlainStrings implements PageValues {
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly text: Buffer;

  constructor(
    bytes: Uint8Array,
    offset: number,
    count: number,
    private readonly slots: Int32Array | undefined,
    readonly length: number,
    column: string,
    scratch: PageScratch | undefined,
  ) {
    this.text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.starts = ints(scratch, 1, count);
    this.ends = ints(scratch, 2, count);
    let at = offset;
    for (let i = 0; i < count; i++) {
      if (at + 4 > bytes.byteLength) throw new Error(`parquet column ${column}: page ends inside value ${i}`);
      const size = this.text.readUInt32LE(at);
      at += 4;
      if (at + size > bytes.byteLength)
        throw new Error(`parquet column ${column}: page ends inside value ${i}`);
      this.starts[i] = at;
      at += size;
      this.ends[i] = at;
    }
  }

  at(row: number): unknown {
    const v = this.slots ? (this.slots[row] as number) : row;
    // toString copies the bytes into a string of its own: nothing keeps the page alive.
    return v < 0 ? null : this.text.toString('utf8', this.starts[v], this.ends[v]);
  }
}

class DictionaryValues implements PageValues {
  constructor(
    private readonly indices: Int32Array,
    private readonly dictionary: DecodedArray,
    private readonly slots: Int32Array | undefined,
    readonly length: number,
  ) {}

  at(row: number): unknown {
    const v = this.slots ? (this.slots[row] as number) : row;
    return v < 0 ? null : this.dictionary[this.indices[v] as number];
  }
}

/**
 * Bytes a column reuses for its Snappy pages: a column holds one data page at a time, so each new
 * page is inflated over the last one instead of into a fresh buffer that only a full collection
 * would free.
 */
export interface PageScratch {
  bytes: Uint8Array;
  /** The page's offsets, indices and row slots, likewise reused. */
  ints?: Int32Array[];
}

/** `count` integers: a fresh array, or the start of `scratch`'s array number `k`, grown as needed. */
const ints = (scratch: PageScratch | undefined, k: number, count: number): Int32Array => {
  if (!scratch) return new Int32Array(count);
  scratch.ints ??= [];
  let held = scratch.ints[k];
  if (!held || held.length < count) {
    held = new Int32Array(Math.max(count, (held?.length ?? 0) * 2));
    scratch.ints[k] = held;
  }
  return held.subarray(0, count);
};

/**
 * The page's bytes inflated into `scratch` (Snappy in place; other codecs, or stored bytes that
 * view the fetch window, copied in, so what they were made in dies young).
 */
const inflate = (
  stored: Uint8Array,
  size: number,
  decoder: ColumnDecoder,
  scratch: PageScratch | undefined,
  compressed = true,
): Uint8Array => {
  if (!scratch) return compressed ? decompressPage(stored, size, decoder.codec, decoder.compressors) : stored;
  if (scratch.bytes.length < size) scratch.bytes = new Uint8Array(Math.max(size, scratch.bytes.length * 2));
  const page = scratch.bytes.subarray(0, size);
  if (compressed && decoder.codec === 'SNAPPY') snappyUncompress(stored, page);
  else page.set(compressed ? decompressPage(stored, size, decoder.codec, decoder.compressors) : stored);
  return page;
};

/** hyparquet turns a BYTE_ARRAY into a string unless its type says otherwise (JSON, decimal, geometry…). */
const isString = (decoder: ColumnDecoder): boolean => {
  const { converted_type: ctype, logical_type: ltype } = decoder.element;
  return ctype === 'UTF8' || ltype?.type === 'STRING' || (ctype === undefined && ltype === undefined);
};

/**
 * The page's values, left encoded, when it is a flat column's plain strings or dictionary indices
 * in a v1 or v2 data page; undefined for any other page, which hyparquet then decodes. `body` is
 * the page after its header, as stored. A page made over `scratch` is good until the next one is.
 */
export const lazyPage = (
  body: Uint8Array,
  header: PageHeader,
  decoder: ColumnDecoder,
  dictionary: DecodedArray | undefined,
  scratch?: PageScratch,
): PageValues | undefined => {
  const v1 = header.type === 'DATA_PAGE' ? header.data_page_header : undefined;
  const v2 = header.type === 'DATA_PAGE_V2' ? header.data_page_header_v2 : undefined;
  const encoding = v1?.encoding ?? v2?.encoding;
  const dictionaryEncoded = encoding === 'RLE_DICTIONARY' || encoding === 'PLAIN_DICTIONARY';
  const plainStrings = encoding === 'PLAIN' && decoder.type === 'BYTE_ARRAY' && isString(decoder);
  if (!(dictionaryEncoded && dictionary) && !plainStrings) return undefined;
  if (getMaxRepetitionLevel(decoder.schemaPath) !== 0) return undefined;
  const maxDefinition = getMaxDefinitionLevel(decoder.schemaPath);
  if (maxDefinition > 1) return undefined;
  const rows = (v1?.num_values ?? v2?.num_values) as number;
  const defs = maxDefinition === 1 ? new Uint8Array(rows) : undefined;
  let page: Uint8Array;
  let offset = 0;
  if (v1) {
    page = inflate(body, header.uncompressed_page_size, decoder, scratch);
    if (defs) {
      const reader = { view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: 0 };
      readRleBitPackedHybrid(reader, 1, defs);
      offset = reader.offset;
    }
  } else {
    const h = v2 as NonNullable<typeof v2>;
    const levels = h.repetition_levels_byte_length + h.definition_levels_byte_length;
    if (defs) {
      const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
      const reader = { view, offset: h.repetition_levels_byte_length };
      readRleBitPackedHybrid(reader, 1, defs, h.definition_levels_byte_length);
    }
    page = inflate(
      body.subarray(levels),
      header.uncompressed_page_size - levels,
      decoder,
      scratch,
      h.is_compressed !== false,
    );
  }
  const count = rows - nullCount(defs);
  const slots = rowSlots(defs, scratch);
  const column = decoder.pathInSchema.join('.');
  if (plainStrings) return new PlainStrings(page, offset, count, slots, rows, column, scratch);
  const indices = ints(scratch, 1, count);
  const bitWidth = page[offset] ?? 0;
  if (bitWidth > 0) {
    const reader = { view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: offset + 1 };
    readRleBitPackedHybrid(reader, bitWidth, indices, page.byteLength - offset - 1);
  }
  return new DictionaryValues(indices, dictionary as DecodedArray, slots, rows);
};
