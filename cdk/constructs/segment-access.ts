import type { Stack } from 'aws-cdk-lib';
import { Table } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { SegmentSourceKind } from '../segment-config.ts';
import type { BucketRef, TableRef } from '../stacks/stateful-stack.ts';
import { CHECKPOINT_PREFIX, checkpointObjectsArn, refreshObjectsArn } from './segment-bucket.ts';

/** How a function that reads segments is configured and what it may read. */
export interface SegmentAccess {
  /** The segment source settings of the functions' env schema (functions/shared/env.ts). */
  environment: Record<string, string>;
  /** For reading profiles (pages) and refresh files. */
  grantRead(fn: IFunction): void;
  /** For listing segments and their sizes only (starting a run). */
  grantSizes(fn: IFunction): void;
}

/**
 * Reading segments from the configured source. From S3, a reader may get objects under
 * `refreshes/` and nothing else: it follows the manifest's keys, so it never lists (a missing key
 * answers 403, not 404) and never writes; sizes come from the refresh ledger in the state table, so
 * sizing needs no S3 access at all. From the segment table, both read the table.
 */
export const segmentAccess = (
  stack: Stack,
  source: SegmentSourceKind,
  refs: { bucket: BucketRef; table: TableRef },
): SegmentAccess => {
  if (source === 's3') {
    // s3:GetObject also allows HeadObject and ranged reads (Parquet footers, resumed pages).
    const read = new PolicyStatement({
      actions: ['s3:GetObject'],
      resources: [refreshObjectsArn(refs.bucket.bucketArn)],
    });
    return {
      environment: { SEGMENT_SOURCE: 's3', SEGMENT_BUCKET: refs.bucket.bucketName },
      grantRead: (fn) => fn.addToRolePolicy(read),
      grantSizes: () => {},
    };
  }
  const table = Table.fromTableAttributes(stack, 'SegmentTable', {
    tableArn: refs.table.tableArn,
    globalIndexes: refs.table.indexes,
  });
  return {
    environment: { SEGMENT_SOURCE: 'dynamodb', SEGMENT_TABLE: table.tableName },
    grantRead: (fn) => table.grantReadData(fn),
    grantSizes: (fn) => table.grantReadData(fn),
  };
};

/**
 * The planner's checkpoints in the segment bucket (which exists whatever the segment source): the
 * environment naming them, and a grant on `state/checkpoints/` only. s3:ListBucket, limited to that
 * prefix, is what makes S3 answer 404 rather than 403 for a run with no checkpoint yet (every run's
 * first load); it lists nothing outside the prefix.
 */
export const checkpointAccess = (
  bucket: BucketRef,
): { environment: Record<string, string>; grant(fn: IFunction): void } => {
  const statements = [
    new PolicyStatement({
      // AbortMultipartUpload: a large checkpoint goes up in parts, and a failed upload is abandoned.
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
      resources: [checkpointObjectsArn(bucket.bucketArn)],
    }),
    new PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${CHECKPOINT_PREFIX}*`] } },
    }),
  ];
  return {
    environment: { CHECKPOINT_BUCKET: bucket.bucketName, CHECKPOINT_PREFIX },
    grant: (fn) => {
      for (const statement of statements) fn.addToRolePolicy(statement);
    },
  };
};
