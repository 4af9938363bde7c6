import { brotliDecompressSync, gunzipSync, zstdDecompressSync } from 'node:zlib';
import type { Compressors, FileMetaData } from 'hyparquet';

/*
 * Parquet page codecs from Node's own zlib (gzip, brotli and zstd are built into Node 24), so the
 * planner bundle carries no decompressor library; Snappy, what Spark and most warehouses write, is
 * hyparquet's own. A page never inflates past the size its header declares.
 */

export const PARQUET_COMPRESSORS: Compressors = {
  GZIP: (input, outputLength) => gunzipSync(input, { maxOutputLength: Math.max(1, outputLength) }),
  BROTLI: (input, outputLength) =>
    brotliDecompressSync(input, { maxOutputLength: Math.max(1, outputLength) }),
  ZSTD: (input, outputLength) => zstdDecompressSync(input, { maxOutputLength: Math.max(1, outputLength) }),
};

const READABLE_CODECS: ReadonlySet<string> = new Set([
  'UNCOMPRESSED',
  'SNAPPY',
  ...Object.keys(PARQUET_COMPRESSORS),
]);

/**
 * The first column chunk whose codec this reader cannot decompress (LZ4, LZ4_RAW, LZO), checked
 * from the footer so such a file fails before any row is read rather than pages into it.
 */
export const unreadableCodec = (metadata: FileMetaData): { column: string; codec: string } | undefined => {
  for (const group of metadata.row_groups) {
    for (const chunk of group.columns) {
      const meta = chunk.meta_data;
      if (meta && !READABLE_CODECS.has(meta.codec)) {
        return { column: meta.path_in_schema.join('.'), codec: meta.codec };
      }
    }
  }
  return undefined;
};

/** The codecs a Parquet file may use, for error messages. */
export const readableCodecs = (): string => [...READABLE_CODECS].join(', ');
