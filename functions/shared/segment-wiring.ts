import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDbSegmentSource } from '#lib/adapters/segments/dynamodb-segment-source.ts';
import { FileSegmentSource } from '#lib/adapters/segments/file-segment-source.ts';
import { RefreshSegmentSource } from '#lib/adapters/segments/refresh-segment-source.ts';
import { S3RefreshReader } from '#lib/adapters/segments/s3-refresh-reader.ts';
import type { RefreshReader } from '#lib/ports/refresh-reader.ts';
import type { SegmentSource } from '#lib/ports/segment-source.ts';
import type { State } from '#lib/ports/state.ts';
import type { BaseEnv } from './env.ts';
import type { Overrides } from './wiring.ts';

/*
 * The segment readers, apart from the plumbing every function shares (./wiring.ts): only the planner
 * and the API read segments, and the S3 readers bring the Parquet decoders (~150 KB) with them, which
 * the sender and watchdog bundles have no use for.
 */

export const s3Client = (overrides: Overrides): S3Client => overrides.s3 ?? new S3Client({});

/**
 * Where segments are read: the segment table, a folder of files, or the S3 refresh folders, each
 * segment as its newest complete refresh holds it (counts from the refresh ledger in `state`).
 */
export const segmentSource = (
  env: BaseEnv,
  parts: { dynamo: DynamoDBClient; state: Pick<State, 'refreshes'> },
  overrides: Overrides,
): SegmentSource => {
  if (overrides.segments) return overrides.segments;
  const idField = env.SEGMENT_ID_FIELD;
  if (env.SEGMENT_SOURCE === 'files') return new FileSegmentSource({ dir: env.SEGMENT_DIR ?? '.', idField });
  if (env.SEGMENT_SOURCE === 's3') {
    return new RefreshSegmentSource({
      client: s3Client(overrides),
      bucket: env.SEGMENT_BUCKET ?? '',
      refreshes: parts.state.refreshes,
      idField,
    });
  }
  return new DynamoDbSegmentSource({ client: parts.dynamo, tableName: env.SEGMENT_TABLE ?? '' });
};

/** What a refresh arrival reads its folder with: only where segments come from S3 refreshes. */
export const refreshReader = (
  env: BaseEnv,
  overrides: Overrides,
): { reader: RefreshReader; bucket: string } | undefined =>
  env.SEGMENT_SOURCE === 's3' && env.SEGMENT_BUCKET !== undefined
    ? {
        reader: new S3RefreshReader({
          client: s3Client(overrides),
          bucket: env.SEGMENT_BUCKET,
          idField: env.SEGMENT_ID_FIELD,
        }),
        bucket: env.SEGMENT_BUCKET,
      }
    : undefined;
