import type { RefreshManifest } from '#lib/domain/refresh-manifest.ts';
import { RefreshManifestMismatchError } from './errors.ts';
import { countRows } from './s3-file-facts.ts';
import { sha256Of } from './s3-objects.ts';
import type { S3FileRef } from './s3-text-file.ts';

/**
 * Checks every declared `rows` and `sha256` against the files, all mismatches in one error.
 * Cost: a file with `sha256` is read whole once (its stored bytes); a CSV/JSONL file with `rows`
 * is read whole once more (decompressed); Parquet `rows` costs only its footer.
 */
export const verifyRefresh = async (
  manifest: RefreshManifest,
  refOf: (segmentId: string, index: number) => S3FileRef,
): Promise<void> => {
  const mismatches: string[] = [];
  for (const segment of manifest.segments) {
    for (const [i, file] of segment.files.entries()) {
      const ref = refOf(segment.id, i);
      const where = `segments[${manifest.segments.indexOf(segment)}].files[${i}] (${file.key})`;
      if (file.rows !== undefined) {
        const rows = await countRows(ref);
        if (rows !== file.rows) mismatches.push(`${where}.rows: declared ${file.rows}, the file has ${rows}`);
      }
      if (file.sha256 !== undefined) {
        const sha256 = await sha256Of(ref.client, ref.bucket, ref.key);
        if (sha256 !== file.sha256)
          mismatches.push(`${where}.sha256: declared ${file.sha256}, the file has ${sha256}`);
      }
    }
  }
  if (mismatches.length > 0) throw new RefreshManifestMismatchError(manifest.refreshId, mismatches);
};
