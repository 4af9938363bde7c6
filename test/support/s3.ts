import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { inject } from 'vitest';
import { encodeCsvRecord } from '#lib/adapters/segments/csv.ts';
import type { SourceProfile } from '#lib/domain/contact.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#local/dynamodb-local.ts';
import { uniqueName } from './aws.ts';

/** An S3 client for the run's fauxqs, which serves S3 on the same endpoint as SQS. */
export const localS3 = (): S3Client =>
  new S3Client({
    endpoint: inject('sqsEndpoint'),
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    // fauxqs answers on 127.0.0.1, where bucket subdomains do not resolve.
    forcePathStyle: true,
  });

export const createBucket = async (s3: S3Client): Promise<string> => {
  const bucket = uniqueName('segments');
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
};

export const putObject = async (
  s3: S3Client,
  bucket: string,
  key: string,
  body: string | Uint8Array,
): Promise<void> => {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
};

/** Writes each file under `refreshes/<refreshId>/` and the manifest beside them. */
export const putRefresh = async (
  s3: S3Client,
  bucket: string,
  refreshId: string,
  manifest: unknown,
  files: Record<string, string | Uint8Array>,
): Promise<void> => {
  for (const [key, body] of Object.entries(files))
    await putObject(s3, bucket, `refreshes/${refreshId}/${key}`, body);
  const text = typeof manifest === 'string' ? manifest : JSON.stringify(manifest);
  await putObject(s3, bucket, `refreshes/${refreshId}/manifest.json`, text);
};

/** `count` profiles with ids `<prefix>1…`, an email and a city. */
export const someProfiles = (prefix: string, count: number): SourceProfile[] =>
  Array.from({ length: count }, (_, i) => ({
    id: `${prefix}${i + 1}`,
    attributes: { email: `${prefix}${i + 1}@example.com`, city: i % 2 === 0 ? 'Lyon' : 'Oslo, "Norway"' },
  }));

export const asJsonl = (profiles: SourceProfile[]): string =>
  profiles.map((p) => JSON.stringify({ id: p.id, ...p.attributes })).join('\n');

export const asCsv = (profiles: SourceProfile[]): string =>
  encodeCsvRecord(['id', 'email', 'city']) +
  profiles
    .map((p) => encodeCsvRecord([p.id, String(p.attributes.email), String(p.attributes.city)]))
    .join('');

/** Small row groups, so a page crosses row-group boundaries. */
export const asParquet = (profiles: SourceProfile[], rowGroupSize = 4): Uint8Array =>
  new Uint8Array(
    parquetWriteBuffer({
      columnData: [
        { name: 'id', data: profiles.map((p) => p.id), type: 'STRING' },
        { name: 'email', data: profiles.map((p) => String(p.attributes.email)), type: 'STRING' },
        { name: 'city', data: profiles.map((p) => String(p.attributes.city)), type: 'STRING' },
      ],
      rowGroupSize,
    }),
  );

export const gzip = (text: string): Uint8Array => gzipSync(text);

export const sha256 = (body: string | Uint8Array): string => createHash('sha256').update(body).digest('hex');
