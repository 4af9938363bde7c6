import type { S3Client } from '@aws-sdk/client-s3';
import {
  MANIFEST_MAX_BYTES,
  parseRefreshManifest,
  type RefreshManifest,
} from '#lib/domain/refresh-manifest.ts';
import { SegmentSourceConfigError } from './errors.ts';
import { readSmallObject } from './s3-objects.ts';

/** The refresh folder: `refreshes/<refreshId>/`, its manifest and files under it. */
export const refreshPrefix = (refreshId: string): string => {
  if (refreshId === '' || refreshId.length > 256 || refreshId.includes('/') || refreshId === '..') {
    throw new SegmentSourceConfigError('refreshId must be one folder name (1–256 characters, no "/")');
  }
  return `refreshes/${refreshId}/`;
};

/** Reads and validates `manifest.json` (at most 1 MB); every problem names its field and the key. */
export const fetchRefreshManifest = async (
  client: S3Client,
  bucket: string,
  refreshId: string,
): Promise<RefreshManifest> => {
  const key = `${refreshPrefix(refreshId)}manifest.json`;
  const text = await readSmallObject(client, bucket, key, MANIFEST_MAX_BYTES);
  const parsed = parseRefreshManifest(text, refreshId);
  if (!parsed.ok) throw new SegmentSourceConfigError(`s3://${bucket}/${key}: ${parsed.problems.join('; ')}`);
  return parsed.manifest;
};
