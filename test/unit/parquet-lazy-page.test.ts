import { gzipSync } from 'node:zlib';
import type { CompressionCodec, DecodedArray, PageHeader, SchemaElement, SchemaTree } from 'hyparquet';
import { readPage } from 'hyparquet/src/column.js';
import { DEFAULT_PARSERS } from 'hyparquet/src/convert.js';
import { ByteWriter } from 'hyparquet-writer';
import { writeRleBitPackedHybrid } from 'hyparquet-writer/src/encoding.js';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';
import { describe, expect, it } from 'vitest';
import { PARQUET_COMPRESSORS } from '#lib/adapters/segments/s3-parquet-codecs.ts';
import {
  type ColumnDecoder,
  lazyPage,
  type PageScratch,
} from '#lib/adapters/segments/s3-parquet-lazy-page.ts';

/*
 * hyparquet-writer writes only v2 data pages; Spark, pyarrow and most warehouses write v1. These
 * pages are built by hand in v1 layout (levels inside the compressed body, each prefixed by its
 * length) and read both by the lazy page and by hyparquet's own decoder, which must agree.
 */

const VALUES = ['ada@example.com', null, 'Zoë', '', null, 'x'.repeat(300), '東京', 'last'];
const DICTIONARY = ['red', 'green', 'blue'];
const INDICES = [2, null, 0, 0, 1, null, 2, 1];

const decoderOf = (optional: boolean, codec: CompressionCodec): ColumnDecoder => {
  const element: SchemaElement = {
    name: 'c',
    type: 'BYTE_ARRAY',
    converted_type: 'UTF8',
    repetition_type: optional ? 'OPTIONAL' : 'REQUIRED',
  };
  const leaf: SchemaTree = { element, children: [], count: 1, path: ['c'] };
  const root: SchemaTree = {
    element: { name: 'root', num_children: 1 },
    children: [leaf],
    count: 2,
    path: [],
  };
  return {
    pathInSchema: ['c'],
    type: 'BYTE_ARRAY',
    element,
    schemaPath: [root, leaf],
    codec,
    parsers: DEFAULT_PARSERS,
    compressors: PARQUET_COMPRESSORS,
  };
};

const compress = (bytes: Uint8Array, codec: CompressionCodec): Uint8Array =>
  codec === 'GZIP' ? gzipSync(bytes) : codec === 'SNAPPY' ? snappyCompress(bytes) : bytes;

/** A v1 data page: definition levels (when optional), then plain strings or dictionary indices. */
const v1Page = (
  values: ReadonlyArray<string | number | null>,
  encoding: 'PLAIN' | 'RLE_DICTIONARY',
  optional: boolean,
  codec: CompressionCodec,
): { header: PageHeader; body: Uint8Array } => {
  const page = new ByteWriter();
  if (optional) {
    const levels = new ByteWriter();
    writeRleBitPackedHybrid(
      levels,
      values.map((v) => (v === null ? 0 : 1)),
      1,
    );
    page.appendUint32(levels.offset);
    page.appendBytes(levels.getBytes());
  }
  const present = values.filter((v) => v !== null);
  if (encoding === 'PLAIN') {
    for (const v of present) {
      const bytes = new TextEncoder().encode(v as string);
      page.appendUint32(bytes.length);
      page.appendBytes(bytes);
    }
  } else {
    page.appendUint8(2);
    writeRleBitPackedHybrid(page, present as number[], 2);
  }
  const raw = page.getBytes();
  const body = compress(raw, codec);
  return {
    header: {
      type: 'DATA_PAGE',
      uncompressed_page_size: raw.length,
      compressed_page_size: body.length,
      data_page_header: {
        num_values: values.length,
        encoding,
        definition_level_encoding: 'RLE',
        repetition_level_encoding: 'RLE',
      },
    },
    body,
  };
};

/** hyparquet's own reading of the page, row by row. */
const hyparquetValues = (
  header: PageHeader,
  body: Uint8Array,
  decoder: ColumnDecoder,
  dictionary?: DecodedArray,
): unknown[] => {
  const reader = { view: new DataView(body.buffer, body.byteOffset, body.byteLength), offset: 0 };
  return Array.from(readPage(reader, header, decoder, dictionary, undefined, 0).data ?? []);
};

const rowsOf = (page: ReturnType<typeof lazyPage>): unknown[] => {
  if (!page) throw new Error('expected a lazy page');
  return Array.from({ length: page.length }, (_, r) => page.at(r));
};

describe('lazyPage on v1 data pages', () => {
  it.each(['UNCOMPRESSED', 'SNAPPY', 'GZIP'] as const)(
    'reads plain strings with nulls as hyparquet does (%s)',
    (codec) => {
      const decoder = decoderOf(true, codec);
      const { header, body } = v1Page(VALUES, 'PLAIN', true, codec);
      const rows = rowsOf(lazyPage(body, header, decoder, undefined, { bytes: new Uint8Array(0) }));
      expect(rows).toEqual(hyparquetValues(header, body, decoder));
      expect(rows).toEqual(VALUES);
    },
  );

  it('reads a required column, which has no definition levels', () => {
    const decoder = decoderOf(false, 'SNAPPY');
    const values = ['a', 'bb', 'ccc'];
    const { header, body } = v1Page(values, 'PLAIN', false, 'SNAPPY');
    expect(rowsOf(lazyPage(body, header, decoder, undefined))).toEqual(values);
  });

  it('reads dictionary indices with nulls as hyparquet does', () => {
    const decoder = decoderOf(true, 'GZIP');
    const { header, body } = v1Page(INDICES, 'RLE_DICTIONARY', true, 'GZIP');
    const rows = rowsOf(lazyPage(body, header, decoder, DICTIONARY));
    expect(rows).toEqual(hyparquetValues(header, body, decoder, DICTIONARY));
    expect(rows).toEqual(INDICES.map((i) => (i === null ? null : DICTIONARY[i])));
  });

  it('keeps each page readable until the next one reuses its bytes', () => {
    const decoder = decoderOf(true, 'SNAPPY');
    const scratch: PageScratch = { bytes: new Uint8Array(0) };
    const first = v1Page(VALUES, 'PLAIN', true, 'SNAPPY');
    expect(rowsOf(lazyPage(first.body, first.header, decoder, undefined, scratch))).toEqual(VALUES);
    const held = scratch.bytes;
    const second = v1Page(['p', 'q'], 'PLAIN', true, 'SNAPPY');
    expect(rowsOf(lazyPage(second.body, second.header, decoder, undefined, scratch))).toEqual(['p', 'q']);
    expect(scratch.bytes).toBe(held);
  });

  it('leaves pages it does not handle to hyparquet', () => {
    const decoder = { ...decoderOf(true, 'UNCOMPRESSED'), type: 'INT32' as const };
    const { header, body } = v1Page(VALUES, 'PLAIN', true, 'UNCOMPRESSED');
    expect(lazyPage(body, header, decoder, undefined)).toBeUndefined();
  });

  it('fails a page whose value runs past its end, naming the column', () => {
    const decoder = decoderOf(false, 'UNCOMPRESSED');
    const { header, body } = v1Page(['abcdef'], 'PLAIN', false, 'UNCOMPRESSED');
    const cut = body.subarray(0, body.length - 2);
    expect(() =>
      lazyPage(
        cut,
        { ...header, uncompressed_page_size: cut.length, compressed_page_size: cut.length },
        decoder,
        undefined,
      ),
    ).toThrow(/parquet column c: page ends inside value 0/);
  });
});
