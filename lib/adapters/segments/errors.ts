import { PermanentError } from '#lib/domain/errors.ts';

/**
 * A cursor the source did not issue, or issued for another segment or an older version of the
 * data. Retrying with the same cursor cannot help; the read must restart from the first page.
 */
export class InvalidSegmentCursorError extends PermanentError {
  override readonly name: string = 'InvalidSegmentCursorError';
  constructor(
    readonly segmentId: string,
    readonly cursor: string,
    readonly problem: string,
  ) {
    super(`Invalid cursor ${JSON.stringify(shorten(cursor))} for segment "${segmentId}": ${problem}`, {
      reason: 'invalid_cursor',
    });
  }
}

/** The source's own configuration or stored data is unusable (bad segments.json, CSV header, segment item). */
export class SegmentSourceConfigError extends PermanentError {
  override readonly name: string = 'SegmentSourceConfigError';
  constructor(message: string) {
    super(message, { reason: 'segment_source_config' });
  }
}

/** Asked to read a segment the source does not know. */
export class SegmentNotFoundError extends PermanentError {
  override readonly name: string = 'SegmentNotFoundError';
  constructor(readonly segmentId: string) {
    super(`Segment "${segmentId}" does not exist`, { reason: 'segment_not_found' });
  }
}

/** Prefix of every `skipped[].reason` a source reports for a row it could not read. */
export const MALFORMED_ROW = 'source_malformed_row';
export const malformed = (why: string): string => `${MALFORMED_ROW}: ${why}`;

const shorten = (text: string): string => (text.length > 60 ? `${text.slice(0, 57)}...` : text);

/** A refresh manifest's declared row counts or checksums disagree with its files. */
export class RefreshManifestMismatchError extends SegmentSourceConfigError {
  override readonly name: string = 'RefreshManifestMismatchError';
  constructor(
    readonly refreshId: string,
    readonly mismatches: string[],
  ) {
    super(`Refresh "${refreshId}" does not match its manifest: ${mismatches.join('; ')}`);
  }
}
