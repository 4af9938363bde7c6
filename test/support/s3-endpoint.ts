import { S3Client } from '@aws-sdk/client-s3';

/**
 * A client for a local S3 (fauxqs) at `endpoint`, for the processes tests and benchmarks spawn.
 * The same region and credentials as #local/dynamodb-local.ts, written out: importing that module
 * would bundle DynamoDB Local's launcher into every child.
 */
export const localS3Client = (endpoint: string): S3Client =>
  new S3Client({
    endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    // fauxqs answers on 127.0.0.1, where bucket subdomains do not resolve.
    forcePathStyle: true,
  });
